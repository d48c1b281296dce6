"""Exercises of Chapter 11 (linear recurrences and scans): cases, answers, hints.

11.1 is a Hillis-Steele scan, checked against the loop and round by round
(it returns the pairs after each of its ceil(log2 T) rounds); 11.2 the gradients
of a signed linear layer; 11.3 an odd-even scan with a combine to fix;
11.4 and 11.5 numbers derived on paper; 11.6 an experiment on the parity of
streams longer than those trained on; 11.7 a choice about work and depth.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from book.data.parity import parity_task
from book.grading.core import (
    Case,
    Exercise,
    Mismatch,
    call_learner,
    check_function_cases,
    choice_exercise,
    compare_array,
    draw_shapes,
    experiment_exercise,
    function_exercise,
    register,
    type_name,
    value_exercise,
)
from book.nn import linear_scan

SCAN_TOL = 1e-9


# --------------------------------------------------------------------------
# 11.1 Hillis and Steele's scan
# --------------------------------------------------------------------------
def hillis_steele(a, b, h0, swap=False, a_first=False, short=False, with_h0=True):
    """Reference for 11.1, or one of its plausible slips."""
    A, B = np.array(a, dtype=float), np.array(b, dtype=float)
    T, step = A.shape[1], 1
    while step < (T + 1) // 2 if short else step < T:
        if a_first:
            A[:, step:] = A[:, step:] * A[:, :-step]
        if swap:  # the later pair first: (A, B)[t] then (A, B)[t - step]
            B[:, step:] = A[:, :-step] * B[:, step:] + B[:, :-step]
        else:
            B[:, step:] = A[:, step:] * B[:, :-step] + B[:, step:]
        if not a_first:
            A[:, step:] = A[:, step:] * A[:, :-step]
        step *= 2
    return A * np.asarray(h0)[:, None, :] + B if with_h0 else B


def _scan_args(rng: np.random.Generator, N: int, T: int, H: int) -> tuple[np.ndarray, ...]:
    return rng.uniform(-1, 1, (N, T, H)), rng.normal(size=(N, T, H)), rng.normal(size=(N, H))


def _scan_cases(rng: np.random.Generator | None = None) -> list[Case]:
    shapes = (
        [(2, 7, 3), (1, 13, 2), (3, 1, 2), (1, 33, 1)]
        if rng is None
        else draw_shapes(rng, 4, N=(1, 4), T=(2, 70), H=(1, 5))
    )
    rng = np.random.default_rng(1101) if rng is None else rng
    return [Case(f"N={N}, T={T}, H={H}", _scan_args(rng, N, T, H)) for N, T, H in shapes]


def scan_rounds(a, b):
    """The pairs ``(A, B)`` after each round of Hillis and Steele's scan (11.1)."""
    A, B = np.array(a, dtype=float), np.array(b, dtype=float)
    out, step = [], 1
    while step < A.shape[1]:
        B[:, step:] = A[:, step:] * B[:, :-step] + B[:, step:]
        A[:, step:] = A[:, step:] * A[:, :-step]
        out.append((A.copy(), B.copy()))
        step *= 2
    return out


def _check_rounds(got: Any, case: Case, k: int) -> None:
    a, b, _ = case.args
    expected = scan_rounds(a, b)
    where = f"case {k} ({case.label})"
    if not isinstance(got, (tuple, list)) or len(got) < 2:
        raise Mismatch(f"{where}: return (h, rounds), rounds a list of the pairs (A, B) after each round")
    rounds = got[1]
    if not isinstance(rounds, (tuple, list)) and not (isinstance(rounds, np.ndarray) and rounds.ndim == 5):
        raise Mismatch(f"{where}: rounds is a {type_name(rounds)}; expected a list of pairs (A, B)")
    T = a.shape[1]
    if len(rounds) != len(expected):
        raise Mismatch(f"{where}: {len(rounds)} rounds; T = {T} needs ceil(log2 T) = {len(expected)}"
                       + (" (a loop over the steps is not a scan)" if len(rounds) >= T - 1 > len(expected) else ""))
    for d, (pair, (A, B)) in enumerate(zip(rounds, expected, strict=True)):
        if not isinstance(pair, (tuple, list, np.ndarray)) or len(pair) != 2:
            raise Mismatch(f"{where}: round {d + 1} is not a pair (A, B)")
        for name, g, e in (("A", pair[0], A), ("B", pair[1], B)):
            problem = compare_array(f"{name} after round {d + 1}", g, e, SCAN_TOL, SCAN_TOL)
            if problem:
                raise Mismatch(f"{where}: {problem}; after round {d + 1} (step {2**d}), position t holds the "
                               f"maps t - {2 ** (d + 1) - 1} .. t composed, those that exist")


def grade_parallel_scan(fn: Any, rng: np.random.Generator | None = None) -> str:
    """The states equal the loop's to 1e-9, and the rounds are Hillis and Steele's."""
    cases = _scan_cases(rng)
    check_function_cases(fn, linear_scan, cases, ["h"], mistakes=[
        (lambda *a: hillis_steele(*a, with_h0=False), "h0 is missing: h_t = A_t h0 + B_t"),
        (lambda *a: hillis_steele(*a, swap=True), "the pairs are combined in the wrong order: "
         "the pair from 2^d positions earlier comes first, (a1, b1) * (a2, b2) = (a1 a2, a2 b1 + b2)"),
        (lambda *a: hillis_steele(*a, a_first=True), "B of a round must use the A from before that "
         "round's update of A"),
        (lambda *a: hillis_steele(*a, short=True), "one round short: keep going while the step is below T"),
    ], rtol=SCAN_TOL, atol=SCAN_TOL)
    for k, case in enumerate(cases, start=1):
        _check_rounds(call_learner(fn, *case.args), case, k)
    return ""


register(Exercise("11.1", "Hillis and Steele's scan", 3, grade_parallel_scan, hidden=True,
                  kind="implement", stars=2, minutes=20))


# --------------------------------------------------------------------------
# 11.2 gradients of a signed linear layer: a_t = tanh(x W_a + c_a), b_t = x W_b + c_b
# --------------------------------------------------------------------------
SIGNED_GRADS = ["dx", "dh0", "dW_a", "dc_a", "dW_b", "dc_b"]


def signed_forward(x, h0, W_a, c_a, W_b, c_b):
    """Forward of 11.2 and 11.6: ``(a, h)``, h of ``h_t = tanh(x_t W_a + c_a) h_{t-1} + x_t W_b + c_b``."""
    a = np.tanh(x @ W_a + c_a)
    return a, linear_scan(a, x @ W_b + c_b, h0)


def signed_grads(dh, x, h0, W_a, c_a, W_b, c_b, shift=True, prev=True, gain=True, via_a=True, carry=True):
    """Reference for 11.2 (the keywords switch on one slip each)."""
    a, h = signed_forward(x, h0, W_a, c_a, W_b, c_b)
    T = x.shape[1]
    g = np.zeros_like(h)
    for t in reversed(range(T)):
        g[:, t] = dh[:, t]
        if carry and t + 1 < T:
            g[:, t] += (a[:, t + 1] if shift else a[:, t]) * g[:, t + 1]
    h_prev = np.concatenate([h0[:, None], h[:, :-1]], axis=1) if prev else h
    dk = g * h_prev * ((1 - a**2) if gain else 1.0)
    dh0 = a[:, 0] * g[:, 0] if via_a else g[:, 0]
    D, H = W_a.shape
    xf = x.reshape(-1, D)
    return (dk @ W_a.T + g @ W_b.T, dh0, xf.T @ dk.reshape(-1, H), dk.sum(axis=(0, 1)),
            xf.T @ g.reshape(-1, H), g.sum(axis=(0, 1)))


def _signed_cases(rng: np.random.Generator | None = None) -> list[Case]:
    shapes = (
        [(2, 6, 3, 4), (1, 9, 2, 2), (3, 2, 4, 3)]
        if rng is None
        else draw_shapes(rng, 4, N=(1, 4), T=(2, 12), D=(1, 5), H=(1, 5))
    )
    rng = np.random.default_rng(1102) if rng is None else rng
    cases = []
    for N, T, D, H in shapes:
        args = (rng.normal(size=(N, T, H)), rng.normal(size=(N, T, D)), rng.normal(size=(N, H)),
                rng.normal(scale=0.7, size=(D, H)), rng.normal(scale=0.5, size=H),
                rng.normal(scale=0.7, size=(D, H)), rng.normal(scale=0.5, size=H))
        cases.append(Case(f"N={N}, T={T}, D={D}, H={H}", args))
    return cases


function_exercise(
    "11.2",
    "the gradients of a signed linear layer",
    3,
    reference=signed_grads,
    cases=_signed_cases,
    outputs=SIGNED_GRADS,
    mistakes=[
        (lambda *a: signed_grads(*a, shift=False), "g_t collects a_{t+1} g_{t+1}: the coefficient of the "
         "step after t carries the gradient back, not a_t"),
        (lambda *a: signed_grads(*a, prev=False), "da_t = g_t h_{t-1}: the state that went into step t"),
        (lambda *a: signed_grads(*a, gain=False), "the tanh derivative 1 - a_t**2 is missing"),
        (lambda *a: signed_grads(*a, via_a=False), "h0 reaches h_1 through a_1: dh0 = a_1 g_1"),
        (lambda *a: signed_grads(*a, carry=False), "g_t must also collect what comes back from later "
         "steps, a reverse scan, not only dh_t"),
    ],
    kind="derive",
    stars=3,
    minutes=25,
)


# --------------------------------------------------------------------------
# 11.3 debug: the odd-even scan with its combine wrong
# --------------------------------------------------------------------------
def _combine(first, second, coef="second", order="first"):
    (a1, b1), (a2, b2) = first, second
    if order == "second":  # b2 carried through the first map
        return a1 * a2, (a1 if coef == "first" else a2) * b2 + b1
    return a1 * a2, (a1 if coef == "first" else a2) * b1 + b2


def odd_even(a, b, h0, coef="second", order="first"):
    """Reference for 11.3 (``coef="first"`` is the given bug)."""
    b = np.array(b, dtype=float)
    a = np.asarray(a, dtype=float)
    b[:, 0] = a[:, 0] * h0 + b[:, 0]

    def rec(a, b):
        T = a.shape[1]
        if T <= 1:
            return b.copy()
        A, B = _combine((a[:, 0:T - 1:2], b[:, 0:T - 1:2]), (a[:, 1::2], b[:, 1::2]), coef, order)
        h = np.empty_like(b)
        h[:, 1::2] = rec(A, B)
        h[:, 0] = b[:, 0]
        h[:, 2::2] = a[:, 2::2] * h[:, 1::2][:, : (T - 1) // 2] + b[:, 2::2]
        return h

    return rec(a, b)


def buggy_odd_even(a, b, h0):
    """The given code of 11.3: the combine scales the first map's b by the first map's a."""
    return odd_even(a, b, h0, coef="first")


def _odd_even_cases(rng: np.random.Generator | None = None) -> list[Case]:
    shapes = (
        [(2, 8, 3), (1, 11, 2), (2, 5, 1), (1, 2, 2)]
        if rng is None
        else draw_shapes(rng, 4, N=(1, 4), T=(2, 40), H=(1, 4))
    )
    rng = np.random.default_rng(1103) if rng is None else rng
    return [Case(f"N={N}, T={T}, H={H}", _scan_args(rng, N, T, H)) for N, T, H in shapes]


function_exercise(
    "11.3",
    "an odd-even scan that passes a weak test",
    2,
    reference=linear_scan,
    cases=_odd_even_cases,
    outputs=["h"],
    mistakes=[
        (lambda *a: odd_even(*a, order="second"), "the pairs are combined in the wrong order: the first "
         "map's b goes through the second map, (a1 a2, a2 b1 + b2)"),
        (lambda *a: odd_even(*a, coef="first", order="second"), "the first map's b goes through the "
         "second map, so it is scaled by a2: (a1 a2, a2 b1 + b2)"),
    ],
    rtol=SCAN_TOL,
    atol=SCAN_TOL,
    kind="debug",
    stars=2,
    minutes=15,
    given=buggy_odd_even,
)


# --------------------------------------------------------------------------
# 11.4 derive: where the cumulative-product form leaves the range of float64
# --------------------------------------------------------------------------
def product_form_limits(rate: float = 0.25, T: int = 600) -> np.ndarray:
    """Reference for 11.4: the first step with a non-finite state, and the first with P_t == 0."""
    a = np.full(T, rate)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore", under="ignore"):
        P = np.cumprod(a)
        h = P * np.cumsum(1.0 / P)
    return np.array([np.argmax(~np.isfinite(h)) + 1, np.argmax(P == 0) + 1], dtype=float)


value_exercise(
    "11.4",
    "where the product form leaves the range",
    2,
    expected=product_form_limits,
    mistakes=[
        (np.array([512.0, 511.0]), "below 2^-1022 come the subnormal numbers, down to 2^-1074: P_t is "
         "not yet zero there"),
        (np.array([512.0, 537.0]), "2^-1074, the smallest subnormal, is still above zero"),
        (np.array([513.0, 538.0]), "the largest double is just under 2^1024, so 1 / P_t = 2^(2t) is inf "
         "as soon as 2t reaches 1024"),
        (np.array([511.0, 538.0]), "1 / P_t = 2^(2t) is still finite at 2t = 1022; the largest double "
         "is just under 2^1024"),
    ],
    rtol=0,
    atol=0.01,
    stars=2,
    minutes=10,
)


# --------------------------------------------------------------------------
# 11.5 derive: how long a minLSTM with input-independent gates remembers h0
# --------------------------------------------------------------------------
def _sig(v: float) -> float:
    return 1.0 / (1.0 + math.exp(-v))


def steps_below(decay: float, level: float = 0.01) -> int:
    """The smallest T with decay**T below level."""
    T = 1
    while decay**T >= level:
        T += 1
    return T


F_GATE, I_GATE = _sig(2.0), _sig(-1.0)

value_exercise(
    "11.5",
    "how long a minLSTM remembers",
    1,
    expected=float(steps_below(F_GATE / (F_GATE + I_GATE))),
    mistakes=[
        (float(steps_below(F_GATE)), "that is the forget gate f_t itself; minLSTM normalises it, f' = f / (f + i)"),
        (float(steps_below(1 - I_GATE)), "the normalised input gate is i / (f + i), not i, so the decay is "
         "f / (f + i), not 1 - i"),
        (float(steps_below(I_GATE / (F_GATE + I_GATE))), "that decay is i' = i / (f + i), the weight of the new candidate; "
         "h0 is carried by f'"),
        (float(steps_below(F_GATE / (F_GATE + I_GATE)) - 1), "at that T the weight of h0 is still at least 0.01: the answer "
         "is the first T below it"),
    ],
    rtol=0,
    atol=0.01,
    stars=1,
    minutes=10,
)


# --------------------------------------------------------------------------
# 11.6 experiment: parity of streams longer than those trained on
# --------------------------------------------------------------------------
PARITY_THRESHOLD, PARITY_N = 0.9, 1000


def evaluate_parity(predict: Any, rng: np.random.Generator | None = None) -> str:
    """Accuracy of ``predict(x) -> (N, L + 1)`` parities at the last step of new, longer streams."""
    if not callable(predict):
        raise Mismatch(f"expected your function predict(x), got {type_name(predict)}")
    length = 64 if rng is None else int(rng.integers(48, 97))
    seed = 1106 if rng is None else int(rng.integers(1 << 30))
    x, y = parity_task(PARITY_N, length, seed=seed)
    got = call_learner(predict, x)
    try:
        got = np.asarray(got, dtype=float).reshape(y.shape)
    except (TypeError, ValueError):
        raise Mismatch(f"predict(x) must return an array of shape {y.shape} for x of shape {x.shape}") from None
    if not np.isfinite(got).all():
        raise Mismatch("predict(x) returned NaN or inf")
    accuracy = float(np.mean((got[:, -1] > 0.5) == (y[:, -1] == 1)))
    where = f"on {PARITY_N} new streams of {length} bits (last step)"
    if accuracy < PARITY_THRESHOLD:
        raise Mismatch(f"accuracy {accuracy:.3f} {where}; it must be at least {PARITY_THRESHOLD} "
                       "(guessing scores about 0.5)")
    return f"accuracy {accuracy:.3f} {where} (threshold {PARITY_THRESHOLD})"


experiment_exercise("11.6", "parity beyond the training length", 3, evaluate_parity, stars=3, minutes=30)


# --------------------------------------------------------------------------
# 11.7 interpret: which scan finishes first on 64 units
# --------------------------------------------------------------------------
choice_exercise(
    "11.7",
    "work against depth on 64 units",
    2,
    correct="c",
    options="abcd",
    hints={
        "a": "each step of the loop needs the state before it, so 63 of the 64 units wait at every "
        "step: its time is its number of rounds, 4095",
        "b": "a round that does thousands of combines is not one unit of time on 64 units: add up "
        "ceil(combines / 64) over the rounds of each scan",
        "d": "the three differ a lot both in combines and in rounds; add up ceil(combines / 64) over "
        "the rounds of each and compare",
    },
    stars=2,
    minutes=10,
)
