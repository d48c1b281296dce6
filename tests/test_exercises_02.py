"""Chapter 2 exercises: the reference answers pass, plausible wrong answers fail with a pointed message."""

from __future__ import annotations

import numpy as np
from helpers import assert_accepted, assert_rejected, grade_one

from book.grading.checks import ch02 as checks_02
from book.nn import rnn_forward


def _loop(x, h0, Wx, Wh, b, steps=range, start_from_h0=False, keep_before=False):
    N, T, _ = x.shape
    out = np.zeros((N, T, h0.shape[1]))
    h = h0
    for t in steps(T):
        before = h
        h = np.tanh(x[:, t] @ Wx + (h0 if start_from_h0 else h) @ Wh + b)
        out[:, t] = before if keep_before else h
    return out, None


def test_2_1_forward():
    assert_accepted("2.1", rnn_forward)
    assert_accepted("2.1", lambda *a: _loop(*a))
    assert_rejected("2.1", lambda *a: _loop(*a, keep_before=True), "off by one")
    assert_rejected("2.1", lambda *a: _loop(*a, start_from_h0=True), "h0")
    assert_rejected("2.1", lambda x, h0, Wx, Wh, b: _loop(x, h0, Wx, Wh, 0 * b), "bias")
    assert_rejected("2.1", lambda x, h0, Wx, Wh, b: _loop(x, h0, Wx, Wh.T, b), "transposed")
    assert_rejected("2.1", lambda x, h0, Wx, Wh, b: _loop(x[:, ::-1], h0, Wx, Wh, b), "backwards")
    assert_rejected("2.1", lambda *a: (_loop(*a)[0][:, -1], None), "shape")
    assert_rejected("2.1", lambda *a: (_loop(*a)[0].transpose(1, 0, 2), None), "shape")


def test_2_2_outputs():
    assert_accepted("2.2", checks_02.rnn_outputs)
    assert_accepted("2.2", lambda h, W, b: np.einsum("nth,hk->ntk", h, W) + b)
    assert_rejected("2.2", lambda h, W, b: h @ W, "bias")
    assert_rejected("2.2", lambda h, W, b: h @ W.T + b, "transposed")
    assert_rejected("2.2", lambda h, W, b: np.tanh(h @ W + b), "tanh")
    assert_rejected("2.2", lambda h, W, b: h[:, -1] @ W + b, "shape")
    assert_rejected("2.2", lambda h, W, b: np.full(h.shape[:2] + b.shape, np.nan), "nan")


def _message(exercise_id, answer):
    return grade_one(exercise_id, answer).message


def test_2_3_counting():
    assert_accepted("2.3", checks_02.unrolled_size)
    # the initial state left out as a node (edges right), or with its edge too
    assert_rejected("2.3", lambda T, o: (3 * T, 3 * T) if o else (2 * T, 2 * T), "node is missing", "h_0")
    assert_rejected("2.3", lambda T, o: (3 * T, 3 * T - 1) if o else (2 * T, 2 * T - 1), "h_0 and its edge")
    assert_rejected("2.3", lambda T, o: (3 * T + 1, 3 * T - 1) if o else (2 * T + 1, 2 * T - 1), "T - 1")
    assert_rejected("2.3", lambda T, o: (3 * T + 1, 3 * T), "without outputs")
    assert_rejected("2.3", lambda T, o: 3 * T + 1, "tuple")


def test_2_3_folded_and_one_step_answers_get_true_hints():
    # The chapter prints the folded graph as 3 nodes and 3 edges (2 and 2
    # without outputs): that answer, for every T, is told it is the folded graph,
    # not that h_0 is missing (at T = 1 it coincides with 3T nodes and 3T edges).
    folded = lambda T, o: (3, 3) if o else (2, 2)  # noqa: E731
    assert_rejected("2.3", folded, "folded graph", "3 nodes, 3 edges", "grow with T")
    assert "h_0 is a node" not in _message("2.3", folded)
    # (4, 3) is not the folded graph: it is the unrolled graph for T = 1.
    one_step = lambda T, o: (4, 3) if o else (3, 2)  # noqa: E731
    assert_rejected("2.3", one_step, "graph for T = 1", "grow with T")
    assert "folded" not in _message("2.3", one_step)
    assert checks_02.unrolled_size(1, True) == (4, 3)  # which is what T = 1 really gives
    assert checks_02.unrolled_size(1, False) == (3, 2)


def test_2_4_choice():
    assert_accepted("2.4", "b")
    assert_accepted("2.4", " B")
    assert_rejected("2.4", "a", "batch-first", "transpose of the sources' U")
    assert_rejected("2.4", "c", "W_xh", "transpose")
    assert_rejected("2.4", "d", "Dense")
    assert_rejected("2.4", "kernel", "one letter")
