"""book.nn.bptt: truncated BPTT against full BPTT, its definition, and the cost measurements."""

from __future__ import annotations

import numpy as np
import pytest

from book.nn import rnn_backward, rnn_forward
from book.nn.bptt import full_bptt, measure, rnn_backward_truncated, tbptt_chunked


def _problem(seed=0, N=3, T=9, D=4, H=5):
    rng = np.random.default_rng(seed)
    args = (
        rng.normal(size=(N, T, D)),
        rng.normal(size=(N, H)),
        rng.normal(scale=0.5, size=(D, H)),
        rng.normal(scale=0.5, size=(H, H)),
        rng.normal(scale=0.1, size=H),
    )
    return args, rng.normal(size=(N, T, H))


@pytest.mark.parametrize("k", [9, 10, 100])
def test_truncation_at_or_beyond_T_is_full_bptt(k):
    args, dh = _problem()
    _, cache = rnn_forward(*args)
    for a, b in zip(rnn_backward_truncated(dh, cache, k), rnn_backward(dh, cache), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_truncated_matches_its_definition(k):
    """Loss term t alone, run from the true state h_{t-k}, over steps t-k+1..t: the k-step gradient."""
    args, dh = _problem(seed=k)
    x, h0, W_xh, W_hh, b_h = args
    h, cache = rnn_forward(*args)
    T = x.shape[1]
    want = [np.zeros_like(W_xh), np.zeros_like(W_hh), np.zeros_like(b_h)]
    for t in range(T):
        start = max(t - k + 1, 0)
        h_start = h0 if start == 0 else h[:, start - 1]
        _, sub = rnn_forward(x[:, start : t + 1], h_start, W_xh, W_hh, b_h)
        only_t = np.zeros((x.shape[0], t + 1 - start, h0.shape[1]))
        only_t[:, -1] = dh[:, t]
        for w, g in zip(want, rnn_backward(only_t, sub)[2:], strict=True):
            w += g
    got = rnn_backward_truncated(dh, cache, k)[2:]
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)


def test_truncation_error_shrinks_with_k():
    args, dh = _problem(T=30)
    _, cache = rnn_forward(*args)
    full = rnn_backward(dh, cache)[3]
    errs = [np.linalg.norm(rnn_backward_truncated(dh, cache, k)[3] - full) for k in (1, 2, 4, 8, 16, 30)]
    assert all(a > b for a, b in zip(errs, errs[1:], strict=False))
    assert errs[-1] < 1e-12


def test_chunked():
    args, dh = _problem()
    x = args[0]
    h, cache = rnn_forward(*args)
    full = rnn_backward(dh, cache)
    got = tbptt_chunked(*args, dh, k=x.shape[1])
    for a, b in zip(got[:3], full[2:], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(got[3], h[:, -1])
    # chunks of one step keep only the explicit part, like 1-step truncation
    one = tbptt_chunked(*args, dh, k=1)
    for a, b in zip(one[:3], rnn_backward_truncated(dh, cache, 1)[2:], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)
    # the forward pass is exact whatever the chunk length
    np.testing.assert_allclose(tbptt_chunked(*args, dh, k=4)[3], h[:, -1], rtol=1e-14)
    for a, b in zip(full_bptt(*args, dh), (*full[2:], h[:, -1]), strict=True):
        np.testing.assert_allclose(a, b)


def test_bad_k():
    args, dh = _problem()
    _, cache = rnn_forward(*args)
    with pytest.raises(ValueError):
        rnn_backward_truncated(dh, cache, 0)
    with pytest.raises(ValueError):
        tbptt_chunked(*args, dh, 0)


def test_measured_memory_grows_with_T_for_full_bptt_only():
    def problem(T):
        return _problem(N=16, T=T, D=8, H=32)

    (a_short, dh_short), (a_long, dh_long) = problem(50), problem(400)
    _, full_short = measure(full_bptt, *a_short, dh_short, repeat=1)
    _, full_long = measure(full_bptt, *a_long, dh_long, repeat=1)
    _, chunk_short = measure(tbptt_chunked, *a_short, dh_short, 10, repeat=1)
    seconds, chunk_long = measure(tbptt_chunked, *a_long, dh_long, 10, repeat=1)
    assert seconds > 0
    assert full_long > 5 * full_short  # 8x more steps: memory in proportion
    assert chunk_long < 1.5 * chunk_short  # chunked: memory independent of T
    assert chunk_long < full_long / 10


def test_jacobian_product_convention():
    """Row layout: J_t = W_hh diag(1 - h_t**2); a loss on h_T reaches h_0 as g_T (J_1 ... J_T)^T."""
    args, _ = _problem(seed=7, N=1, T=5)
    x, h0, W_xh, W_hh, b_h = args
    h, cache = rnn_forward(*args)
    g_T = np.random.default_rng(8).normal(size=(1, h0.shape[1]))
    P = np.eye(h0.shape[1])
    for t in range(x.shape[1]):
        P = P @ (W_hh * (1 - h[0, t] ** 2))  # J_1 J_2 ... J_T, in the order of the steps
    only_last = np.zeros(h.shape)
    only_last[:, -1] = g_T
    np.testing.assert_allclose(rnn_backward(only_last, cache)[1], g_T @ P.T, rtol=1e-12, atol=1e-14)
    # and P[j, i] = d h_T[i] / d h_0[j], by centred differences
    eps = 1e-6
    for j in range(h0.shape[1]):
        e = np.zeros_like(h0)
        e[0, j] = eps
        diff = rnn_forward(x, h0 + e, W_xh, W_hh, b_h)[0][0, -1] - rnn_forward(x, h0 - e, W_xh, W_hh, b_h)[0][0, -1]
        np.testing.assert_allclose(P[j], diff / (2 * eps), atol=1e-8)


def test_truncation_gives_no_gradient_to_inputs_k_or_more_steps_back():
    args, _ = _problem(seed=9, T=12)
    _, cache = rnn_forward(*args)
    only_last = np.zeros((3, 12, 5))
    only_last[:, -1] = 1.0
    full = rnn_backward(only_last, cache)[0]
    trunc = rnn_backward_truncated(only_last, cache, 4)[0]
    assert np.all(trunc[:, :8] == 0)
    np.testing.assert_allclose(trunc[:, 8:], full[:, 8:], rtol=1e-12, atol=1e-14)
    assert np.all(np.abs(full[:, :8]).sum(axis=(0, 2)) > 0)
