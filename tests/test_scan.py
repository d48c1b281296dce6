"""book.nn.scan: the parallel scans against the loop and against TensorFlow, the reverse scan's gradients."""

from __future__ import annotations

import numpy as np
import pytest

from book.nn.gradcheck import check_gradients
from book.nn.scan import (
    combine,
    linear_scan,
    linear_scan_backward,
    log_space_scan,
    odd_even_scan,
    parallel_scan,
    scan_work,
)

SHAPES = [(1, 1, 1), (2, 5, 3), (1, 7, 2), (3, 16, 4), (2, 33, 1), (4, 100, 3)]  # N, T, H


def _data(N, T, H, seed=0, low=-1.0):
    rng = np.random.default_rng(seed + 7 * T)
    return rng.uniform(low, 1.0, (N, T, H)), rng.normal(size=(N, T, H)), rng.normal(size=(N, H))


@pytest.mark.parametrize("N,T,H", SHAPES)
def test_scans_equal_the_loop(N, T, H):
    a, b, h0 = _data(N, T, H)
    h = linear_scan(a, b, h0)
    ref = np.empty_like(b)  # the recurrence written out once more
    prev = h0
    for t in range(T):
        prev = a[:, t] * prev + b[:, t]
        ref[:, t] = prev
    np.testing.assert_allclose(h, ref, rtol=0, atol=1e-14)
    for scan in (parallel_scan, odd_even_scan):
        out = scan(a, b, h0)
        assert out.shape == (N, T, H) and out.dtype == np.float64
        np.testing.assert_allclose(out, h, rtol=0, atol=1e-9)


def test_zero_state_by_default_and_empty_sequences():
    a, b, _ = _data(2, 6, 3)
    np.testing.assert_allclose(parallel_scan(a, b), linear_scan(a, b, np.zeros((2, 3))), atol=1e-12)
    for scan in (linear_scan, parallel_scan, odd_even_scan):
        assert scan(np.ones((2, 0, 3)), np.ones((2, 0, 3)), np.ones((2, 3))).shape == (2, 0, 3)


def test_parallel_scan_loops_over_levels_not_steps():
    """Python lines run inside parallel_scan grow with log2 T, not with T."""
    import sys

    counts = {}

    def tracer(frame, event, arg):
        if frame.f_code is parallel_scan.__code__:
            counts[T] = counts.get(T, 0) + 1 if event == "line" else counts.get(T, 0)
            return tracer
        return None

    for T in (16, 1000, 4096):
        a, b, h0 = _data(1, T, 1)
        sys.settrace(tracer)
        try:
            parallel_scan(a, b, h0)
        finally:
            sys.settrace(None)
    per_level = (counts[4096] - counts[16]) / (12 - 4)
    assert 1 <= per_level <= 5 and counts[4096] < 80, counts
    assert scan_work(4096)["hillis_steele_depth"] == 12


def test_combine_is_associative_not_commutative():
    rng = np.random.default_rng(1)
    p, q, r = [(rng.normal(size=3), rng.normal(size=3)) for _ in range(3)]
    left, right = combine(combine(p, q), r), combine(p, combine(q, r))
    np.testing.assert_allclose(left, right, atol=1e-14)
    assert not np.allclose(combine(p, q), combine(q, p))


def test_work_and_depth_counts():
    for T in (1, 2, 3, 7, 8, 100, 4096):
        w = scan_work(T)
        assert w["loop_work"] == w["loop_depth"] == T - 1
        assert w["odd_even_work"] < 2 * T
        assert w["hillis_steele_depth"] == int(np.ceil(np.log2(T)))
    assert scan_work(4096)["hillis_steele_work"] == 4096 * 12 - 4095
    with pytest.raises(ValueError):
        scan_work(0)


def test_log_space_scan_matches_and_survives_long_sequences():
    a, b, h0 = _data(2, 50, 3, low=0.05)
    b, h0 = np.abs(b) + 0.01, np.abs(h0) + 0.01
    np.testing.assert_allclose(np.exp(log_space_scan(np.log(a), np.log(b), np.log(h0))),
                               linear_scan(a, b, h0), rtol=1e-10)
    np.testing.assert_allclose(np.exp(log_space_scan(np.log(a), np.log(b))), linear_scan(a, b), rtol=1e-10)
    # 5000 steps of a = 0.5: prod a = 2^-5000 underflows, so the closed form b / prod a fails; log space does not
    T = 5000
    la, lb = np.full((1, T, 1), np.log(0.5)), np.zeros((1, T, 1))
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        P = np.cumprod(np.exp(la), axis=1)
        closed = P * np.cumsum(np.exp(lb) / P, axis=1)
    assert not np.all(np.isfinite(closed))
    out = np.exp(log_space_scan(la, lb))
    np.testing.assert_allclose(out, linear_scan(np.exp(la), np.exp(lb)), rtol=1e-10)


@pytest.mark.parametrize("N,T,H", [(1, 1, 1), (2, 6, 3), (3, 9, 2)])
def test_backward_matches_finite_differences(N, T, H):
    a, b, h0 = _data(N, T, H, seed=3)
    dh = np.random.default_rng(4).normal(size=(N, T, H))
    h = linear_scan(a, b, h0)
    da, db, dh0 = linear_scan_backward(dh, a, h, h0)
    errs = check_gradients(lambda: linear_scan(a, b, h0), {"a": a, "b": b, "h0": h0},
                           {"a": da, "b": db, "h0": dh0}, dout=dh)
    assert max(errs.values()) < 1e-8, errs


def test_scan_matches_tensorflow_and_its_gradients():
    import book

    book.setup(seed=0)
    import tensorflow as tf

    for N, T, H in ((1, 1, 2), (2, 13, 3)):
        a, b, h0 = _data(N, T, H, seed=5)
        dh = np.random.default_rng(6).normal(size=(N, T, H))
        ta, tb, th0 = (tf.Variable(v) for v in (a, b, h0))
        with tf.GradientTape() as tape:
            states = tf.scan(lambda h, ab: ab[0] * h + ab[1],
                             (tf.transpose(ta, (1, 0, 2)), tf.transpose(tb, (1, 0, 2))), initializer=th0)
            loss = tf.reduce_sum(tf.transpose(states, (1, 0, 2)) * dh)
        ga, gb, gh0 = tape.gradient(loss, [ta, tb, th0])
        h = parallel_scan(a, b, h0)
        np.testing.assert_allclose(h, tf.transpose(states, (1, 0, 2)).numpy(), atol=1e-12)
        for mine, theirs in zip(linear_scan_backward(dh, a, h, h0), (ga, gb, gh0), strict=True):
            np.testing.assert_allclose(mine, theirs.numpy(), atol=1e-12)


@pytest.mark.parametrize("args,match", [
    ((np.ones((2, 3)), np.ones((2, 3)), np.ones((2, 1))), "(N, T, H)"),
    ((np.ones((2, 3, 4)), np.ones((2, 3, 5)), np.ones((2, 4))), "same shape"),
    ((np.ones((2, 3, 4)), np.ones((2, 3, 4)), np.ones((2, 5))), "h0"),
    ((np.ones((2, 3, 4)), np.ones((2, 3, 4)), np.ones((4,))), "h0"),
])
def test_bad_shapes_raise_clear_errors(args, match):
    for scan in (linear_scan, parallel_scan, odd_even_scan):
        with pytest.raises(ValueError, match=match.replace("(", r"\(").replace(")", r"\)")):
            scan(*args)


def test_float32_in_float32_out():
    a, b, h0 = (v.astype(np.float32) for v in _data(2, 9, 3))
    out = parallel_scan(a, b, h0)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, linear_scan(a, b, h0), atol=1e-5)
