"""Exercises of Chapter 4 (vanishing and exploding gradients): cases, answers, hints."""

from __future__ import annotations

import numpy as np

from book.grading.core import Case, choice_exercise, draw_shapes, function_exercise
from book.nn import clip_by_global_norm, jacobian_norms
from book.nn import step_jacobian as _step_jacobian


def step_jacobian(h_t, W_hh):
    """Reference for 4.1: ``J[j, i] = d h_t[i] / d h_{t-1}[j] = W_hh[j, i] * (1 - h_t[i]**2)``."""
    return _step_jacobian(1.0 - h_t**2, W_hh)


def _jac_cases(rng: np.random.Generator | None = None) -> list[Case]:
    sizes = (3, 5, 1) if rng is None else tuple(int(h) for h in rng.integers(2, 9, size=3))
    rng = np.random.default_rng(401) if rng is None else rng
    cases = []
    for H in sizes:
        h_t = np.tanh(rng.normal(size=H))
        cases.append(Case(f"H={H}", (h_t, rng.normal(size=(H, H)))))
    return cases


function_exercise(
    "4.1",
    "the step Jacobian dh_t/dh_{t-1}",
    2,
    reference=step_jacobian,
    cases=_jac_cases,
    outputs=["J"],
    mistakes=[
        (lambda h, W: W, "the tanh derivative 1 - h_t**2 is missing"),
        (
            lambda h, W: (W * (1 - h**2)[None, :]).T,
            "J is transposed: J[j, i] = dh_t[i]/dh_{t-1}[j] = W_hh[j, i] * gain[i]",
        ),
        (
            lambda h, W: (1 - h**2)[:, None] * W,
            "the gain scales the rows; it must scale column i (the unit i of h_t)",
        ),
        (
            lambda h, W: W * (1 - h)[None, :],
            "wrong derivative: tanh'(a) = 1 - tanh(a)**2 = 1 - h_t**2",
        ),
    ],
    stars=2,
    minutes=15,
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
    minutes=15,
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
    stars=2,
    minutes=15,
)


choice_exercise(
    "4.4",
    "what cures vanishing gradients",
    2,
    correct="d",
    options="abcd",
    hints={
        "a": "clipping only ever shrinks a gradient, and a vanishing gradient is already tiny",
        "b": "value clipping also only shrinks entries; the long-range terms stay negligible next to the short-range ones",
        "c": "scaling the whole gradient scales the short-range terms by the same factor, so the long-range share is unchanged",
    },
    stars=1,
    minutes=5,
)
