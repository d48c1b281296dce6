"""book.nn.forecast: windows, time-ordered splits, baselines and metrics, against direct loops and known answers."""

from __future__ import annotations

import numpy as np
import pytest

from book.nn.forecast import (
    fit_linear_ar,
    linear_ar_forecast,
    mae,
    make_windows,
    mase,
    mean_and_std,
    mean_interval,
    naive_scale,
    persistence_forecast,
    rmse,
    rolling_origins,
    seasonal_naive_forecast,
    split_bounds,
    standardize,
    time_split,
)


def test_make_windows_matches_a_loop():
    s = np.arange(20.0) ** 1.5
    n, K = 5, 3
    X, Y = make_windows(s, n, K)
    N = len(s) - n - K + 1
    assert X.shape == (N, n) and Y.shape == (N, K)
    for i in range(N):
        assert np.array_equal(X[i], s[i : i + n])
        assert np.array_equal(Y[i], s[i + n : i + n + K])
    assert Y[-1, -1] == s[-1]  # the last window uses the last value


def test_make_windows_stride_and_features():
    s = np.stack([np.arange(30.0), -np.arange(30.0)], axis=1)
    X, Y = make_windows(s, 4, 2, stride=3)
    assert X.shape == (9, 4, 2) and Y.shape == (9, 2)
    assert np.array_equal(X[2, :, 1], -np.arange(6.0, 10.0))
    assert np.array_equal(Y[2], [10.0, 11.0])  # targets are feature 0


def test_windows_restricted_to_a_block_keep_targets_inside():
    s = np.arange(100.0)
    lo, hi = 60, 80
    X, Y = make_windows(s, 10, 4, targets=(lo, hi))
    assert Y.min() == lo and Y.max() == hi - 1  # every target in the block, all of them used
    assert X.min() == lo - 10  # inputs may reach back before the block
    assert np.array_equal(Y[:, 0], X[:, -1] + 1)
    # the first block cannot start before n_in values exist
    X0, Y0 = make_windows(s, 10, 4, targets=(0, 30))
    assert Y0[0, 0] == 10


def test_make_windows_errors():
    with pytest.raises(ValueError, match="too short|no window"):
        make_windows(np.arange(5.0), 4, 3)
    with pytest.raises(ValueError, match="positive"):
        make_windows(np.arange(5.0), 0, 1)


def test_split_is_contiguous_and_ordered():
    s = np.arange(101)
    bounds = split_bounds(len(s), (0.6, 0.2))
    assert bounds == [(0, 60), (60, 80), (80, 101)]
    tr, va, te = time_split(s, (0.6, 0.2))
    assert np.array_equal(np.concatenate([tr, va, te]), s)
    with pytest.raises(ValueError, match="empty block"):
        split_bounds(3, (0.1, 0.1))


def test_standardize_uses_training_statistics_only():
    tr, te = np.array([1.0, 2.0, 3.0]), np.array([100.0, 200.0])
    (ztr, zte), mean, std = standardize(tr, te)
    assert mean == 2.0 and np.isclose(std, np.sqrt(2 / 3))
    assert np.isclose(ztr.mean(), 0) and np.isclose(ztr.std(), 1)
    assert np.allclose(zte, (te - 2.0) / std)


def test_persistence_and_seasonal_naive():
    X = np.arange(24.0).reshape(2, 12)
    assert np.array_equal(persistence_forecast(X, 3), [[11.0] * 3, [23.0] * 3])
    # season 4: h=1..9 look back to t-3, t-2, t-1, t, t-3, ...
    f = seasonal_naive_forecast(X, 9, 4)
    assert np.array_equal(f[0], [8, 9, 10, 11, 8, 9, 10, 11, 8])
    # season 1 is persistence
    assert np.array_equal(seasonal_naive_forecast(X, 5, 1), persistence_forecast(X, 5))
    with pytest.raises(ValueError, match="at least"):
        seasonal_naive_forecast(X, 2, 13)


def test_seasonal_naive_is_exact_on_a_periodic_series():
    s = np.tile([3.0, 1.0, 4.0, 1.0, 5.0], 10)
    X, Y = make_windows(s, 10, 7)
    assert np.allclose(seasonal_naive_forecast(X, 7, 5), Y)


def test_linear_ar_recovers_a_noiseless_ar2():
    rng = np.random.default_rng(0)
    s = np.zeros(300)
    s[:2] = rng.normal(size=2)
    for t in range(2, len(s)):
        s[t] = 0.6 * s[t - 1] - 0.3 * s[t - 2] + 2.0 + 0.5 * rng.normal()
    X, Y = make_windows(s, 2, 1)
    W, b = fit_linear_ar(X, Y)
    assert W.shape == (2, 1) and b.shape == (1,)
    assert np.allclose(W[:, 0], [-0.3, 0.6], atol=0.1) and np.isclose(b[0], 2.0, atol=0.3)
    # exact against a least-squares solve with a column of ones
    A = np.hstack([X, np.ones((len(X), 1))])
    coef = np.linalg.lstsq(A, Y, rcond=None)[0]
    assert np.allclose(W, coef[:-1]) and np.allclose(b, coef[-1])
    assert np.allclose(linear_ar_forecast(X, W, b), A @ coef)


def test_ridge_shrinks_weights():
    rng = np.random.default_rng(1)
    X, Y = rng.normal(size=(50, 6)), rng.normal(size=(50, 2))
    W0, _ = fit_linear_ar(X, Y)
    W1, _ = fit_linear_ar(X, Y, ridge=100.0)
    assert np.linalg.norm(W1) < np.linalg.norm(W0)


def test_metrics():
    y, p = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[2.0, 2.0], [3.0, 0.0]])
    assert mae(y, p) == pytest.approx(1.25)
    assert rmse(y, p) == pytest.approx(np.sqrt(17 / 4))
    assert np.allclose(mae(y, p, axis=0), [0.5, 2.0])
    assert mean_and_std([1.0, 2.0, 3.0]) == (2.0, 1.0)
    assert mean_and_std([4.0]) == (4.0, 0.0)


def test_singular_design_falls_back_to_least_squares():
    X = np.c_[np.arange(10.0), np.full(10, 3.0)]  # a constant column: singular normal equations
    Y = (2 * np.arange(10.0) + 1)[:, None]
    W, b = fit_linear_ar(X, Y)
    assert np.allclose(W[:, 0], [2.0, 0.0]) and np.isclose(b[0], 1.0)


def test_naive_scale_by_hand():
    s = np.array([1.0, 3.0, 2.0, 6.0])
    assert naive_scale(s) == pytest.approx((2 + 1 + 4) / 3)  # |3-1|, |2-3|, |6-2|
    assert naive_scale(s, season=2) == pytest.approx((1 + 3) / 2)  # |2-1|, |6-3|
    with pytest.raises(ValueError, match="longer than the season"):
        naive_scale(s, season=4)


def test_mase_by_hand():
    y, p = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[2.0, 2.0], [3.0, 0.0]])
    assert mase(y, p, 0.5) == pytest.approx(1.25 / 0.5)
    assert np.allclose(mase(y, p, 0.5, axis=0), [1.0, 4.0])
    # persistence one step ahead on the series that gives the scale scores exactly 1
    s = np.array([1.0, 3.0, 2.0, 6.0])
    X, Y = make_windows(s, 1, 1)
    assert mase(Y, persistence_forecast(X, 1), naive_scale(s)) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="positive"):
        mase(y, p, 0.0)


def test_rolling_origins():
    assert rolling_origins(10, 20, 3).tolist() == [10, 13, 16]  # 16 + 3 <= 20 < 19 + 3
    assert rolling_origins(10, 20, 3, step=1).tolist() == list(range(10, 18))
    # the windows of make_windows with the same stride start their targets at the origins
    s = np.arange(30.0)
    X, Y = make_windows(s, 5, 3, stride=3, targets=(10, 20))
    assert np.array_equal(Y[:, 0], rolling_origins(10, 20, 3))
    assert np.all(X[:, -1] < Y[:, 0])  # inputs strictly before each origin
    with pytest.raises(ValueError, match="no origin"):
        rolling_origins(10, 12, 3)


def test_mean_interval_by_hand():
    m, lo, hi = mean_interval([1.0, 2.0, 3.0, 4.0])
    half = 1.96 * np.sqrt(5 / 3) / 2  # sd (ddof=1) of 1..4 is sqrt(5/3), n = 4
    assert (m, lo, hi) == pytest.approx((2.5, 2.5 - half, 2.5 + half))
    # batch means of 2: (1.5, 3.5), sd sqrt(2), n 2; the leftover 100 is dropped
    assert mean_interval([1.0, 2.0, 3.0, 4.0, 100.0], batch=2) == pytest.approx((2.5, 0.54, 4.46))
    assert mean_interval([1.0, 2.0, 3.0], z=0.0) == (2.0, 2.0, 2.0)
    with pytest.raises(ValueError, match="two batches"):
        mean_interval([1.0, 2.0, 3.0], batch=2)
    with pytest.raises(ValueError, match="positive"):
        mean_interval([1.0, 2.0], batch=0)
