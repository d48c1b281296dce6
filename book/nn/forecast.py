"""Forecasting a series: windows, time-ordered splits, baselines and error metrics.

Everything here is NumPy and works on a one-dimensional series ``s`` of
length ``T`` (float64).  A forecaster reads a window of the last ``n_in``
values and predicts the next ``horizon`` values:

    inputs  X[i] = s[i*stride : i*stride + n_in]                      (n_in,)
    targets Y[i] = s[i*stride + n_in : i*stride + n_in + horizon]     (horizon,)

so ``Y[i, h-1]`` is the value ``h`` steps after the last input, ``h = 1..horizon``.
With ``targets=(lo, hi)`` only windows whose targets all lie in one block of a
time-ordered split are kept, so no target is used by two blocks.

Splits are contiguous blocks in time order (train, then validation, then
test), and anything estimated from data (scaling statistics, regression
weights) comes from the training block only, so no information flows from
the future into the past.  The baselines are the ones any learned forecaster
must beat to be worth its cost:

- persistence: every future value equals the last one seen;
- seasonal-naive: the value one season (e.g. 24 hours) before the target;
- a linear autoregressive model fitted by least squares, one output per horizon
  (the "direct" strategy).

For evaluation, :func:`rolling_origins` places forecast origins through the
test block (at origin ``t`` a forecaster knows ``s[:t]`` and predicts
``s[t : t + horizon]``), :func:`mase` gives the scale-free mean absolute
scaled error of Hyndman and Koehler (2006), and :func:`mean_interval` an
approximate 95 % interval for a mean over origins or test days.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def make_windows(
    series: np.ndarray,
    n_in: int,
    horizon: int,
    stride: int = 1,
    targets: tuple[int, int] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Cut a series into (inputs, targets) pairs.

    Parameters
    ----------
    series : (T,) or (T, F) array; with F features the inputs keep them, the
        targets are feature 0.
    n_in : length of each input window.
    horizon : number of future steps to predict.
    stride : step between the starts of consecutive windows.
    targets : ``(lo, hi)`` keeps only the windows whose targets all lie in
        ``series[lo:hi]`` (a block of a time-ordered split); their inputs may
        reach back before ``lo``, which is fair: at forecast time the past is
        known.  Default: the whole series.

    Returns
    -------
    X : (N, n_in) or (N, n_in, F); Y : (N, horizon).  Without ``targets``,
    ``N = (T - n_in - horizon) // stride + 1`` and ``X[i] = series[i*stride : i*stride + n_in]``,
    ``Y[i, h-1] = series[i*stride + n_in + h - 1]``.
    """
    s = np.asarray(series, dtype=np.float64)
    if n_in < 1 or horizon < 1 or stride < 1:
        raise ValueError("n_in, horizon and stride must be positive")
    T = s.shape[0]
    lo, hi = (0, T) if targets is None else targets
    first = np.arange(
        max(lo, n_in), min(hi, T) - horizon + 1, stride
    )  # index of each window's first target
    if first.size == 0:
        raise ValueError(
            f"no window of {n_in} + {horizon} steps fits (series of {T}, targets in [{lo}, {hi}))"
        )
    X = s[first[:, None] - n_in + np.arange(n_in)]
    target = s if s.ndim == 1 else s[:, 0]
    Y = target[first[:, None] + np.arange(horizon)]
    return X, Y


def split_bounds(T: int, fractions: Sequence[float] = (0.7, 0.15)) -> list[tuple[int, int]]:
    """``[(0, a), (a, b), (b, T)]``: contiguous train / validation / test index ranges in time order.

    ``fractions`` gives the sizes of all blocks but the last, which gets the
    rest; boundaries are ``floor(cumulative fraction * T)``.
    """
    cuts = [0, *np.floor(np.cumsum(fractions) * T).astype(int).tolist(), T]
    if any(b <= a for a, b in zip(cuts[:-1], cuts[1:], strict=True)):
        raise ValueError(f"fractions {tuple(fractions)} leave an empty block of a {T}-step series")
    return list(zip(cuts[:-1], cuts[1:], strict=True))


def time_split(
    series: np.ndarray, fractions: Sequence[float] = (0.7, 0.15)
) -> tuple[np.ndarray, ...]:
    """Contiguous train / validation / test blocks of a series (see :func:`split_bounds`)."""
    s = np.asarray(series)
    return tuple(s[a:b] for a, b in split_bounds(s.shape[0], fractions))


def standardize(train: np.ndarray, *others: np.ndarray) -> tuple[list[np.ndarray], float, float]:
    """Scale every block by the mean and standard deviation of ``train`` only.

    Returns ``([train_scaled, *others_scaled], mean, std)``; invert with
    ``x * std + mean``.
    """
    mean = float(np.mean(train))
    std = float(np.std(train))
    return [(np.asarray(a, dtype=np.float64) - mean) / std for a in (train, *others)], mean, std


def persistence_forecast(X: np.ndarray, horizon: int) -> np.ndarray:
    """Repeat the last input value: (N, n_in) -> (N, horizon)."""
    X = np.asarray(X, dtype=np.float64)
    return np.repeat(X[:, -1:], horizon, axis=1)


def seasonal_naive_forecast(X: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """The value one season before each target: (N, n_in) -> (N, horizon).

    The target ``h`` steps ahead (at time ``t + h``, with ``X[:, -1]`` at time
    ``t``) is forecast by the last observed value of the same phase of the
    season, ``s[t + h - season * ceil(h / season)]``.  Needs ``n_in >= season``.
    """
    X = np.asarray(X, dtype=np.float64)
    n_in = X.shape[1]
    if season > n_in:
        raise ValueError(
            f"a season of {season} needs input windows of at least {season} steps (got {n_in})"
        )
    h = np.arange(1, horizon + 1)
    lag = season * np.ceil(h / season).astype(int) - h  # steps back from t
    return X[:, n_in - 1 - lag]


def fit_linear_ar(
    X: np.ndarray, Y: np.ndarray, ridge: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares linear autoregression, one output per horizon.

    Solves ``min ||X W + b - Y||^2 + ridge ||W||^2`` on the training windows
    through the normal equations ``(Xc^T Xc + ridge I) W = Xc^T Yc`` of the
    centred data: an (n_in, n_in) system, cheap enough to refit at every
    forecast origin.  A singular system (a constant input column, say) falls
    back to the minimum-norm least-squares solution.

    Parameters
    ----------
    X : (N, n_in) training inputs; Y : (N, horizon) training targets.

    Returns
    -------
    W : (n_in, horizon), b : (horizon,).
    """
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    x_mean, y_mean = X.mean(axis=0), Y.mean(axis=0)
    Xc, Yc = X - x_mean, Y - y_mean  # centring fits the intercept exactly
    A = Xc.T @ Xc + ridge * np.eye(X.shape[1])
    try:
        W = np.linalg.solve(A, Xc.T @ Yc)
    except np.linalg.LinAlgError:
        W = np.linalg.lstsq(Xc, Yc, rcond=None)[0] if ridge == 0 else np.linalg.pinv(A) @ (Xc.T @ Yc)
    b = y_mean - x_mean @ W
    return W, b


def linear_ar_forecast(X: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Apply a fitted linear AR model: (N, n_in) -> (N, horizon)."""
    return np.asarray(X, dtype=np.float64) @ W + b


def mae(y_true: np.ndarray, y_pred: np.ndarray, axis: int | None = None) -> np.ndarray | float:
    """Mean absolute error (over all entries, or along ``axis``)."""
    return np.mean(
        np.abs(np.asarray(y_pred, dtype=np.float64) - np.asarray(y_true, dtype=np.float64)),
        axis=axis,
    )


def rmse(y_true: np.ndarray, y_pred: np.ndarray, axis: int | None = None) -> np.ndarray | float:
    """Root mean squared error (over all entries, or along ``axis``)."""
    err = np.asarray(y_pred, dtype=np.float64) - np.asarray(y_true, dtype=np.float64)
    return np.sqrt(np.mean(err**2, axis=axis))


def mean_and_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof=1; 0 for a single value) of repeated runs."""
    v = np.asarray(values, dtype=np.float64)
    return float(v.mean()), float(v.std(ddof=1)) if v.size > 1 else 0.0


def naive_scale(train: np.ndarray, season: int = 1) -> float:
    """In-sample MAE of the (seasonal-)naive forecast on the training series: the MASE scale.

    ``mean(|s[t] - s[t - season]|)`` for ``t = season .. T-1`` of the (T,)
    training series; ``season=1`` is the one-step naive forecast (persistence).
    """
    s = np.asarray(train, dtype=np.float64)
    if s.ndim != 1 or season < 1 or s.size <= season:
        raise ValueError(f"need a 1-D training series longer than the season {season} (got shape {s.shape})")
    return float(np.mean(np.abs(s[season:] - s[:-season])))


def mase(
    y_true: np.ndarray, y_pred: np.ndarray, scale: float, axis: int | None = None
) -> np.ndarray | float:
    """Mean absolute scaled error: ``mae(y_true, y_pred, axis) / scale``.

    ``scale`` is the in-sample MAE of a naive forecast on the training data
    (:func:`naive_scale`), so a MASE below 1 means a smaller error than the
    naive forecast made one step ahead on the training block, in any unit
    (Hyndman and Koehler 2006).  Shapes as for :func:`mae`.
    """
    if not scale > 0:
        raise ValueError(f"the MASE scale must be positive (got {scale})")
    return mae(y_true, y_pred, axis=axis) / scale


def rolling_origins(lo: int, hi: int, horizon: int, step: int | None = None) -> np.ndarray:
    """Forecast origins every ``step`` steps through the block ``[lo, hi)``.

    At origin ``t`` a forecaster may use ``s[:t]`` (everything before ``t``)
    and predicts ``s[t : t + horizon]``; origins are ``lo, lo + step, ...``
    as long as ``t + horizon <= hi``, so every target lies in the block.
    ``step`` defaults to ``horizon``: the forecast periods then do not
    overlap.  Returns an (n_origins,) int array.  For ``lo >= n_in``,
    ``make_windows(s, n_in, horizon, stride=step, targets=(lo, hi))`` gives
    the windows of exactly these origins, in order.
    """
    step = horizon if step is None else step
    if horizon < 1 or step < 1:
        raise ValueError("horizon and step must be positive")
    origins = np.arange(lo, hi - horizon + 1, step)
    if origins.size == 0:
        raise ValueError(f"no origin fits: a horizon of {horizon} in the block [{lo}, {hi})")
    return origins


def mean_interval(
    values: Sequence[float], z: float = 1.96, batch: int = 1
) -> tuple[float, float, float]:
    """Mean of a sequence and the normal-approximation interval ``mean +- z * sd / sqrt(n)``.

    Parameters
    ----------
    values : (n_values,) in time order, e.g. the error at each forecast origin.
    z : 1.96 gives an approximate 95 % interval.
    batch : average consecutive, non-overlapping groups of ``batch`` values
        first ("batch means") and take ``sd`` (ddof=1) and ``n`` over those
        means; values left over at the end are dropped.  Neighbouring
        origins make correlated errors (their forecast periods overlap), and
        means over batches at least as long as the forecast horizon are much
        closer to independent, which the interval assumes.

    Returns
    -------
    ``(mean, low, high)``; ``mean`` is the mean of the batch means.
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    if batch < 1:
        raise ValueError("batch must be positive")
    n = v.size // batch
    if n < 2:
        raise ValueError(f"an interval needs at least two batches (got {v.size} values in batches of {batch})")
    means = v[: n * batch].reshape(n, batch).mean(axis=1)
    m = float(means.mean())
    half = z * float(means.std(ddof=1)) / np.sqrt(n)
    return m, m - half, m + half
