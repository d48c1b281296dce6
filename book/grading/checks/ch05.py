"""Exercises of Chapter 5 (real-time recurrent learning): cases, answers, hints."""

from __future__ import annotations

from typing import Any

import numpy as np

from book.grading.core import (
    Case,
    Mismatch,
    call_learner,
    choice_exercise,
    draw_shapes,
    experiment_exercise,
    function_exercise,
    value_exercise,
)


def _params(rng, N, D, H):
    return (
        rng.normal(size=(N, D)),
        np.tanh(rng.normal(size=(N, H))),
        rng.normal(scale=0.3, size=(N, H, H)),
        rng.normal(scale=0.5, size=(D, H)),
        rng.normal(scale=0.5, size=(H, H)),
        rng.normal(scale=0.1, size=H),
    )


# --------------------------------------------------------------------------
# 5.1 the sensitivity recursion of a leaky unit (derive it, then implement it)
# --------------------------------------------------------------------------
def leaky_step_bias(x_t, h_prev, S_b, W_xh, W_hh, b_h, alpha, leak_S=True, carry=True, gain_of="a", spec="ji,njk->nik"):
    """Reference for 5.1 (defaults): ``h_t = (1 - alpha) h_prev + alpha tanh(a_t)`` and ``S_b = dh_t/db_h``.

    The keywords build the plausible mistakes.
    """
    z = np.tanh(x_t @ W_xh + h_prev @ W_hh + b_h)
    h_t = (1 - alpha) * h_prev + alpha * z
    gain = 1.0 - (z if gain_of == "a" else h_t) ** 2
    inner = gain[:, :, None] * (np.eye(z.shape[1])[None] + np.einsum(spec, W_hh, S_b))
    if not leak_S:
        return h_t, inner
    return h_t, ((1 - alpha) * S_b if carry else 0.0) + alpha * inner


def _leaky_cases(rng: np.random.Generator | None = None) -> list[Case]:
    shapes = [(2, 3, 4), (1, 2, 3), (3, 1, 5)] if rng is None else draw_shapes(rng, 3, N=(1, 4), D=(1, 4), H=(2, 6))
    alphas = [0.3, 0.7, 0.5] if rng is None else list(rng.uniform(0.1, 0.9, size=3))
    rng = np.random.default_rng(501) if rng is None else rng
    return [
        Case(f"N={N}, D={D}, H={H}, alpha={a:.3g}", (*_params(rng, N, D, H), float(a)))
        for (N, D, H), a in zip(shapes, alphas, strict=True)
    ]


function_exercise(
    "5.1",
    "the sensitivity recursion of a leaky unit",
    3,
    reference=leaky_step_bias,
    cases=_leaky_cases,
    outputs=["h_t", "S_b"],
    mistakes=[
        (lambda *a: leaky_step_bias(*a, leak_S=False), "that is the recursion of the plain tanh unit: h_t also depends on b_h through the (1 - alpha) h_{t-1} term and is scaled by alpha"),
        (lambda *a: leaky_step_bias(*a, carry=False), "the path through the carried part (1 - alpha) h_{t-1} is missing: it adds (1 - alpha) S_{t-1}"),
        (lambda *a: leaky_step_bias(*a, gain_of="h"), "the tanh derivative is 1 - tanh(a_t)**2, not 1 - h_t**2: h_t is no longer tanh(a_t)"),
        (lambda *a: leaky_step_bias(*a, spec="ij,njk->nik"), "W_hh is transposed in the implicit term: unit i receives W_hh[j, i] from unit j"),
    ],
    stars=3,
    minutes=25,
)


# --------------------------------------------------------------------------
# 5.2 debug: the gradient of the bias, accumulated online
# --------------------------------------------------------------------------
def rtrl_bias_gradient(x, h0, W_xh, W_hh, b_h, dh, late=False, spec="ji,njk->nik"):
    """Reference for 5.2 (defaults): dL/db_h for L = sum_t dh[:, t] . h_t, by RTRL.

    ``late=True`` contracts with the sensitivity before it is updated (the bug
    of the given code), ``spec="ij,..."`` transposes W_hh (its other bug).
    """
    N, T, _ = x.shape
    H = h0.shape[1]
    S, h, grad = np.zeros((N, H, H)), h0, np.zeros(H)
    for t in range(T):
        if late:
            grad += np.einsum("ni,nik->k", dh[:, t], S)
        h = np.tanh(x[:, t] @ W_xh + h @ W_hh + b_h)
        S = (1.0 - h**2)[:, :, None] * (np.eye(H) + np.einsum(spec, W_hh, S))
        if not late:
            grad += np.einsum("ni,nik->k", dh[:, t], S)
    return grad


def _grad_cases(rng: np.random.Generator | None = None) -> list[Case]:
    shapes = [(2, 5, 3, 4), (1, 3, 2, 3), (3, 6, 2, 2)] if rng is None else draw_shapes(rng, 3, N=(1, 4), T=(2, 8), D=(1, 4), H=(2, 5))
    rng = np.random.default_rng(502) if rng is None else rng
    cases = []
    for N, T, D, H in shapes:
        args = (
            rng.normal(size=(N, T, D)),
            rng.normal(size=(N, H)),
            rng.normal(scale=0.5, size=(D, H)),
            rng.normal(scale=0.7, size=(H, H)),
            rng.normal(scale=0.1, size=H),
            rng.normal(size=(N, T, H)),
        )
        cases.append(Case(f"N={N}, T={T}, D={D}, H={H}", args))
    return cases


function_exercise(
    "5.2",
    "an online gradient with two bugs",
    2,
    reference=rtrl_bias_gradient,
    cases=_grad_cases,
    outputs=["db_h"],
    mistakes=[
        (lambda *a: rtrl_bias_gradient(*a, late=True, spec="ij,njk->nik"), "both bugs are still there"),
        (lambda *a: rtrl_bias_gradient(*a, late=True), "off by one in time: dL_t/dh_t must meet S_t, the sensitivity of h_t, so update S before adding the term"),
        (lambda *a: rtrl_bias_gradient(*a, spec="ij,njk->nik"), "W_hh is transposed in the implicit term: unit i receives W_hh[j, i] from unit j"),
    ],
    kind="debug",
    stars=2,
    minutes=15,
)


# --------------------------------------------------------------------------
# 5.3 derive: what RTRL carries for an element-wise recurrence
# --------------------------------------------------------------------------
value_exercise(
    "5.3",
    "what RTRL carries when units do not interact",
    2,
    expected=3 * 100 + 2 * 100,
    mistakes=[
        (100 * (3 * 100 + 2 * 100), "that counts every pair of state unit and parameter; most of those derivatives are zero for good"),
        (100 * (3 * 100 + 100 * 100 + 100), "that is the count for a full W_hh; here each unit feeds back only to itself"),
        (3 * 100 + 100, "the recurrent weights w have sensitivities too"),
        (3 * 100, "b and w have sensitivities too"),
    ],
    stars=2,
    minutes=10,
)


# --------------------------------------------------------------------------
# 5.4 where BPTT's memory passes RTRL's
# --------------------------------------------------------------------------
def crossover_length(D: int, H: int) -> int:
    """Reference for 5.4: the smallest T with T (D + H) > H (DH + H^2 + H)."""
    return (H * (D * H + H * H + H)) // (D + H) + 1


function_exercise(
    "5.4",
    "where BPTT's memory passes RTRL's",
    1,
    reference=crossover_length,
    cases=lambda rng=None: [
        Case(f"D={D}, H={H}", (D, H))
        for D, H in ([(4, 16), (2, 2), (4, 32), (1, 1)] if rng is None else [(2, 2), *draw_shapes(rng, 4, D=(1, 100), H=(1, 200))])
    ],
    outputs=["T"],
    mistakes=[
        (lambda D, H: -(-(H * (D * H + H * H + H)) // (D + H)), "BPTT must need strictly more: when the two are equal, T is one more"),
        (lambda D, H: (H * (D * H + H * H + H)) // (D + H), "at that T BPTT does not yet need more than RTRL: one step more"),
        (lambda D, H: (D * H + H * H + H) // (D + H) + 1, "RTRL keeps one sensitivity per state unit per parameter: H times the parameter count"),
        (lambda D, H: (H * (D * H + H * H + H)) // H + 1, "BPTT keeps x_t and h_t, D + H numbers per step"),
    ],
    stars=1,
    minutes=10,
)


# --------------------------------------------------------------------------
# 5.5 experiment: learn a delay online, scored on a stream the notebook never saw
# --------------------------------------------------------------------------
DELAY = 4
THRESHOLD = 0.05  # predicting 0 gives 0.5


def delayed_signs(rng: np.random.Generator, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """A stream of random signs x (steps, 1) and y_t = x_{t - DELAY} (0 before)."""
    x = rng.choice([-1.0, 1.0], size=(steps, 1))
    y = np.zeros_like(x)
    y[DELAY:] = x[:-DELAY]
    return x, y


def evaluate_stream(predict: Any, rng: np.random.Generator | None = None) -> str:
    """Grade 5.5: mean loss 0.5 (y_hat - y)^2 of ``predict`` on held-out streams (steps t >= DELAY)."""
    if not callable(predict):
        raise Mismatch(f"expected a function predict(x) -> y, got {type(predict).__name__}")
    rng = np.random.default_rng(5055) if rng is None else rng
    losses = []
    for steps in (1000, int(rng.integers(600, 1500))):
        x, y = delayed_signs(rng, steps)
        raw = call_learner(predict, x)
        try:
            got = np.asarray(raw, dtype=np.float64)
        except (TypeError, ValueError):
            raise Mismatch(f"predict returned a {type(raw).__name__}, not numbers") from None
        if got.size != steps:
            raise Mismatch(f"predict(x) for x of shape {x.shape} returned shape {got.shape}; expected ({steps}, 1)")
        got = got.reshape(steps, 1)
        if not np.isfinite(got).all():
            raise Mismatch("predict returned NaN or inf")
        losses.append(0.5 * float(np.mean((got[DELAY:] - y[DELAY:]) ** 2)))
    loss = max(losses)
    if loss >= THRESHOLD:
        raise Mismatch(
            f"held-out loss {loss:.3g}, above the threshold {THRESHOLD} (predicting 0 gives 0.5): "
            "the state does not yet hold the input from four steps back"
        )
    return f"held-out loss {loss:.1g} (threshold {THRESHOLD}; predicting 0 gives 0.5)"


experiment_exercise("5.5", "learn a delay online", 3, evaluate_stream, stars=3, minutes=30)


# --------------------------------------------------------------------------
# 5.6, 5.7 interpret
# --------------------------------------------------------------------------
choice_exercise(
    "5.6",
    "can exact RTRL run on the device?",
    2,
    correct="a",
    options="abcd",
    hints={
        "b": "over a stream that never ends, what must BPTT keep, and how does that grow?",
        "c": "count the sensitivities, H(DH + H**2 + H) numbers of 8 bytes each, against 10 MB",
        "d": "count the multiply-adds, H**4 + D H**3 per step at 100 steps a second, against 1e9",
    },
    stars=2,
    minutes=10,
)

choice_exercise(
    "5.7",
    "forward or reverse mode?",
    2,
    correct="b",
    options="abcd",
    hints={
        "a": "one backward pass gives the gradient of one scalar; count the scalars to differentiate here",
        "c": "count the passes: forward mode needs one per parameter, reverse mode one per output",
        "d": "keeping the intermediate states is what a backward walk needs; check which mode walks backward",
    },
    stars=2,
    minutes=5,
)
