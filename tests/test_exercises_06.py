"""Chapter 6 exercises: the reference answers pass, plausible wrong answers fail with a pointed message."""

from __future__ import annotations

import numpy as np
from helpers import assert_accepted, assert_rejected

from book.grading.checks import ch06 as checks_06


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
    assert_rejected("6.2", "a", "one output per input step")
    assert_rejected("6.2", "c", "one-to-many")
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
    assert_accepted("6.4", checks_06.seq2seq_params)
    assert_accepted("6.4", lambda D, H, E, K: D * H + E * H + 2 * H * H + 2 * H + H * K + K)
    assert_rejected("6.4", lambda D, H, E, K: D * H + E * H + 2 * H * H + H * K + K, "bias of H")
    assert_rejected("6.4", lambda D, H, E, K: 2 * (D * H + H * H + H) + H * K + K, "D_dec")
    assert_rejected("6.4", lambda D, H, E, K: D * H + E * H + 2 * H * H + 2 * H + H * K, "bias of K")
    assert_rejected("6.4", lambda D, H, E, K: checks_06.seq2seq_params(D, H, E, K) + H * H, "no parameters")
    assert_rejected("6.4", lambda D, H, E, K: D * H + H * H + H + H * K + K, "second recurrent layer")
