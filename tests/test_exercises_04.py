"""Chapter 4 exercises: the reference answers pass, plausible wrong answers fail with a pointed message."""

from __future__ import annotations

import numpy as np
from helpers import assert_accepted, assert_rejected

from book.grading.checks import ch04 as checks_04


def test_4_1_step_jacobian():
    assert_accepted("4.1", checks_04.step_jacobian)
    assert_accepted("4.1", lambda h, W: W @ np.diag(1 - h**2))
    assert_rejected("4.1", lambda h, W: W, "derivative")
    assert_rejected("4.1", lambda h, W: np.diag(1 - h**2) @ W.T, "transposed")
    assert_rejected("4.1", lambda h, W: np.diag(1 - h**2) @ W, "rows")
    assert_rejected("4.1", lambda h, W: W * (1 - h)[None, :], "1 - h_t**2")
    assert_rejected("4.1", lambda h, W: np.full_like(W, np.nan), "nan")


def _loop(h, W, order="right", norm=2, gain=True):
    T, H = h.shape
    P, out = np.eye(H), []
    for t in reversed(range(T)):
        J = W * (1 - h[t] ** 2)[None, :] if gain else W
        P = J @ P if order == "right" else P @ J
        out.append(np.linalg.norm(P, norm))
    return np.array(out)


def test_4_2_jacobian_norms():
    assert_accepted("4.2", checks_04.jacobian_norms_of_states)
    assert_accepted("4.2", _loop)
    assert_rejected("4.2", lambda h, W: _loop(h, W, order="left"), "order")
    assert_rejected("4.2", lambda h, W: _loop(h, W, norm="fro"), "frobenius")
    assert_rejected("4.2", lambda h, W: _loop(h, W, gain=False), "derivative")
    assert_rejected("4.2", lambda h, W: np.concatenate([[1.0], _loop(h, W)[:-1]]), "off by one")
    assert_rejected("4.2", lambda h, W: _loop(h, W)[:-1], "shape")


def test_4_3_clipping():
    def per_array(a, b, c, m):
        return tuple(g * min(1.0, m / np.linalg.norm(g)) for g in (a, b, c))

    def always(a, b, c, m):
        n = np.sqrt(np.sum(a**2) + np.sum(b**2) + np.sum(c**2))
        return a * m / n, b * m / n, c * m / n

    assert_accepted("4.3", checks_04.clip_gradients)
    assert_rejected("4.3", per_array, "global norm")
    assert_rejected(
        "4.3", lambda a, b, c, m: tuple(np.clip(g, -m, m) for g in (a, b, c)), "value clipping"
    )
    assert_rejected("4.3", always, "unchanged")
    assert_rejected("4.3", lambda a, b, c, m: (a, b, c), "dW_xh")


def test_4_4_choice():
    assert_accepted("4.4", "d")
    assert_rejected("4.4", "a", "shrinks")
    assert_rejected("4.4", "c", "same factor")
    assert_rejected("4.4", "b", "value clipping")
    assert_rejected("4.4", "e", "one letter")
