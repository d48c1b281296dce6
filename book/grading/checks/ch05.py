"""Exercises of Chapter 5 (real-time recurrent learning): cases, answers, hints."""

from __future__ import annotations

import numpy as np

from book.grading.core import Case, choice_exercise, draw_shapes, function_exercise
from book.nn import sensitivity_size


def rtrl_step_bias(x_t, h_prev, S_b, W_xh, W_hh, b_h):
    """Reference for 5.1: one step and the new sensitivity ``S_b[n, i, k] = dh_t[n, i]/db_h[k]``."""
    h_t = np.tanh(x_t @ W_xh + h_prev @ W_hh + b_h)
    H = h_t.shape[1]
    S_new = (1.0 - h_t**2)[:, :, None] * (np.eye(H)[None] + np.einsum("ji,njk->nik", W_hh, S_b))
    return h_t, S_new


def rtrl_step_hh(x_t, h_prev, S_hh, W_xh, W_hh, b_h):
    """Reference for 5.2: one step and the new ``S_hh[n, i, j, k] = dh_t[n, i]/dW_hh[j, k]``."""
    h_t = np.tanh(x_t @ W_xh + h_prev @ W_hh + b_h)
    H = h_t.shape[1]
    explicit = np.einsum("nj,ik->nijk", h_prev, np.eye(H))
    implicit = np.einsum("ji,njab->niab", W_hh, S_hh)
    return h_t, (1.0 - h_t**2)[:, :, None, None] * (explicit + implicit)


def _step_cases(kind: str, rng: np.random.Generator | None = None) -> list[Case]:
    shapes = [(2, 3, 4), (1, 2, 3), (3, 1, 5)] if rng is None else draw_shapes(rng, 3, N=(1, 4), D=(1, 4), H=(2, 5))
    rng = np.random.default_rng(501 if kind == "b" else 502) if rng is None else rng
    cases = []
    for N, D, H in shapes:
        S_shape = (N, H, H) if kind == "b" else (N, H, H, H)
        cases.append(
            Case(
                f"N={N}, D={D}, H={H}",
                (
                    rng.normal(size=(N, D)),
                    np.tanh(rng.normal(size=(N, H))),
                    rng.normal(scale=0.3, size=S_shape),
                    rng.normal(scale=0.5, size=(D, H)),
                    rng.normal(scale=0.5, size=(H, H)),
                    rng.normal(scale=0.1, size=H),
                ),
            )
        )
    return cases


def _bias_variant(x, hp, S, Wx, Wh, b, explicit=True, transpose=False, gain="all"):
    h = np.tanh(x @ Wx + hp @ Wh + b)
    g = (1.0 - h**2)[:, :, None]
    E = np.broadcast_to(np.eye(h.shape[1]), S.shape) if explicit else 0.0
    I_ = np.einsum("ij,njk->nik" if transpose else "ji,njk->nik", Wh, S)
    if gain == "none":
        return h, E + I_
    if gain == "explicit":
        return h, g * E + I_
    return h, g * (E + I_)


function_exercise(
    "5.1",
    "sensitivity of the state to the bias",
    2,
    reference=rtrl_step_bias,
    cases=lambda rng=None: _step_cases("b", rng),
    outputs=["h_t", "S_b"],
    mistakes=[
        (
            lambda *a: _bias_variant(*a, explicit=False),
            "the explicit term is missing: b_h enters a_t directly, contributing the identity",
        ),
        (
            lambda *a: _bias_variant(*a, transpose=True),
            "W_hh is transposed in the recursion: S_t[i] = gain[i] * (... + sum_j W_hh[j, i] S_{t-1}[j])",
        ),
        (lambda *a: _bias_variant(*a, gain="none"), "the tanh derivative 1 - h_t**2 is missing"),
        (
            lambda *a: _bias_variant(*a, gain="explicit"),
            "the tanh derivative multiplies the implicit term too",
        ),
    ],
    stars=2,
    minutes=15,
)


def _hh_variant(x, hp, S, Wx, Wh, b, use_h_t=False, transpose=False, implicit=True, swap=False):
    h = np.tanh(x @ Wx + hp @ Wh + b)
    H = h.shape[1]
    src = h if use_h_t else hp
    E = np.einsum("nk,ij->nijk" if swap else "nj,ik->nijk", src, np.eye(H))
    I_ = np.einsum("ij,njab->niab" if transpose else "ji,njab->niab", Wh, S) if implicit else 0.0
    return h, (1.0 - h**2)[:, :, None, None] * (E + I_)


function_exercise(
    "5.2",
    "sensitivity of the state to W_hh",
    3,
    reference=rtrl_step_hh,
    cases=lambda rng=None: _step_cases("hh", rng),
    outputs=["h_t", "S_hh"],
    mistakes=[
        (
            lambda *a: _hh_variant(*a, use_h_t=True),
            "off by one in time: the explicit term uses h_prev (h_{t-1}), not h_t",
        ),
        (
            lambda *a: _hh_variant(*a, transpose=True),
            "W_hh is transposed in the recursion: sum over j of W_hh[j, i] S_{t-1}[n, j]",
        ),
        (
            lambda *a: _hh_variant(*a, implicit=False),
            "the implicit term through h_{t-1} is missing (that is truncation to one step)",
        ),
        (
            lambda *a: _hh_variant(*a, swap=True),
            "explicit term indices swapped: dh_t[i]/dW_hh[j, k] is gain[i] * h_prev[j] when k == i",
        ),
    ],
    stars=2,
    minutes=15,
)


function_exercise(
    "5.3",
    "how many numbers RTRL carries",
    2,
    reference=sensitivity_size,
    cases=lambda rng=None: [
        Case(f"D={D}, H={H}", (D, H))
        for D, H in ([(3, 4), (1, 10), (50, 128), (7, 1)] if rng is None else draw_shapes(rng, 4, D=(1, 200), H=(2, 300)))
    ],
    outputs=["count"],
    mistakes=[
        (
            lambda D, H: D * H + H * H + H,
            "that is the number of parameters; RTRL keeps it for each of the H state units",
        ),
        (lambda D, H: H**3, "that counts dh/dW_hh only; W_xh and b_h have sensitivities too"),
        (lambda D, H: H**4, "H**4 is the work per step of the W_hh update, not the memory"),
        (lambda D, H: H * (D * H + H * H), "the bias b_h has H parameters too"),
    ],
    stars=2,
    minutes=15,
)


choice_exercise(
    "5.4",
    "choosing a gradient method",
    2,
    correct="c",
    options="abcd",
    hints={
        "a": "memory independent of T, yes, but H = 1000 means H**3 = 1e9 numbers and H**4 = 1e12 multiply-adds per step",
        "b": "BPTT over an endless stream must store every step: its memory grows with T without bound",
        "d": "exact RTRL and BPTT compute the same gradient; they differ in cost, not in result",
    },
    stars=1,
    minutes=5,
)
