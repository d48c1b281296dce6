"""book.nn.forecast: windows, time-ordered splits, baselines and metrics, against direct loops and known answers."""

from __future__ import annotations

import numpy as np
import pytest

from book.nn.forecast import (
    fit_linear_ar,
    linear_ar_forecast,
    mae,
    make_windows,
    mean_and_std,
    persistence_forecast,
    rmse,
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
