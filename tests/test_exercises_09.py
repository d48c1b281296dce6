"""Chapter 9 exercises: the reference answers pass, plausible wrong answers fail with a pointed message."""

from __future__ import annotations

import numpy as np
from helpers import assert_accepted, assert_rejected

from book.grading.checks import ch09 as checks_09


def _windows(s, n, K, shift=0, extra=0):
    s = np.asarray(s, dtype=float)
    N = len(s) - n - K + 1 + extra
    X = np.array([s[i : i + n] for i in range(N)])
    Y = np.array([s[i + n + shift : i + n + shift + K] for i in range(N)])
    return X, Y


def test_9_1_windows():
    assert_accepted("9.1", checks_09.windows)
    assert_accepted("9.1", lambda s, n, K: _windows(s, n, K))
    assert_rejected("9.1", lambda s, n, K: _windows(s, n, K, shift=-1), "off by one", "horizon")
    assert_rejected("9.1", lambda s, n, K: _windows(s, n, K, shift=1, extra=-1), "skip a step")
    assert_rejected("9.1", lambda s, n, K: _windows(s, n, K, extra=-1), "one window short")
    assert_rejected("9.1", lambda s, n, K: tuple(a.T for a in _windows(s, n, K)), "shape")
    assert_rejected("9.1", lambda s, n, K: _windows(s, n, K)[0], "tuple")


def test_9_2_seasonal_naive():
    def loop(X, K, m):
        n = X.shape[1]
        out = np.empty((len(X), K))
        for h in range(1, K + 1):
            j = h
            while j > 0:
                j -= m  # step back whole seasons until the value is observed
            out[:, h - 1] = X[:, n - 1 + j]
        return out

    assert_accepted("9.2", checks_09.seasonal_naive)
    assert_accepted("9.2", loop)
    assert_rejected("9.2", lambda X, K, m: np.repeat(X[:, -1:], K, axis=1), "persistence")
    assert_rejected("9.2", lambda X, K, m: loop(X, K, m + 1), "season length", "off by one")
    assert_rejected("9.2", lambda X, K, m: loop(X, K, m - 1), "season length", "off by one")
    assert_rejected("9.2", lambda X, K, m: X[:, np.arange(K) % m], "oldest season")
    assert_rejected("9.2", lambda X, K, m: X[:, X.shape[1] - m + np.arange(K)], "IndexError")


def test_9_3_split_and_scale():
    def split(s, f1, f2, stats="train", rng=None):
        s = np.asarray(s, dtype=float)
        if rng is not None:
            s = s[rng.permutation(len(s))]
        a, b = int(f1 * len(s)), int((f1 + f2) * len(s))
        ref = {"train": s[:a], "all": s}[stats]
        return tuple((blk - ref.mean()) / ref.std() for blk in (s[:a], s[a:b], s[b:]))

    assert_accepted("9.3", checks_09.split_and_scale)
    assert_accepted("9.3", split)
    assert_rejected(
        "9.3", lambda s, f1, f2: split(s, f1, f2, stats="all"), "leakage", "whole series"
    )
    assert_rejected("9.3", checks_09._own_statistics, "its own statistics")
    assert_rejected(
        "9.3",
        lambda s, f1, f2: split(s, f1, f2, rng=np.random.default_rng(0)),
        "shuffle",
        "time order",
    )
    assert_rejected("9.3", lambda s, f1, f2: split(s[::-1], f1, f2), "time order")
    assert_rejected("9.3", lambda s, f1, f2: split(s, f1, f2)[:2], "returned 2 values")


def test_9_4_fit_ar():
    def normal_equations(X, Y):
        A = np.hstack([X, np.ones((len(X), 1))])
        coef = np.linalg.solve(A.T @ A, A.T @ Y)
        return coef[:-1], coef[-1]

    assert_accepted("9.4", checks_09.fit_ar)
    assert_accepted("9.4", normal_equations)
    assert_rejected(
        "9.4",
        lambda X, Y: (np.linalg.lstsq(X, Y, rcond=None)[0], np.zeros(Y.shape[1])),
        "intercept",
    )
    assert_rejected("9.4", checks_09._intercept_afterwards, "fit W and b together")
    assert_rejected("9.4", checks_09._first_horizon_only, "own column")
    assert_rejected(
        "9.4", lambda X, Y: (normal_equations(X, Y)[0].T, normal_equations(X, Y)[1]), "shape"
    )
