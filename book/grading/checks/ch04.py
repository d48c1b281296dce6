"""Exercises of Chapter 4 (vanishing and exploding gradients): cases, answers, hints."""

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
    type_name,
    value_exercise,
)
from book.nn import clip_by_global_norm, jacobian_norms
from book.nn import step_jacobian as _step_jacobian


def leaky_jacobian(h_prev, h_t, W_hh, alpha):
    """Reference for 4.1: ``J[j, i] = dh_t[i] / dh_{t-1}[j]`` of the leaky cell.

    ``h_t = (1 - alpha) h_{t-1} + alpha tanh(a_t)``: the candidate ``tanh(a_t)``
    is recovered from the two states, and ``J = (1 - alpha) I + alpha W_hh diag(1 - c**2)``.
    """
    c = (h_t - (1.0 - alpha) * h_prev) / alpha
    return (1.0 - alpha) * np.eye(len(h_t)) + alpha * _step_jacobian(1.0 - c**2, W_hh)


def _leaky_cases(rng: np.random.Generator | None = None) -> list[Case]:
    settings = (
        [(3, 0.5), (4, 0.2), (1, 0.7)]
        if rng is None
        else [(H, float(rng.uniform(0.1, 0.9))) for (H,) in draw_shapes(rng, 3, H=(2, 8))]
    )
    rng = np.random.default_rng(401) if rng is None else rng
    cases = []
    for H, alpha in settings:
        h_prev = np.tanh(rng.normal(size=H))
        h_t = (1.0 - alpha) * h_prev + alpha * np.tanh(rng.normal(size=H))
        cases.append(Case(f"H={H}, alpha={alpha:.3g}", (h_prev, h_t, rng.normal(size=(H, H)), alpha)))
    return cases


def _leaky(hp, h, W, a, gain_of_state=False, keep=True, transpose=False, alpha_on_W=True):
    c = h if gain_of_state else (h - (1 - a) * hp) / a
    J = (1 - a) * np.eye(len(h)) * keep + (a if alpha_on_W else 1.0) * W * (1 - c**2)[None, :]
    return J.T if transpose else J


function_exercise(
    "4.1",
    "the step Jacobian of a leaky cell",
    2,
    reference=leaky_jacobian,
    cases=_leaky_cases,
    outputs=["J"],
    mistakes=[
        (lambda *a: _leaky(*a, gain_of_state=True), "the tanh derivative belongs to the candidate "
         "tanh(a_t) = (h_t - (1 - alpha) h_{t-1}) / alpha, not to the new state h_t"),
        (lambda *a: _leaky(*a, keep=False), "the kept part (1 - alpha) h_{t-1} adds (1 - alpha) times the identity"),
        (lambda *a: _leaky(*a, transpose=True), "J is transposed: J[j, i] = dh_t[i]/dh_{t-1}[j], column i for unit i"),
        (lambda *a: _leaky(*a, alpha_on_W=False), "the candidate enters h_t with the weight alpha"),
    ],
    stars=2,
    minutes=20,
)


def jacobian_norms_of_states(h, W_hh):
    """Reference for 4.2: ``||dh_T/dh_{T-l}||_2`` for ``l = 1 .. T`` from the states ``h`` (T, H)."""
    return jacobian_norms(1.0 - h**2, W_hh)


def _norm_cases(rng: np.random.Generator | None = None) -> list[Case]:
    shapes = (
        [(6, 4, 1.2), (10, 3, 0.9), (4, 6, 1.5)]
        if rng is None
        else [(T, H, float(rng.uniform(0.8, 1.6))) for T, H in draw_shapes(rng, 3, T=(2, 12), H=(2, 7))]
    )
    rng = np.random.default_rng(402) if rng is None else rng
    cases = []
    for T, H, scale in shapes:
        h = np.tanh(rng.normal(size=(T, H)))
        cases.append(Case(f"T={T}, H={H}", (h, rng.normal(scale=scale / np.sqrt(H), size=(H, H)))))
    return cases


def _norms_loop(h, W, order="right", norm=2, gain=True, start_identity=False):
    T, H = h.shape
    P = np.eye(H)
    out = [1.0] if start_identity else []
    for t in reversed(range(T)):
        J = W * ((1 - h[t] ** 2) if gain else np.ones(H))[None, :]
        P = J @ P if order == "right" else P @ J
        out.append(np.linalg.norm(P, norm))
    return np.array(out[:T])


function_exercise(
    "4.2",
    "Jacobian norms against the lag",
    3,
    reference=jacobian_norms_of_states,
    cases=_norm_cases,
    outputs=["norms"],
    mistakes=[
        (
            lambda h, W: _norms_loop(h, W, order="left"),
            "the product is in the wrong order: dh_T/dh_k = J_{k+1} ... J_T, the earliest step on the left",
        ),
        (
            lambda h, W: _norms_loop(h, W, norm="fro"),
            "that is the Frobenius norm; use the spectral norm np.linalg.norm(P, 2)",
        ),
        (
            lambda h, W: _norms_loop(h, W, gain=False),
            "the tanh derivative 1 - h_t**2 is missing from each step Jacobian",
        ),
        (
            lambda h, W: _norms_loop(h, W, start_identity=True),
            "off by one in the lag: lag 1 is one step Jacobian, not the identity",
        ),
    ],
    rtol=1e-6,
    stars=2,
    minutes=20,
)


def clip_gradients(dW_xh, dW_hh, db_h, max_norm):
    """Reference for 4.3: norm clipping of the three gradients together (global norm)."""
    clipped, _ = clip_by_global_norm([dW_xh, dW_hh, db_h], max_norm)
    return tuple(clipped)


def _clip_cases(rng: np.random.Generator | None = None) -> list[Case]:
    settings = (
        [(2, 3, 5.0, 1.0), (3, 4, 0.1, 5.0), (1, 5, 3.0, 2.0)]
        if rng is None  # hidden: one to be clipped, one left alone, one either way
        else [(D, H, s, c) for (D, H), (s, c) in zip(draw_shapes(rng, 3, D=(1, 5), H=(1, 6)),
              [(float(rng.uniform(3, 8)), float(rng.uniform(0.5, 2))), (0.05, float(rng.uniform(4, 8))),
               (float(rng.uniform(0.5, 3)), float(rng.uniform(1, 3)))], strict=True)]
    )
    rng = np.random.default_rng(403) if rng is None else rng
    cases = []
    for D, H, scale, max_norm in settings:
        cases.append(
            Case(
                f"D={D}, H={H}, max_norm={max_norm}",
                (
                    rng.normal(scale=scale, size=(D, H)),
                    rng.normal(scale=scale, size=(H, H)),
                    rng.normal(scale=scale, size=H),
                    max_norm,
                ),
            )
        )
    return cases


def _per_array(dWx, dWh, db, c):
    return tuple(g * min(1.0, c / np.linalg.norm(g)) for g in (dWx, dWh, db))


def _by_value(dWx, dWh, db, c):
    return tuple(np.clip(g, -c, c) for g in (dWx, dWh, db))


def _always(dWx, dWh, db, c):
    n = np.sqrt(sum(np.sum(g**2) for g in (dWx, dWh, db)))
    return tuple(g * c / n for g in (dWx, dWh, db))


def _no_sqrt(dWx, dWh, db, c):
    n = sum(np.sum(g**2) for g in (dWx, dWh, db))
    return tuple(g * min(1.0, c / n) for g in (dWx, dWh, db))


function_exercise(
    "4.3",
    "gradient norm clipping",
    3,
    reference=clip_gradients,
    cases=_clip_cases,
    outputs=["dW_xh", "dW_hh", "db_h"],
    mistakes=[
        (
            _per_array,
            "each array was clipped on its own; clip by the global norm of all three together",
        ),
        (
            _by_value,
            "that is value clipping (entry by entry); norm clipping rescales the whole gradient",
        ),
        (_always, "a gradient already shorter than max_norm must be left unchanged"),
        (_no_sqrt, "the norm is the square root of the sum of squares"),
    ],
    stars=1,
    minutes=10,
)


choice_exercise(
    "4.4",
    "what raises the long-range share",
    2,
    correct="d",
    options="abcde",
    hints={
        "a": "a smaller sigma_max lowers the bound (sigma_max gamma)^lag on the product of step Jacobians, "
        "so the far terms shrink faster than before",
        "b": "clipping multiplies the near and the far terms by one and the same factor, so their ratio "
        "stays where it was",
        "c": "the logistic sigmoid's slope is at most 1/4, so every step Jacobian gets a smaller bound than "
        "with tanh",
        "e": "a learning rate multiplies the whole step, near and far terms alike, so their ratio stays "
        "where it was",
    },
    stars=2,
    minutes=5,
)


# --------------------------------------------------------------------------
# 4.5 derive: the lag from which the norm bound guarantees a vanished gradient
# --------------------------------------------------------------------------
W_BOUND = np.array([[0.5, 0.6], [-0.1, 0.3]])
BOUND_EPS = 1e-4


def bound_lags(W_hh: np.ndarray = W_BOUND, eps: float = BOUND_EPS, radius: bool = False) -> np.ndarray:
    """Reference for 4.5: the smallest lags with (s gamma)^l <= eps, for tanh (gamma 1) and sigmoid (1/4)."""
    s = float(np.max(np.abs(np.linalg.eigvals(W_hh)))) if radius else float(np.linalg.norm(W_hh, 2))
    return np.array([np.ceil(np.log(eps) / np.log(s * g)) for g in (1.0, 0.25)])


value_exercise(
    "4.5",
    "when the bound guarantees vanishing",
    2,
    expected=bound_lags(),
    mistakes=[
        (bound_lags(radius=True), "the bound uses the largest singular value of W_hh, not its spectral radius"),
        (bound_lags() - 1, "off by one: the smallest whole lag l with (sigma_max gamma)^l <= 1e-4 rounds up"),
        (bound_lags()[[0, 0]], "the logistic sigmoid's largest slope is 1/4, so gamma = 1/4 for it"),
    ],
    stars=2,
    minutes=10,
)


# --------------------------------------------------------------------------
# 4.6 experiment: norm clipping lets a large step size train; held-out MSE
# --------------------------------------------------------------------------
SUM_THRESHOLD = 0.3


def sum_task(rng: np.random.Generator, N: int, T: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs (N, T, 1), standard normal; target (N,): the sum of the last three inputs."""
    x = rng.normal(size=(N, T, 1))
    return x, x[:, -3:, 0].sum(axis=1)


def evaluate_sum(predict: Any, rng: np.random.Generator | None = None) -> str:
    """Held-out MSE of ``predict(x) -> (N,)`` on new sequences."""
    if not callable(predict):
        raise Mismatch(f"expected your function predict(x), got {type_name(predict)}")
    T = 30 if rng is None else int(rng.integers(25, 36))
    x, y = sum_task(np.random.default_rng(4060) if rng is None else rng, 500, T)
    got = call_learner(predict, x)
    try:
        got = np.asarray(got, dtype=float).reshape(y.shape)
    except (TypeError, ValueError):
        raise Mismatch(f"predict(x) must return an array of shape {y.shape} for x of shape {x.shape}") from None
    with np.errstate(all="ignore"):
        mse = float(np.mean((got - y) ** 2))
    where = f"on 500 new sequences of length {T}"
    if not np.isfinite(mse) or mse >= SUM_THRESHOLD:
        raise Mismatch(f"held-out MSE {mse:.2g} {where}; it must be below {SUM_THRESHOLD} "
                       "(predicting 0 scores about 3; a run that diverged gives inf or nan)")
    return f"held-out MSE {mse:.2g} {where} (threshold {SUM_THRESHOLD})"


experiment_exercise("4.6", "train through an explosion with clipping", 3, evaluate_sum, stars=2, minutes=25)
