"""Chapter 7 exercises: the reference answers pass, plausible wrong answers fail with a pointed message."""

from __future__ import annotations

import numpy as np
from helpers import assert_accepted, assert_rejected

from book.grading.checks import ch07 as checks_07
from book.nn import gru_step_forward, lstm_step_forward, sigmoid


def _lstm(order="ifco", forget=True, out_tanh=True, cand=np.tanh):
    def step(x, h, c, W_x, W_h, b):
        H = h.shape[1]
        a = x @ W_x + h @ W_h + b
        blk = {name: a[:, k * H : (k + 1) * H] for k, name in enumerate(order)}
        i, f, o = sigmoid(blk["i"]), sigmoid(blk["f"]), sigmoid(blk["o"])
        c_next = (f * c if forget else c) + i * cand(blk["c"])
        return o * (np.tanh(c_next) if out_tanh else c_next), c_next, None

    return step


def test_7_1_lstm_step():
    assert_accepted("7.1", lstm_step_forward)
    assert_accepted("7.1", _lstm())
    assert_rejected("7.1", _lstm(order="ifoc"), "gate order")
    assert_rejected("7.1", _lstm(order="fico"), "gate order")
    assert_rejected("7.1", _lstm(forget=False), "forget gate")
    assert_rejected("7.1", _lstm(out_tanh=False), "tanh")
    assert_rejected("7.1", _lstm(cand=sigmoid), "candidate")
    assert_rejected("7.1", lambda x, h, c, Wx, Wh, b: _lstm()(x, h, c, Wx, Wh, 0 * b), "bias")
    assert_rejected("7.1", lambda *a: _lstm()(*a)[:1], "expected at least 2")


def _gru(swap=False, reset="after", bias_in=True, use_b1=True):
    def step(x, h, W_x, W_h, b):
        H = h.shape[1]
        b1 = b[1] if use_b1 else 0 * b[1]
        mx, mh = x @ W_x + b[0], h @ W_h + b1
        z = sigmoid(mx[:, :H] + mh[:, :H])
        r = sigmoid(mx[:, H : 2 * H] + mh[:, H : 2 * H])
        if reset == "after":
            inner = r * mh[:, 2 * H :] if bias_in else r * (h @ W_h[:, 2 * H :]) + b1[2 * H :]
        else:
            inner = (r * h) @ W_h[:, 2 * H :] + b1[2 * H :]
        hh = np.tanh(mx[:, 2 * H :] + inner)
        return ((1 - z) * h + z * hh) if swap else (z * h + (1 - z) * hh), None

    return step


def test_7_2_gru_step():
    assert_accepted("7.2", gru_step_forward)
    assert_accepted("7.2", _gru())
    assert_rejected("7.2", _gru(swap=True), "swapped")
    assert_rejected("7.2", _gru(reset="before"), "before the matrix product")
    assert_rejected("7.2", _gru(bias_in=False), "inside the reset product")
    assert_rejected("7.2", _gru(use_b1=False), "b[1] is missing")
    assert_rejected("7.2", lambda x, h, Wx, Wh, b: (_gru()(x, h, Wx, Wh, b)[0].T, None), "shape")


def test_7_3_parameter_counts():
    def counts(gates_lstm=4, extra=3, bias=1, bi=2, ra_extra_when=True):
        def count(cell, D, H, bidirectional=False, reset_after=True):
            block = D * H + H * H + bias * H
            gru_extra = extra * H if reset_after == ra_extra_when else 0
            n = {"simple": block, "lstm": gates_lstm * block, "gru": 3 * block + gru_extra}[cell]
            return bi * n if bidirectional else n

        return count

    assert_accepted("7.3", checks_07.count_params)
    assert_accepted("7.3", counts())
    assert_rejected("7.3", counts(extra=0), "3H")
    assert_rejected("7.3", counts(ra_extra_when=False), "3H")
    assert_rejected("7.3", counts(extra=1), "not H")
    assert_rejected("7.3", counts(gates_lstm=3), "four blocks")
    assert_rejected("7.3", counts(bi=1), "double")
    assert_rejected("7.3", counts(bias=0, extra=0), "biases are missing")


def test_7_4_choice():
    assert_accepted("7.4", "b")
    assert_accepted("7.4", "B ")
    assert_rejected("7.4", "a", "backward")
    assert_rejected("7.4", "c", "forward direction")
    assert_rejected("7.4", "d", "no parameters")
