"""Exercises of Chapter 2 (unfolding through time): cases, answers, hints."""

from __future__ import annotations

import numpy as np

from book.grading.checks.ch01 import hidden_sequence_shapes, rnn_sequence_cases
from book.grading.core import Case, choice_exercise, draw_shapes, function_exercise
from book.nn import rnn_forward, rnn_step_forward


def _seq_cases(rng: np.random.Generator | None = None) -> list[Case]:
    if rng is not None:
        return rnn_sequence_cases(rng, hidden_sequence_shapes(rng), bias_scale=0.5)
    return rnn_sequence_cases(201, [(2, 5, 3, 4), (3, 1, 2, 3), (1, 8, 4, 4)], bias_scale=0.5)


# Plausible mistakes for 2.1, each recognised and named in the feedback.
def _states_before_each_step(x, h0, W_xh, W_hh, b_h):
    h, _ = rnn_forward(x, h0, W_xh, W_hh, b_h)
    return np.concatenate([h0[:, None], h[:, :-1]], axis=1), None


def _every_step_from_h0(x, h0, W_xh, W_hh, b_h):
    T = x.shape[1]
    h = np.stack([rnn_step_forward(x[:, t], h0, W_xh, W_hh, b_h)[0] for t in range(T)], axis=1)
    return h, None


def _no_bias_seq(x, h0, W_xh, W_hh, b_h):
    return rnn_forward(x, h0, W_xh, W_hh, np.zeros_like(b_h))


def _transposed_W_hh_seq(x, h0, W_xh, W_hh, b_h):
    return rnn_forward(x, h0, W_xh, W_hh.T, b_h)


def _reversed_in_time(x, h0, W_xh, W_hh, b_h):
    return rnn_forward(x[:, ::-1], h0, W_xh, W_hh, b_h)


function_exercise(
    "2.1",
    "the unrolled forward pass",
    3,
    reference=rnn_forward,
    cases=_seq_cases,
    outputs=["h"],
    mistakes=[
        (
            _states_before_each_step,
            "off by one in time: h[:, t] must be the state AFTER step t+1 (h_1 .. h_T), not h_0 .. h_{T-1}",
        ),
        (_every_step_from_h0, "each step must start from the state of the step before, not from h0"),
        (_no_bias_seq, "looks like the bias b_h is missing"),
        (_transposed_W_hh_seq, "looks like W_hh is transposed: with row vectors it is h_prev @ W_hh"),
        (_reversed_in_time, "the steps ran backwards in time: start at x[:, 0]"),
    ],
    stars=2,
    minutes=15,
)


def rnn_outputs(h, W_hy, b_y):
    """Reference for 2.2: y_t = h_t W_hy + b_y at every step; h (N, T, H) -> y (N, T, K)."""
    return h @ W_hy + b_y


def _output_cases(rng: np.random.Generator | None = None) -> list[Case]:
    shapes = [(2, 4, 3, 3), (1, 6, 5, 2), (3, 2, 4, 4)] if rng is None else draw_shapes(rng, 4, N=(1, 4), T=(1, 8), H=(1, 6), K=(1, 6))
    rng = np.random.default_rng(202) if rng is None else rng
    cases = []
    for N, T, H, K in shapes:
        cases.append(
            Case(
                f"N={N}, T={T}, H={H}, K={K}",
                (np.tanh(rng.normal(size=(N, T, H))), rng.normal(size=(H, K)), rng.normal(size=K)),
            )
        )
    return cases


function_exercise(
    "2.2",
    "an output at every step",
    2,
    reference=rnn_outputs,
    cases=_output_cases,
    outputs=["y"],
    mistakes=[
        (lambda h, W, b: h @ W, "looks like the output bias b_y is missing"),
        (lambda h, W, b: h @ W.T + b, "looks like W_hy is transposed: with row vectors it is h @ W_hy"),
        (lambda h, W, b: np.tanh(h @ W + b), "y_t is linear in h_t here: no tanh on the output"),
    ],
    stars=2,
    minutes=15,
)


def unrolled_size(T: int, outputs: bool) -> tuple[int, int]:
    """Reference for 2.3: (nodes, edges) of the graph unrolled over T steps."""
    return (3 * T + 1, 3 * T) if outputs else (2 * T + 1, 2 * T)


def _size_cases(rng: np.random.Generator | None = None) -> list[Case]:
    # T = 4 comes first: at T = 1 several different mistakes give the same
    # numbers (the folded graph's (3, 3) is also 3T nodes and 3T edges), so a
    # hint matched there could name the wrong one.  At T = 4 they all differ.
    steps = (4, 25, 1) if rng is None else tuple(int(t) for t in rng.integers(2, 500, size=3))
    return [Case(f"T={T}, outputs={o}", (T, o)) for T in steps for o in (True, False)]


function_exercise(
    "2.3",
    "counting the unrolled graph",
    2,
    reference=unrolled_size,
    cases=_size_cases,
    outputs=["nodes", "edges"],
    mistakes=[
        (
            lambda T, o: (3 * T, 3 * T) if o else (2 * T, 2 * T),
            "the edges are right but a node is missing: the initial state h_0 is a node too"
            " (it feeds h_1 through W_hh)",
        ),
        (
            lambda T, o: (3 * T, 3 * T - 1) if o else (2 * T, 2 * T - 1),
            "h_0 and its edge are missing: the chain starts at the initial state h_0,"
            " a node with an edge h_0 -> h_1",
        ),
        (
            lambda T, o: (3 * T + 1, 3 * T - 1) if o else (2 * T + 1, 2 * T - 1),
            "there are T recurrent edges, h_0 -> h_1 included, not T - 1",
        ),
        (
            lambda T, o: (3 * T + 1, 3 * T),
            "without outputs there is no y_t node and no W_hy edge",
        ),
        (
            lambda T, o: (3, 3) if o else (2, 2),
            "that is the folded graph (one cell with a self-loop: 3 nodes, 3 edges);"
            " unrolling makes one copy of the cell per step, so the counts grow with T",
        ),
        (
            lambda T, o: (4, 3) if o else (3, 2),
            "that is the graph for T = 1 (h_0 and one copy of the cell), whatever T is;"
            " unrolling makes one copy per step, so the counts grow with T",
        ),
    ],
    stars=2,
    minutes=15,
)


choice_exercise(
    "2.4",
    "Keras weights in the sources' letters",
    1,
    correct="b",
    options="abcd",
    hints={
        "a": "Keras stores batch-first (row-vector) weights: kernel is (D, H) = (8, 16), the transpose"
        " of the sources' U (16, 8)",
        "c": "the kernel multiplies the input x_t, so it is W_xh (the transpose of the sources' U),"
        " not the recurrent matrix",
        "d": "V (whose transpose is W_hy) is the output matrix; it belongs to the Dense layer,"
        " not to SimpleRNN",
    },
    stars=1,
    minutes=5,
)
