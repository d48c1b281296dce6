"""Exercises of Chapter 6 (the four sequence types): cases, answers, hints."""

from __future__ import annotations

from typing import Any

import numpy as np

from book.data.tasks import draw_split, majority_vote, pad_sequences
from book.grading.core import (
    Case,
    Exercise,
    Mismatch,
    call_learner,
    check_function_cases,
    choice_exercise,
    draw_shapes,
    experiment_exercise,
    function_exercise,
    register,
)
from book.nn import rnn_step_forward


# --------------------------------------------------------------------------
# 6.1 output shapes
# --------------------------------------------------------------------------
def output_shape(kind: str, N: int, T: int, D: int, H: int) -> tuple[int, ...]:
    """Reference for 6.1: output shape of SimpleRNN(H) ("last"/"sequences") or Dense(H) ("dense") on (N, T, D)."""
    if kind == "last":
        return (N, H)
    if kind in ("sequences", "dense"):
        return (N, T, H)
    raise ValueError(f"unknown kind {kind!r}")


def _shape_cases(rng: np.random.Generator | None = None) -> list[Case]:
    shapes = [(32, 10, 3, 16), (1, 7, 5, 2)] if rng is None else draw_shapes(rng, 3, N=(1, 64), T=(2, 40), D=(1, 20), H=(1, 50))
    return [
        Case(f"kind={k!r}, N={N}, T={T}, D={D}, H={H}", (k, N, T, D, H))
        for N, T, D, H in shapes
        for k in ("last", "sequences", "dense")
    ]


def _as_shape(out: Any) -> Any:
    if isinstance(out, (tuple, list)):
        try:
            return np.asarray([int(v) for v in out], dtype=np.float64)
        except (TypeError, ValueError):
            raise Mismatch(f"expected a tuple of integers, got {out!r}") from None
    if out is None:
        return None
    raise Mismatch(f"expected a tuple such as (N, T, H), got a {type(out).__name__}")


def _shape_mistake(wrong):
    return lambda *args: _as_shape(wrong(*args))


_SHAPE_MISTAKES = [
    (
        lambda k, N, T, D, H: (N, H) if k in ("sequences", "last") else (N, T, H),
        "return_sequences=True returns every step's state, (N, T, H)",
    ),
    (
        lambda k, N, T, D, H: (N, T, H) if k in ("sequences", "last") else (N, T, H),
        "by default a recurrent layer returns only the final state, (N, H)",
    ),
    (
        lambda k, N, T, D, H: (N, H) if k in ("last", "dense") else (N, T, H),
        "a Dense layer on 3-D input acts on the last axis at every step: (N, T, H)",
    ),
    (
        lambda k, N, T, D, H: (N, T, D) if k != "last" else (N, D),
        "the output width is the number of units H, not the input width D",
    ),
]


def _grade_shape(fn: Any, rng: np.random.Generator | None = None) -> str:
    if not callable(fn):
        raise Mismatch(f"expected a function, got {type(fn).__name__}")

    def wrapped(*args):
        return _as_shape(fn(*args))

    return check_function_cases(
        wrapped,
        _shape_mistake(output_shape),
        _shape_cases(rng),
        ["shape"],
        [(_shape_mistake(w), hint) for w, hint in _SHAPE_MISTAKES],
    )


register(Exercise("6.1", "output shapes of recurrent and dense layers", 1, _grade_shape, hidden=True, kind="implement", stars=1, minutes=10))


# --------------------------------------------------------------------------
# 6.2 which construction
# --------------------------------------------------------------------------
choice_exercise(
    "6.2",
    "which construction translates 12 words into 9",
    1,
    correct="b",
    options="abcd",
    hints={
        "a": "count the outputs: one per input step, so 12, each tied to the word read at that step",
        "c": "RepeatVector copies a single vector; a sentence of 12 words is not one vector",
        "d": "return_sequences=False leaves one vector for the whole sentence; Dense(9) makes 9 numbers of it, not 9 words",
    },
    stars=1,
    minutes=5,
)


# --------------------------------------------------------------------------
# 6.3 masked recurrence
# --------------------------------------------------------------------------
def masked_rnn_forward(x, mask, h0, W_xh, W_hh, b_h):
    """Reference for 6.3: all states (N, T, H); a masked step (mask False) keeps the previous state."""
    N, T, _ = x.shape
    h = np.empty((N, T, h0.shape[1]))
    h_t = h0
    for t in range(T):
        h_new, _ = rnn_step_forward(x[:, t], h_t, W_xh, W_hh, b_h)
        h_t = np.where(mask[:, t, None], h_new, h_t)
        h[:, t] = h_t
    return h


def _mask_cases(rng: np.random.Generator | None = None) -> list[Case]:
    settings = (
        [(3, 5, 2, 4, "post"), (2, 6, 3, 3, "pre"), (4, 4, 2, 2, "mixed")]
        if rng is None
        else [(*s, kind) for s, kind in zip(draw_shapes(rng, 3, N=(1, 5), T=(2, 8), D=(1, 4), H=(1, 5)),
                                            ("post", "pre", "mixed"), strict=True)]
    )
    rng = np.random.default_rng(601) if rng is None else rng
    cases = []
    for N, T, D, H, kind in settings:
        lengths = rng.integers(1, T + 1, size=N)
        lengths[0] = T - 1  # at least one padded step
        steps = np.arange(T)[None, :]
        if kind == "post":
            mask = steps < lengths[:, None]
        elif kind == "pre":
            mask = steps >= (T - lengths)[:, None]
        else:
            mask = rng.random((N, T)) < 0.6
            mask[0, 1] = False
        x = rng.normal(size=(N, T, D)) * mask[..., None]  # padded steps hold zeros
        cases.append(
            Case(
                f"N={N}, T={T}, D={D}, H={H}, {kind} padding",
                (
                    x,
                    mask,
                    rng.normal(size=(N, H)),
                    rng.normal(scale=0.6, size=(D, H)),
                    rng.normal(scale=0.6, size=(H, H)),
                    rng.normal(scale=0.5, size=H),
                ),
            )
        )
    return cases


def _mask_ignored(x, mask, h0, W_xh, W_hh, b_h):
    return masked_rnn_forward(x, np.ones_like(mask), h0, W_xh, W_hh, b_h)


def _mask_zeroes_state(x, mask, h0, W_xh, W_hh, b_h):
    h, h_t = [], h0
    for t in range(x.shape[1]):
        h_new, _ = rnn_step_forward(x[:, t], h_t, W_xh, W_hh, b_h)
        h_t = np.where(mask[:, t, None], h_new, 0.0)
        h.append(h_t)
    return np.stack(h, axis=1)


def _mask_inverted(x, mask, h0, W_xh, W_hh, b_h):
    return masked_rnn_forward(x, ~mask, h0, W_xh, W_hh, b_h)


def _mask_zeroes_output(x, mask, h0, W_xh, W_hh, b_h):
    h = _mask_ignored(x, mask, h0, W_xh, W_hh, b_h)
    return h * mask[..., None]


function_exercise(
    "6.3",
    "a masked recurrence",
    3,
    reference=masked_rnn_forward,
    cases=_mask_cases,
    outputs=["h"],
    mistakes=[
        (_mask_ignored, "the mask is ignored: padded steps still update the state"),
        (_mask_zeroes_state, "at a masked step the state must be carried over, not reset to zero"),
        (_mask_inverted, "the mask is inverted: True marks the real steps"),
        (_mask_zeroes_output, "zeroing the output at padded steps is not enough: the state itself must skip them"),
    ],
    stars=2,
    minutes=15,
)


# --------------------------------------------------------------------------
# 6.4 parameters of an LSTM encoder-decoder with embeddings
# --------------------------------------------------------------------------
def seq2seq_params(V_in: int, V_out: int, E: int, H: int, gates: int = 4, start: int = 1, bias: int = 1) -> int:
    """Reference for 6.4 (defaults): Embedding(V_in, E) + LSTM(H) encoder;
    Embedding(V_out + 1, E) (the start symbol too) + LSTM(H) decoder; Dense(V_out)."""
    rnn = gates * (E * H + H * H + bias * H)
    return V_in * E + rnn + (V_out + start) * E + rnn + H * V_out + bias * V_out


def _s2s_cases(rng: np.random.Generator | None = None) -> list[Case]:
    sizes = (
        [(10, 8, 4, 16), (50, 40, 8, 32), (3, 2, 1, 1)]
        if rng is None
        else draw_shapes(rng, 4, V_in=(2, 500), V_out=(2, 500), E=(1, 64), H=(1, 128))
    )
    return [Case(f"V_in={V}, V_out={W}, E={E}, H={H}", (V, W, E, H)) for V, W, E, H in sizes]


function_exercise(
    "6.4",
    "parameters of an LSTM encoder-decoder",
    2,
    reference=seq2seq_params,
    cases=_s2s_cases,
    outputs=["count"],
    mistakes=[
        (lambda *a: seq2seq_params(*a, gates=1), "that counts a SimpleRNN: an LSTM has four sets of weights (three gates and the candidate)"),
        (lambda *a: seq2seq_params(*a, start=0), "the decoder's embedding needs a row for the start symbol too: V_out + 1 rows"),
        (lambda *a: seq2seq_params(*a, bias=0), "the LSTMs and the Dense layer have biases"),
        (lambda V, W, E, H: seq2seq_params(V, W, E, H) + 2 * H * H, "handing the states over adds no parameters"),
        (lambda V, W, E, H: seq2seq_params(V, W, E, H) - (W + 1) * E - 4 * (E * H + H * H + H), "the decoder is a second LSTM with its own embedding and weights"),
    ],
    stars=2,
    minutes=15,
)


# --------------------------------------------------------------------------
# 6.5 debug: the state at the last real step
# --------------------------------------------------------------------------
def final_states(h, mask):
    """Reference for 6.5: ``h[n, t_n]`` with ``t_n`` the last step where ``mask[n]`` is True."""
    T = mask.shape[1]
    last = T - 1 - np.argmax(mask[:, ::-1], axis=1)
    return h[np.arange(len(h)), last]


def _final_cases(rng: np.random.Generator | None = None) -> list[Case]:
    shapes = [(4, 6, 3), (3, 5, 2), (5, 4, 1)] if rng is None else draw_shapes(rng, 3, N=(3, 7), T=(3, 9), H=(1, 5))
    rng = np.random.default_rng(605) if rng is None else rng
    cases = []
    for N, T, H in shapes:
        lengths = rng.integers(1, T + 1, size=N)
        lengths[:3] = [T, 1, max(1, T - 2)]
        steps = np.arange(T)[None, :]
        mask = steps < lengths[:, None]  # post-padding ...
        pre = rng.random(N) < 0.5
        pre[1:3] = True, False
        mask[pre] = (steps >= (T - lengths)[:, None])[pre]  # ... and pre-padding
        cases.append(Case(f"N={N}, T={T}, H={H}", (rng.normal(size=(N, T, H)), mask)))
    return cases


function_exercise(
    "6.5",
    "the state at the last real step",
    1,
    reference=final_states,
    cases=_final_cases,
    outputs=["h_last"],
    mistakes=[
        (lambda h, m: h[np.arange(len(h)), m.sum(axis=1) - 1], "lengths - 1 is the last real step only when the padding comes after the data"),
        (lambda h, m: h[:, -1], "the last step is padding for a post-padded short sequence"),
        (lambda h, m: h[np.arange(len(h)), np.argmax(m, axis=1)], "that is the first real step, not the last"),
    ],
    kind="debug",
    stars=1,
    minutes=10,
)


# --------------------------------------------------------------------------
# 6.6 experiment: a many-to-one classifier on padded batches
# --------------------------------------------------------------------------
T_MAX = 25
ACCURACY = 0.93


def padded_votes(n: int, part: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Majority votes of odd lengths 7..25, post-padded with zeros to (n, 25, 1); inputs from ``part``."""
    rng = np.random.default_rng(seed)
    lengths = rng.choice(np.arange(7, T_MAX + 1, 2), size=n)
    seqs, labels = [None] * n, np.zeros(n, dtype=np.int64)
    for L in np.unique(lengths):
        where = np.flatnonzero(lengths == L)
        x, y = draw_split(majority_vote, len(where), part, seed=seed, T=int(L))
        for k, i in enumerate(where):
            seqs[i], labels[i] = x[k], y[k]
    return pad_sequences(seqs, maxlen=T_MAX)[0], labels


def evaluate_votes(predict: Any, rng: np.random.Generator | None = None) -> str:
    """Grade 6.6: accuracy of ``predict(x) > 0.5`` on 1000 test-part sequences the notebook never saw."""
    if not callable(predict):
        raise Mismatch(f"expected a function predict(x) -> probabilities, got {type(predict).__name__}")
    seed = 6066 if rng is None else int(rng.integers(10_000, 1_000_000))
    x, y = padded_votes(1000, "test", seed)
    raw = call_learner(predict, x)
    try:
        got = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError):
        raise Mismatch(f"predict returned a {type(raw).__name__}, not numbers") from None
    if got.size != len(y):
        raise Mismatch(f"predict(x) for x of shape {x.shape} returned shape {got.shape}; expected ({len(y)},) or ({len(y)}, 1)")
    if not np.isfinite(got).all():
        raise Mismatch("predict returned NaN or inf")
    accuracy = float(np.mean((got.reshape(-1) > 0.5) == y))
    if accuracy < ACCURACY:
        raise Mismatch(f"test accuracy {accuracy:.3f}, below the threshold {ACCURACY} (always answering 1 gives about 0.5)")
    return f"test accuracy {accuracy:.2f} (threshold {ACCURACY}) on sequences your code never saw"


experiment_exercise("6.6", "a classifier for padded batches", 3, evaluate_votes, stars=2, minutes=20)
