"""Chapter 6 exercises: the reference answers pass, plausible wrong answers fail with a pointed message."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import assert_accepted, assert_rejected

from book.grading import get_exercise
from book.grading.checks import ch06 as checks_06


def assert_hidden_rejects(exercise_id: str, answer) -> None:
    """An answer right on the visible cases only: accepted there, rejected on hidden ones."""
    assert_accepted(exercise_id, answer)
    for seed in range(3):
        result = get_exercise(exercise_id).run(answer, rng=np.random.default_rng(seed))
        assert result.status == "failed", f"{exercise_id}: hidden cases missed a special-cased answer"


def test_6_1_output_shapes():
    assert_accepted("6.1", checks_06.output_shape)
    assert_accepted("6.1", lambda k, N, T, D, H: [N, H] if k == "last" else [N, T, H])
    assert_rejected("6.1", lambda k, N, T, D, H: (N, H) if k != "dense" else (N, T, H), "every step")
    assert_rejected("6.1", lambda k, N, T, D, H: (N, T, H), "final state")
    assert_rejected("6.1", lambda k, N, T, D, H: (N, T, H) if k == "sequences" else (N, H), "dense", "last axis")
    assert_rejected("6.1", lambda k, N, T, D, H: (N, D) if k == "last" else (N, T, D), "units H")
    assert_rejected("6.1", lambda k, N, T, D, H: np.zeros((N, H)), "tuple")
    assert_rejected("6.1", lambda k, N, T, D, H: (N, T, None), "integers")


def test_6_2_choice():
    assert_accepted("6.2", "b")
    assert_rejected("6.2", "a", "one per input step")
    assert_rejected("6.2", "c", "single vector")
    assert_rejected("6.2", "d", "one vector")
    assert_rejected("6.2", "bd", "one letter")


def _loop(x, mask, h0, W_xh, W_hh, b_h, update):
    h, out = h0, []
    for t in range(x.shape[1]):
        new = np.tanh(x[:, t] @ W_xh + h @ W_hh + b_h)
        h = update(mask[:, t, None], new, h)
        out.append(h)
    return np.stack(out, axis=1)


def test_6_3_masked_recurrence():
    assert_accepted("6.3", checks_06.masked_rnn_forward)
    assert_accepted("6.3", lambda *a: _loop(*a, lambda m, new, h: m * new + (1 - m) * h))
    assert_rejected("6.3", lambda *a: _loop(*a, lambda m, new, h: new), "mask is ignored")
    assert_rejected("6.3", lambda *a: _loop(*a, lambda m, new, h: np.where(m, new, 0.0)), "carried over")
    assert_rejected("6.3", lambda *a: _loop(*a, lambda m, new, h: np.where(m, h, new)), "inverted")
    assert_rejected(
        "6.3",
        lambda x, mask, *rest: _loop(x, mask, *rest, lambda m, new, h: new) * mask[..., None],
        "carried over",
    )
    assert_rejected("6.3", lambda *a: _loop(*a, lambda m, new, h: np.where(m, new, h))[:, :-1], "shape")


def test_6_4_seq2seq_params():
    params = checks_06.seq2seq_params
    assert_accepted("6.4", params)
    assert_accepted("6.4", lambda V, W, E, H: V * E + (W + 1) * E + 8 * (E * H + H * H + H) + H * W + W)
    assert_rejected("6.4", lambda *a: params(*a, gates=1), "SimpleRNN")
    assert_rejected("6.4", lambda *a: params(*a, start=0), "start symbol")
    assert_rejected("6.4", lambda *a: params(*a, bias=0), "biases")
    assert_rejected("6.4", lambda V, W, E, H: params(V, W, E, H) + 2 * H * H, "no parameters")
    assert_rejected("6.4", lambda V, W, E, H: V * E + 4 * (E * H + H * H + H) + H * W + W, "second LSTM")
    visible = {case.args: params(*case.args) for case in checks_06._s2s_cases()}
    assert_hidden_rejects("6.4", lambda *a: visible.get(a, 0))


def test_6_4_matches_keras():
    keras = pytest.importorskip("keras")
    V, W, E, H = 11, 9, 5, 6
    src = keras.Input((None,), dtype="int32")
    _, h, c = keras.layers.LSTM(H, return_state=True)(keras.layers.Embedding(V, E)(src))
    prev = keras.Input((None,), dtype="int32")
    states = keras.layers.LSTM(H, return_sequences=True)(keras.layers.Embedding(W + 1, E)(prev), initial_state=[h, c])
    model = keras.Model([src, prev], keras.layers.Dense(W)(states))
    assert model.count_params() == checks_06.seq2seq_params(V, W, E, H)


def test_6_5_last_real_step():
    assert_accepted("6.5", checks_06.final_states)
    last = lambda m: m.shape[1] - 1 - np.argmax(np.flip(m, 1), axis=1)  # noqa: E731
    assert_accepted("6.5", lambda h, m: np.stack([h[n, last(m)[n]] for n in range(len(h))]))
    assert_rejected("6.5", lambda h, m: h[np.arange(len(h)), m.sum(axis=1) - 1], "padding comes after")
    assert_rejected("6.5", lambda h, m: h[:, -1], "last step is padding")
    assert_rejected("6.5", lambda h, m: h[np.arange(len(h)), np.argmax(m, axis=1)], "first real step")
    assert_rejected("6.5", lambda h, m: h[:, m.sum(axis=1) - 1], "shape")
    # the given code fails with an error, not silently
    assert_rejected("6.5", lambda h, m: h[:, m.sum(axis=1)], "IndexError")
    cases = checks_06._final_cases()
    seen = {c.args[0].tobytes(): checks_06.final_states(*c.args) for c in cases}
    assert_hidden_rejects("6.5", lambda h, m: seen.get(h.tobytes(), h[:, -1]))


def test_6_6_votes_experiment():
    rule = lambda x: (x.sum(axis=(1, 2)) > 0).astype(float)  # noqa: E731
    assert_accepted("6.6", rule)
    assert_accepted("6.6", lambda x: rule(x)[:, None])
    assert_rejected("6.6", lambda x: np.ones(len(x)), "accuracy 0.4", "threshold 0.93")
    assert_rejected("6.6", lambda x: (x[:, :7].sum(axis=(1, 2)) > 0).astype(float), "below the threshold")
    # memorising the training inputs: the test part shares none of them
    x_train, y_train = checks_06.padded_votes(3000, "train", seed=0)
    table = {row.tobytes(): label for row, label in zip(x_train, y_train, strict=True)}
    assert_rejected("6.6", lambda x: np.array([table.get(r.tobytes(), 0) for r in x], float), "threshold")
    assert_rejected("6.6", lambda x: rule(x)[:-1], "shape")
    assert_rejected("6.6", lambda x: np.full(len(x), np.nan), "nan")
    # right on the visible test set only
    x_vis, y_vis = checks_06.padded_votes(1000, "test", 6066)
    known = {r.tobytes(): y for r, y in zip(x_vis, y_vis, strict=True)}
    assert_hidden_rejects("6.6", lambda x: np.array([known.get(r.tobytes(), 1) for r in x], float))
