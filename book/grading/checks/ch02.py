"""Exercises of Chapter 2 (unfolding through time): cases, answers, hints.

2.3 is a debug exercise (an answer that still computes what the given buggy
code does is "not attempted"); 2.5 an experiment scored on sequences the
grader makes.
"""

from __future__ import annotations

from math import comb
from typing import Any

import numpy as np

from book.grading.checks.ch01 import hidden_sequence_shapes, rnn_sequence_cases
from book.grading.core import (
    Case,
    Mismatch,
    call_learner,
    choice_exercise,
    debug_exercise,
    draw_shapes,
    experiment_exercise,
    function_exercise,
    value_exercise,
)


def _run(x, h0, W_xh, W_hh, b_h, starts=None, reset_after=False, zeros=False):
    """The unrolled forward pass, optionally with state resets (and models of slips with them)."""
    N, T, _ = x.shape
    h, out = h0, np.empty((N, T, h0.shape[1]))
    start_state = np.zeros_like(h0) if zeros else h0
    for t in range(T):
        if starts is not None and not reset_after:
            h = np.where(starts[:, t, None], start_state, h)
        h = np.tanh(x[:, t] @ W_xh + h @ W_hh + b_h)
        if starts is not None and reset_after:
            h = np.where(starts[:, t, None], start_state, h)
        out[:, t] = h
    return out


# --------------------------------------------------------------------------
# 2.1 the forward pass over a stream of documents (implement)
# --------------------------------------------------------------------------
def rnn_forward_resets(x, starts, h0, W_xh, W_hh, b_h):
    """Reference for 2.1: where ``starts[n, t]``, step t of sequence n starts from h0[n]."""
    return _run(x, h0, W_xh, W_hh, b_h, starts)


def _reset_cases(rng: np.random.Generator | None = None) -> list[Case]:
    shapes = [(2, 6, 3, 4), (3, 5, 2, 3), (1, 8, 4, 2)] if rng is None else hidden_sequence_shapes(rng)
    shapes = [(N, max(T, 3), D, H) for N, T, D, H in shapes]
    base = rnn_sequence_cases(201 if rng is None else rng, shapes, bias_scale=0.5)
    gen = np.random.default_rng(202) if rng is None else rng
    cases = []
    for case, (N, T, _, _) in zip(base, shapes, strict=True):
        x, h0, W_xh, W_hh, b_h = case.args
        starts = gen.random((N, T)) < 0.3
        starts[0, 0] = False
        starts[0, 1 + int(gen.integers(0, T - 1))] = True  # every case has a reset after t = 0
        cases.append(Case(f"{case.label}, {int(starts.sum())} resets", (x, starts, h0, W_xh, W_hh, b_h)))
    return cases


function_exercise(
    "2.1",
    "the forward pass over a stream of documents",
    3,
    reference=rnn_forward_resets,
    cases=_reset_cases,
    outputs=["h"],
    mistakes=[
        (
            lambda x, s, h0, Wx, Wh, b: _run(x, h0, Wx, Wh, b, s, reset_after=True),
            "the state was reset AFTER the step: at a start, the step itself must read h0 in place of h_{t-1}",
        ),
        (lambda x, s, h0, Wx, Wh, b: _run(x, h0, Wx, Wh, b), "the resets are ignored"),
        (
            lambda x, s, h0, Wx, Wh, b: _run(x, h0, Wx, Wh, b, s, zeros=True),
            "a new document starts from the given h0 (its own row), not from zeros",
        ),
        (
            lambda x, s, h0, Wx, Wh, b: _run(x, h0, Wx, Wh, b, np.roll(s, 1, axis=1) & (np.arange(s.shape[1]) > 0)),
            "off by one in time: the reset belongs to step t itself, not to step t+1",
        ),
    ],
    stars=2,
    minutes=20,
)


# --------------------------------------------------------------------------
# 2.2 the unrolled graph of a stacked network (derive, as a function of T and L)
# --------------------------------------------------------------------------
def stacked_size(T: int, L: int) -> tuple[int, int]:
    """Reference for 2.2: (nodes, edges) of L stacked layers unrolled over T steps, outputs on top."""
    return L + T * (L + 2), T * (2 * L + 1)


def _stacked_cases(rng: np.random.Generator | None = None) -> list[Case]:
    sizes = [(4, 2), (10, 3), (7, 1)] if rng is None else draw_shapes(rng, 4, T=(2, 300), L=(2, 8))
    return [Case(f"T={T}, L={L}", (T, L)) for T, L in sizes]


function_exercise(
    "2.2",
    "the unrolled graph of a stacked network",
    2,
    reference=stacked_size,
    cases=_stacked_cases,
    outputs=["nodes", "edges"],
    mistakes=[
        (
            lambda T, L: (1 + T * (L + 2), T * (2 * L + 1)),
            "every layer has its own initial state h_0, a node that feeds its first step",
        ),
        (
            lambda T, L: (L + T * (L + 2), T * (L + 2)),
            "each layer has its own recurrent edge h_{t-1} -> h_t at every step",
        ),
        (
            lambda T, L: (L + T * (2 * L + 1), T * (2 * L + 1)),
            "the states are shared between the edges: per step there are x_t, L states and y_t",
        ),
        (lambda T, L: (L * (3 * T + 1), L * 3 * T), "the layers are stacked, not L separate networks with outputs"),
        (lambda T, L: (2 * L + 1, 2 * L + 1), "that is the folded graph; unrolling makes one copy per step"),
    ],
    kind="derive",
    stars=2,
    minutes=10,
)


# --------------------------------------------------------------------------
# 2.3 every state is the last one (debug)
# --------------------------------------------------------------------------
def forward_with_outputs(x, h0, W_xh, W_hh, b_h, W_hy, b_y):
    """Reference for 2.3: all states (N, T, H) and all outputs (N, T, K)."""
    h = _run(x, h0, W_xh, W_hh, b_h)
    return h, h @ W_hy + b_y


def _aliased(x, h0, W_xh, W_hh, b_h, W_hy, b_y):
    """The given buggy code: it appends the same array T times, so every state is h_T."""
    h = _run(x, h0, W_xh, W_hh, b_h)
    h = np.repeat(h[:, -1:], x.shape[1], axis=1)
    return h, h @ W_hy + b_y


def _output_cases(rng: np.random.Generator | None = None) -> list[Case]:
    shapes = [(2, 4, 3, 3), (1, 6, 2, 4), (3, 3, 4, 2)] if rng is None else hidden_sequence_shapes(rng)
    shapes = [(N, max(T, 2), D, H) for N, T, D, H in shapes]
    base = rnn_sequence_cases(203 if rng is None else rng, shapes)
    gen = np.random.default_rng(204) if rng is None else rng
    cases = []
    for case in base:
        H = case.args[1].shape[1]
        K = int(gen.integers(1, 5))
        W_hy, b_y = gen.normal(size=(H, K)), gen.normal(size=K)
        cases.append(Case(f"{case.label}, K={K}", (*case.args, W_hy, b_y)))
    return cases


def _states_before(x, h0, W_xh, W_hh, b_h, W_hy, b_y):
    h = _run(x, h0, W_xh, W_hh, b_h)
    h = np.concatenate([h0[:, None], h[:, :-1]], axis=1)
    return h, h @ W_hy + b_y


debug_exercise(
    "2.3",
    "every state is the last one",
    2,
    reference=forward_with_outputs,
    buggy=_aliased,
    cases=_output_cases,
    outputs=["h", "y"],
    mistakes=[
        (_aliased, "every stored state is h_T: the list holds T references to one array, updated in place"),
        (_states_before, "off by one in time: h[:, t] must be the state after step t+1, not before it"),
    ],
    stars=2,
    minutes=15,
)


# --------------------------------------------------------------------------
# 2.4 unrolling over a longer sequence (interpret)
# --------------------------------------------------------------------------
choice_exercise(
    "2.4",
    "what a ten times longer sequence costs",
    1,
    correct="b",
    options="abcd",
    hints={
        "a": "unrolling copies the computation, not the weights: every copy of the cell reads the same arrays",
        "c": "to differentiate the chain later, the states h_0 .. h_T it computed have to be kept",
        "d": "count what one step adds to the graph when it has an output: more than one node and one edge",
    },
    stars=1,
    minutes=5,
)


# --------------------------------------------------------------------------
# 2.5 read a delayed input off a fixed random network (experiment)
# --------------------------------------------------------------------------
DELAY, WARMUP, R2_NEEDED = 5, 10, 0.9


def evaluate_delay(predict: Any, rng: np.random.Generator | None = None) -> str:
    """2.5: R^2 of ``predict(u)`` against u delayed by DELAY steps, on sequences the grader makes."""
    if not callable(predict):
        raise Mismatch(f"expected your prediction function, got {type(predict).__name__}")
    gen = np.random.default_rng(2501) if rng is None else rng
    N, T = (20, 200) if rng is None else (int(gen.integers(10, 30)), int(gen.integers(100, 300)))
    u = gen.uniform(-1.0, 1.0, size=(N, T))
    y = np.asarray(call_learner(predict, u), dtype=float)
    if y.shape == (N, T, 1):
        y = y[..., 0]
    if y.shape != (N, T):
        raise Mismatch(f"predict returned shape {y.shape} for inputs of shape {(N, T)}; expected {(N, T)}")
    if not np.isfinite(y).all():
        raise Mismatch("predict returned NaN or inf")
    target = u[:, WARMUP - DELAY : T - DELAY]
    got = y[:, WARMUP:]
    r2 = 1.0 - float(np.sum((got - target) ** 2) / np.sum((target - target.mean()) ** 2))
    where = f"{N} held-out sequences of {T} steps (scored from t = {WARMUP})"
    if r2 < R2_NEEDED:
        same = 1.0 - float(np.sum((got - u[:, WARMUP:]) ** 2) / np.sum((u[:, WARMUP:] - u[:, WARMUP:].mean()) ** 2))
        hint = "; it tracks the current input u_t instead" if same > 0.5 else ""
        raise Mismatch(f"R^2 {r2:.3f} against u_(t-{DELAY}) on {where}; the threshold is {R2_NEEDED}{hint}")
    return f"R^2 {r2:.3f} against u_(t-{DELAY}) on {where} (threshold {R2_NEEDED})"


experiment_exercise("2.5", "reading the past off the states", 3, evaluate_delay, stars=2, minutes=25)


# --------------------------------------------------------------------------
# 2.6 paths through the unrolled graph (derive)
# --------------------------------------------------------------------------
PATHS_T, PATHS_L = 10, 3

value_exercise(
    "2.6",
    "paths from the first input to the last output",
    2,
    comb(PATHS_T - 1 + PATHS_L - 1, PATHS_L - 1),
    mistakes=[
        (PATHS_T, "that is the count for two layers; with three a path climbs twice"),
        (1, "in one chain there is one path; in a stacked graph a path may climb at any step"),
        (comb(PATHS_T + PATHS_L - 1, PATHS_L - 1), "a path from x_1 makes T - 1 steps in time, not T"),
        (comb(PATHS_T, PATHS_L - 1), "a path makes T - 1 steps in time and L - 1 climbs, in any order"),
        (PATHS_T**2, "count the orders of T - 1 steps in time and L - 1 climbs"),
    ],
    name="the number of paths",
    stars=3,
    minutes=15,
)
