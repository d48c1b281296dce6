"""Exercises of Chapter 9 (forecasting real series): cases, answers, hints."""

from __future__ import annotations

import copy

import numpy as np

from book.grading.core import (
    Case,
    Exercise,
    Mismatch,
    call_learner,
    check_function_cases,
    compare_array,
    draw_shapes,
    function_exercise,
    register,
    select_outputs,
)
from book.nn.forecast import fit_linear_ar, make_windows, seasonal_naive_forecast


# --------------------------------------------------------------------------
# 9.1 windows of a series
# --------------------------------------------------------------------------
def windows(series, n_in, horizon):
    """Reference for 9.1: X (N, n_in) and Y (N, horizon), N = T - n_in - horizon + 1."""
    return make_windows(series, n_in, horizon)


def _window_cases(rng: np.random.Generator | None = None) -> list[Case]:
    shapes = [(20, 5, 3), (12, 4, 1), (30, 7, 6)] if rng is None else [
        (n + K + int(rng.integers(0, 25)), n, K) for n, K in draw_shapes(rng, 3, n_in=(1, 9), horizon=(1, 7))
    ]
    rng = np.random.default_rng(901) if rng is None else rng
    return [Case(f"T={T}, n_in={n}, horizon={K}", (np.cumsum(rng.normal(size=T)), n, K)) for T, n, K in shapes]


def _index_windows(series, n_in, horizon, shift=0, drop_last=False):
    s = np.asarray(series, dtype=np.float64)
    N = len(s) - n_in - horizon + 1 - (1 if drop_last else 0)
    i = np.arange(N)[:, None]
    return s[i + np.arange(n_in)], s[i + n_in + shift + np.arange(horizon)]


def _targets_from_last_input(series, n_in, horizon):
    return _index_windows(series, n_in, horizon, shift=-1)


def _targets_skip_a_step(series, n_in, horizon):
    s = np.asarray(series, dtype=np.float64)
    N = len(s) - n_in - horizon
    i = np.arange(N)[:, None]
    return s[i + np.arange(n_in)], s[i + n_in + 1 + np.arange(horizon)]


def _one_window_short(series, n_in, horizon):
    return _index_windows(series, n_in, horizon, drop_last=True)


function_exercise(
    "9.1",
    "windows of a series",
    2,
    reference=windows,
    cases=_window_cases,
    outputs=["X", "Y"],
    mistakes=[
        (
            _targets_from_last_input,
            "off by one in the horizon: Y[i, 0] must be the value after the last input, s[i + n_in]",
        ),
        (
            _targets_skip_a_step,
            "off by one in the horizon: the targets skip a step; Y[i, 0] is s[i + n_in]",
        ),
        (
            _one_window_short,
            "one window short: the last window's last target is the series' last value (N = T - n_in - horizon + 1)",
        ),
    ],
    stars=2,
    minutes=15,
)


# --------------------------------------------------------------------------
# 9.2 seasonal-naive forecast
# --------------------------------------------------------------------------
def seasonal_naive(X, horizon, season):
    """Reference for 9.2: (N, n_in) -> (N, horizon)."""
    return seasonal_naive_forecast(X, horizon, season)


def _seasonal_cases(rng: np.random.Generator | None = None) -> list[Case]:
    if rng is not None:
        cases = []
        for K, m in draw_shapes(rng, 4, horizon=(1, 11), season=(2, 7)):
            n = m + int(rng.integers(0, 10))
            cases.append(Case(f"n_in={n}, horizon={K}, season={m}", (rng.normal(size=(int(rng.integers(1, 6)), n)), K, m)))
        return cases
    rng = np.random.default_rng(902)
    return [
        Case(f"n_in=12, horizon={K}, season={m}", (rng.normal(size=(4, 12)), K, m))
        for K, m in [(3, 4), (7, 3), (5, 5), (9, 4)]
    ]


def _persistence(X, horizon, season):
    return np.repeat(np.asarray(X, dtype=np.float64)[:, -1:], horizon, axis=1)


def _oldest_season(X, horizon, season):
    return np.asarray(X, dtype=np.float64)[:, np.arange(horizon) % season]


function_exercise(
    "9.2",
    "seasonal-naive forecast",
    2,
    reference=seasonal_naive,
    cases=_seasonal_cases,
    outputs=["forecast"],
    mistakes=[
        (
            _persistence,
            "that is persistence (the last value for every horizon), not the value one season earlier",
        ),
        (
            lambda X, K, m: seasonal_naive_forecast(X, K, m + 1),
            "wrong season length: this looks back season + 1 steps (off by one)",
        ),
        (
            lambda X, K, m: seasonal_naive_forecast(X, K, m - 1),
            "wrong season length: this looks back season - 1 steps (off by one)",
        ),
        (
            _oldest_season,
            "this uses the oldest season in the window; use the most recent one, ending at X[:, -1]",
        ),
    ],
    stars=2,
    minutes=15,
)


# --------------------------------------------------------------------------
# 9.3 a time-ordered split, scaled with training statistics only
# --------------------------------------------------------------------------
def split_and_scale(series, train_frac, val_frac):
    """Reference for 9.3: contiguous blocks, all scaled by the training block's mean and std."""
    s = np.asarray(series, dtype=np.float64)
    a, b = int(train_frac * len(s)), int((train_frac + val_frac) * len(s))
    mean, std = s[:a].mean(), s[:a].std()
    return (s[:a] - mean) / std, (s[a:b] - mean) / std, (s[b:] - mean) / std


def _split_cases(rng: np.random.Generator | None = None) -> list[Case]:
    settings = [(50, 0.6, 0.2), (37, 0.5, 0.25), (20, 0.7, 0.15)] if rng is None else [
        (int(rng.integers(20, 90)), round(float(rng.uniform(0.4, 0.7)), 2), round(float(rng.uniform(0.1, 0.25)), 2))
        for _ in range(3)
    ]
    rng = np.random.default_rng(903) if rng is None else rng
    return [
        Case(f"T={T}, train={f1}, val={f2}", (10 + np.cumsum(rng.normal(size=T)), f1, f2))
        for T, f1, f2 in settings
    ]


def _global_statistics(series, f1, f2):
    s = np.asarray(series, dtype=np.float64)
    a, b = int(f1 * len(s)), int((f1 + f2) * len(s))
    z = (s - s.mean()) / s.std()
    return z[:a], z[a:b], z[b:]


def _own_statistics(series, f1, f2):
    s = np.asarray(series, dtype=np.float64)
    a, b = int(f1 * len(s)), int((f1 + f2) * len(s))
    return tuple((blk - blk.mean()) / blk.std() for blk in (s[:a], s[a:b], s[b:]))


_SPLIT_MISTAKES = [
    (
        _global_statistics,
        "leakage: the mean and std come from the whole series, including the future; use the training block only",
    ),
    (
        _own_statistics,
        "each block is scaled by its own statistics; validation and test must use the training block's mean and std",
    ),
]


def _zscore(v):
    v = np.asarray(v, dtype=np.float64)
    return (v - v.mean()) / v.std()


def _grade_split(fn, rng: np.random.Generator | None = None) -> str:
    outputs = ["train", "val", "test"]
    cases = _split_cases(rng)
    try:
        return check_function_cases(
            fn, split_and_scale, cases, outputs, _SPLIT_MISTAKES, rtol=1e-6, atol=1e-9
        )
    except Mismatch as exc:
        if any(
            hint in str(exc) for _, hint in _SPLIT_MISTAKES
        ):  # a recognised mistake, already named
            raise
        # A shuffled split: the three blocks together hold every value under one
        # affine map, but the training block is not the first part of the series.
        for case in cases:
            got = select_outputs(call_learner(fn, *case.args), outputs, strict=False)
            expected = split_and_scale(*copy.deepcopy(case.args))
            if all(
                compare_array(n, g, e) is None
                for n, g, e in zip(outputs, got, expected, strict=True)
            ):
                continue
            try:
                together = np.concatenate([np.asarray(g, dtype=np.float64).ravel() for g in got])
            except (TypeError, ValueError):
                raise exc from None
            same_values = together.size == case.args[0].size and np.allclose(
                np.sort(_zscore(together)), np.sort(_zscore(case.args[0]))
            )
            if same_values:
                raise Mismatch(
                    f"{exc}; the blocks hold the series' values but not in time order: did you shuffle? "
                    "The split must be contiguous: train first, then validation, then test"
                ) from None
            break
        raise


register(Exercise("9.3", "a time-ordered split without leakage", 2, _grade_split, hidden=True, kind="implement", stars=2, minutes=15))


# --------------------------------------------------------------------------
# 9.4 a linear autoregressive model
# --------------------------------------------------------------------------
def fit_ar(X, Y):
    """Reference for 9.4: least-squares W (n_in, horizon) and intercept b (horizon,)."""
    return fit_linear_ar(X, Y)


def _ar_cases(rng: np.random.Generator | None = None) -> list[Case]:
    settings = [(40, 5, 3, 10.0), (25, 3, 1, -4.0), (60, 8, 4, 2.5)] if rng is None else [
        (n + int(rng.integers(15, 60)), n, K, round(float(rng.uniform(-10, 10)), 2))
        for n, K in draw_shapes(rng, 3, n_in=(1, 8), horizon=(1, 5))
    ]
    rng = np.random.default_rng(904) if rng is None else rng
    cases = []
    for N, n, K, offset in settings:
        X = offset + rng.normal(size=(N, n))
        Y = (
            X @ rng.normal(scale=0.5, size=(n, K))
            + rng.normal(size=K)
            + 0.1 * rng.normal(size=(N, K))
        )
        cases.append(Case(f"N={N}, n_in={n}, horizon={K}", (X, Y)))
    return cases


def _no_intercept(X, Y):
    W = np.linalg.lstsq(X, Y, rcond=None)[0]
    return W, np.zeros(Y.shape[1])


def _intercept_afterwards(X, Y):
    W = np.linalg.lstsq(X, Y, rcond=None)[0]
    return W, (Y - X @ W).mean(axis=0)


def _first_horizon_only(X, Y):
    W, b = fit_linear_ar(X, Y[:, :1])
    K = Y.shape[1]
    return np.repeat(W, K, axis=1), np.repeat(b, K)


function_exercise(
    "9.4",
    "a linear autoregressive model",
    2,
    reference=fit_ar,
    cases=_ar_cases,
    outputs=["W", "b"],
    mistakes=[
        (
            _no_intercept,
            "the intercept b is missing: fit it together with W (a column of ones, or centre X and Y)",
        ),
        (
            _intercept_afterwards,
            "W was fitted without an intercept and b added afterwards; fit W and b together",
        ),
        (
            _first_horizon_only,
            "every horizon needs its own column of W and its own b; this repeats the first",
        ),
    ],
    rtol=1e-6,
    atol=1e-8,
    stars=2,
    minutes=15,
)
