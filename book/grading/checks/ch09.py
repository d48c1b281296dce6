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
    choice_exercise,
    compare_array,
    debug_exercise,
    draw_shapes,
    experiment_exercise,
    function_exercise,
    register,
    select_outputs,
    type_name,
    value_exercise,
)
from book.nn.forecast import fit_linear_ar, seasonal_naive_forecast


# --------------------------------------------------------------------------
# 9.1 debug: the windows of one block of a time-ordered split, without leakage
# --------------------------------------------------------------------------
def block_windows(series, n_in, horizon, lo, hi):
    """Reference for 9.1: the windows whose targets all lie in series[lo:hi]."""
    s = np.asarray(series, dtype=np.float64)
    first = np.arange(max(lo, n_in), hi - horizon + 1)  # each window's first target
    return s[first[:, None] - n_in + np.arange(n_in)], s[first[:, None] + np.arange(horizon)]


def _block_cases(rng: np.random.Generator | None = None) -> list[Case]:
    if rng is None:
        settings = [(40, 5, 3, 24, 32), (40, 5, 3, 0, 24), (30, 6, 1, 10, 20), (40, 4, 2, 30, 36)]
    else:
        settings = []
        for n, K, extra in draw_shapes(rng, 4, n_in=(1, 8), horizon=(1, 6), extra=(2, 12)):
            lo, size = int(rng.integers(0, 2 * n + 1)), n + K + extra
            T = lo + size + int(rng.integers(K + 1, 15))  # a later block follows
            settings.append((T, n, K, lo, lo + size))
    rng = np.random.default_rng(901) if rng is None else rng
    return [
        Case(f"T={T}, n_in={n}, horizon={K}, block [{lo}, {hi})", (np.cumsum(rng.normal(size=T)), n, K, lo, hi))
        for T, n, K, lo, hi in settings
    ]


def _starts_in_block(series, n_in, horizon, lo, hi):
    """The buggy version: windows that *start* in the block."""
    s = np.asarray(series, dtype=np.float64)
    start = np.arange(lo, hi - n_in)
    return s[start[:, None] + np.arange(n_in)], s[start[:, None] + n_in + np.arange(horizon)]


def _first_target_in_block(series, n_in, horizon, lo, hi):
    s = np.asarray(series, dtype=np.float64)
    first = np.arange(max(lo, n_in), hi)
    first = first[first + horizon <= len(s)]
    return s[first[:, None] - n_in + np.arange(n_in)], s[first[:, None] + np.arange(horizon)]


def _inputs_in_block(series, n_in, horizon, lo, hi):
    return block_windows(series, n_in, horizon, lo + n_in, hi)


def _one_short(series, n_in, horizon, lo, hi):
    return block_windows(series, n_in, horizon, lo, hi - 1)


debug_exercise(
    "9.1",
    "the windows of one block, without leakage",
    3,
    reference=block_windows,
    buggy=_starts_in_block,
    cases=_block_cases,
    outputs=["X", "Y"],
    mistakes=[
        (_first_target_in_block, "only the first target is kept inside the block: the later targets of the last windows leak past hi"),
        (_inputs_in_block, "the inputs need not lie in the block: windows whose inputs reach back before lo are fair and were dropped"),
        (_one_short, "one window short: the last window's last target is series[hi - 1]"),
    ],
    stars=2,
    minutes=20,
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


register(
    Exercise(
        "9.3", "a split in time order, scaled on the training block", 2, _grade_split,
        hidden=True, kind="implement", stars=1, minutes=10,
    )
)


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


# --------------------------------------------------------------------------
# 9.5 derive: how far the best forecast of an AR(1) beats persistence
# --------------------------------------------------------------------------
PHI_95, K_95 = 0.8, 5
_h = np.arange(1, K_95 + 1)
value_exercise(
    "9.5",
    "the best forecast of an AR(1) against persistence",
    2,
    expected=np.sqrt((1 + PHI_95**_h) / 2),
    mistakes=[
        ((1 + PHI_95**_h) / 2, "that is the ratio of the mean squared errors; the MAE of a Gaussian error grows with its standard deviation"),
        (np.sqrt(2 / (1 + PHI_95**_h)), "upside down: the best forecast's MAE divided by persistence's is at most 1"),
        (np.sqrt(1 - PHI_95 ** (2 * _h)), "that compares the best forecast with the series' own spread, not with persistence's error"),
        (np.sqrt((1 - PHI_95 ** (2 * _h)) / (1 - PHI_95**2)), "that is the best forecast's error in units of sigma; divide by persistence's error"),
    ],
    rtol=1e-4,
    name="ratio",
    stars=3,
    minutes=25,
)


# --------------------------------------------------------------------------
# 9.6 experiment: beat both naive baselines on series the notebook never saw
# --------------------------------------------------------------------------
WEEK = np.array([0.4, 0.6, 0.5, 0.3, 0.0, -0.8, -1.0])  # the weekly profile of simulate()
N_IN_96, K_96, RATIO_96 = 28, 7, 0.85


def simulate(T, seed):
    """A daily series: a weekly profile plus AR(1) noise (the exercise notebook has the same function)."""
    rng = np.random.default_rng(seed)
    noise = rng.normal(scale=0.5, size=T + 200)
    u = np.zeros(T + 200)
    for t in range(1, T + 200):
        u[t] = 0.9 * u[t - 1] + noise[t]
    start = int(rng.integers(0, 7))
    return 20 + 2 * WEEK[(np.arange(T) + start) % 7] + u[200:]


def _evaluate_forecaster(forecast, rng: np.random.Generator | None = None) -> str:
    if not callable(forecast):
        raise Mismatch(f"expected a function forecast(X), got {type_name(forecast)}")
    seed, T = (9606, 1000) if rng is None else (int(rng.integers(10**6, 10**9)), int(rng.integers(700, 1300)))
    s = simulate(T, seed)
    i = np.arange(T - N_IN_96 - K_96 + 1)[:, None]
    X, Y = s[i + np.arange(N_IN_96)], s[i + N_IN_96 + np.arange(K_96)]
    got = call_learner(forecast, X)
    problem = compare_array("forecast(X)", got, Y, rtol=np.inf, atol=np.inf)  # shape and finiteness only
    if problem:
        raise Mismatch(f"on {len(X)} windows of a new series: {problem}")
    err = float(np.abs(np.asarray(got, dtype=np.float64) - Y).mean())
    naive = {
        "persistence": float(np.abs(np.repeat(X[:, -1:], K_96, axis=1) - Y).mean()),
        "seasonal-naive": float(np.abs(seasonal_naive_forecast(X, K_96, 7) - Y).mean()),
    }
    best = min(naive, key=naive.get)
    ratio = err / naive[best]
    text = (
        f"MAE {err:.3f} on {len(X)} windows of a series your notebook never saw; {best}, the better "
        f"baseline, {naive[best]:.3f}: ratio {ratio:.3f}"
    )
    if ratio > RATIO_96:
        raise Mismatch(f"{text}, needs at most {RATIO_96}")
    return text


experiment_exercise("9.6", "beat both naive baselines on new series", 3, _evaluate_forecaster, stars=2, minutes=25)


# --------------------------------------------------------------------------
# 9.7 interpret: an interval over overlapping origins
# --------------------------------------------------------------------------
choice_exercise(
    "9.7",
    "two intervals for one difference",
    1,
    correct="b",
    options="abcd",
    hints={
        "a": "an interval is only as trustworthy as its assumption of independent values; ask whether neighbouring "
        "origins, whose forecast weeks overlap, give independent errors",
        "c": "the mean difference is negative in both; an interval that also reaches positive values does not make "
        "the other model better",
        "d": "more values narrow an interval only when they carry new information; overlapping forecast weeks "
        "repeat much of the same error",
    },
    stars=2,
    minutes=10,
)
