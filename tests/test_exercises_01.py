"""Chapter 1 exercises: the reference answers pass, plausible wrong answers fail with a pointed message."""

from __future__ import annotations

import numpy as np
from helpers import assert_accepted, assert_rejected

from book.grading.checks import ch01 as checks_01
from book.nn import rnn_step_forward


def test_1_1_one_step():
    assert_accepted("1.1", rnn_step_forward)
    assert_rejected("1.1", lambda x, h, Wx, Wh, b: (np.tanh(x @ Wx + h @ Wh), None), "bias")
    assert_rejected("1.1", lambda x, h, Wx, Wh, b: (np.tanh(x @ Wx + h @ Wh.T + b), None), "transposed")
    assert_rejected("1.1", lambda x, h, Wx, Wh, b: (x @ Wx + h @ Wh + b, None), "tanh")
    assert_rejected("1.1", lambda x, h, Wx, Wh, b: (np.tanh(x @ Wx + b), None), "h_prev")
    assert_rejected("1.1", lambda x, h, Wx, Wh, b: (np.tanh(x @ Wx + h @ Wh + b).T, None), "shape")
    assert_rejected("1.1", lambda x, h, Wx, Wh, b: (np.full((x.shape[0], Wh.shape[0]), np.nan), None), "nan")
    assert_rejected("1.1", lambda x, h, Wx, Wh, b: 1 / 0, "ZeroDivisionError")


def test_1_2_parameter_count():
    assert_accepted("1.2", checks_01.count_params)
    assert_rejected("1.2", lambda D, H, T, s: (D * H + H * H) * (1 if s else T), "bias")
    assert_rejected("1.2", lambda D, H, T, s: (D * H + H) * (1 if s else T), "W_hh")
    assert_rejected("1.2", lambda D, H, T, s: T * (D * H + H * H + H), "does not grow")
    assert_rejected("1.2", lambda D, H, T, s: D * H + H * H + H, "own copy")


def test_1_3_final_state():
    def loop(x, h0, Wx, Wh, b, steps):
        h = h0
        for t in steps(x.shape[1]):
            h = np.tanh(x[:, t] @ Wx + h @ Wh + b)
        return h

    assert_accepted("1.3", checks_01.final_state)
    assert_accepted("1.3", lambda x, h0, Wx, Wh, b: loop(x, h0, Wx, Wh, b, range))
    assert_rejected("1.3", lambda x, h0, Wx, Wh, b: loop(x, h0, Wx, Wh, b, lambda T: range(T - 1)), "off by one")
    assert_rejected("1.3", lambda x, h0, Wx, Wh, b: np.tanh(x[:, -1] @ Wx + h0 @ Wh + b), "h0")
    assert_rejected(
        "1.3", lambda x, h0, Wx, Wh, b: loop(x, h0, Wx, Wh, b, lambda T: reversed(range(T))), "backwards"
    )
    assert_rejected("1.3", lambda x, h0, Wx, Wh, b: loop(x, h0, Wx, Wh, b, range)[None], "shape")


def test_1_4_choice():
    assert_accepted("1.4", "c")
    assert_accepted("1.4", " C ")
    assert_rejected("1.4", "a", "simple RNN")
    assert_rejected("1.4", "d", "fixed-size")
    assert_rejected("1.4", 3, "one letter")
