"""book.nn.rtrl: the step-wise RTRL equals BPTT and finite differences; the online learner learns."""

from __future__ import annotations

import numpy as np
import pytest

from book.nn import numerical_gradient, rel_error, rnn_backward, rnn_forward, rtrl_gradients
from book.nn.rtrl import (
    bptt_cache_size,
    measure,
    rtrl_contract,
    rtrl_init,
    rtrl_online,
    rtrl_step_forward,
    sensitivity_size,
)


def _problem(seed, N=3, T=6, D=2, H=4):
    rng = np.random.default_rng(seed)
    return (
        rng.normal(size=(N, T, D)),
        rng.normal(size=(N, H)),
        rng.normal(scale=0.5, size=(D, H)),
        rng.normal(scale=0.5, size=(H, H)),
        rng.normal(scale=0.1, size=H),
        rng.normal(size=(N, T, H)),
    )


def _stepwise(x, h0, W_xh, W_hh, b_h, dh):
    N, T, D = x.shape
    S = rtrl_init(N, D, h0.shape[1])
    h, total = h0, [0.0, 0.0, 0.0]
    for t in range(T):
        h, S = rtrl_step_forward(x[:, t], h, S, W_xh, W_hh, b_h)
        total = [a + b for a, b in zip(total, rtrl_contract(dh[:, t], S), strict=True)]
    return total


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_stepwise_rtrl_equals_bptt_and_rtrl_gradients(seed):
    x, h0, W_xh, W_hh, b_h, dh = _problem(seed)
    _, cache = rnn_forward(x, h0, W_xh, W_hh, b_h)
    bptt = rnn_backward(dh, cache)[2:]
    ours = _stepwise(x, h0, W_xh, W_hh, b_h, dh)
    ref = rtrl_gradients(x, h0, W_xh, W_hh, b_h, dh)
    for a, b, c in zip(ours, bptt, ref, strict=True):
        assert rel_error(a, b) < 1e-12
        np.testing.assert_allclose(a, c, rtol=1e-12, atol=1e-14)


def test_stepwise_rtrl_against_finite_differences():
    x, h0, W_xh, W_hh, b_h, dh = _problem(5, N=2, T=4, D=2, H=3)
    ours = _stepwise(x, h0, W_xh, W_hh, b_h, dh)

    def f():
        return rnn_forward(x, h0, W_xh, W_hh, b_h)[0]

    for analytic, p in zip(ours, (W_xh, W_hh, b_h), strict=True):
        assert rel_error(analytic, numerical_gradient(f, p, dh)) < 1e-7


def test_online_learner_learns_a_delay_and_needs_the_carry():
    rng = np.random.default_rng(1)
    T, delay, H = 3000, 3, 8
    x = rng.choice([-1.0, 1.0], size=(T, 1))
    y = np.zeros((T, 1))
    y[delay:] = x[:-delay]
    p = np.random.default_rng(2)
    params = (
        p.normal(size=(1, H)),
        p.normal(size=(H, H)) * 0.9 / np.sqrt(H),
        np.zeros(H),
        np.zeros((H, 1)),
        np.zeros(1),
    )
    before = [q.copy() for q in params]
    losses, _ = rtrl_online(x, y, params, 0.05)
    truncated, _ = rtrl_online(x, y, params, 0.05, carry=False)
    for q, b in zip(params, before, strict=True):  # inputs untouched
        np.testing.assert_array_equal(q, b)
    assert losses[-500:].mean() < 0.01 * losses[:200].mean()
    assert truncated[-500:].mean() > 10 * losses[-500:].mean()


def test_sizes_and_measure():
    assert sensitivity_size(3, 4) == 4 * (12 + 16 + 4)
    assert bptt_cache_size(10, 3, 4) == 70
    seconds, peak = measure(lambda: np.ones(100_000), repeats=1)
    assert seconds >= 0
    assert peak >= 800_000


def test_sensitivities_are_directional_derivatives_of_the_last_state():
    """S_T[:, :, j, k] = d h_T / d W_hh[j, k] (forward mode), checked by centred differences."""
    x, h0, W_xh, W_hh, b_h, _ = _problem(3, N=2, T=4, D=2, H=3)
    N, T, D = x.shape
    S, h = rtrl_init(N, D, 3), h0
    for t in range(T):
        h, S = rtrl_step_forward(x[:, t], h, S, W_xh, W_hh, b_h)
    for p, sens in zip((W_xh, W_hh, b_h), S, strict=True):
        for idx in np.ndindex(*p.shape):
            old, eps = p[idx], 1e-6
            p[idx] = old + eps
            plus = rnn_forward(x, h0, W_xh, W_hh, b_h)[0][:, -1]
            p[idx] = old - eps
            minus = rnn_forward(x, h0, W_xh, W_hh, b_h)[0][:, -1]
            p[idx] = old
            np.testing.assert_allclose(sens[(slice(None), slice(None), *idx)], (plus - minus) / (2 * eps),
                                       atol=1e-8)


def test_reset_sensitivities_give_one_step_truncated_bptt():
    """carry=False in rtrl_online is BPTT truncated to k = 1: the explicit part of every step."""
    from book.nn.bptt import rnn_backward_truncated

    x, h0, W_xh, W_hh, b_h, dh = _problem(4)
    N, T, D = x.shape
    H = h0.shape[1]
    h, total = h0, [0.0, 0.0, 0.0]
    for t in range(T):
        h, S = rtrl_step_forward(x[:, t], h, rtrl_init(N, D, H), W_xh, W_hh, b_h)
        total = [a + b for a, b in zip(total, rtrl_contract(dh[:, t], S), strict=True)]
    _, cache = rnn_forward(x, h0, W_xh, W_hh, b_h)
    for a, b in zip(total, rnn_backward_truncated(dh, cache, 1)[2:], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)
