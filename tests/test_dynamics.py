"""book.nn.dynamics: Jacobians against finite differences, clipping, initialisers."""

from __future__ import annotations

import numpy as np
import pytest

from book.nn import (
    clip_by_global_norm,
    clip_by_value,
    gated_rnn_states,
    global_norm,
    identity,
    jacobian_products,
    orthogonal,
    random_recurrent,
    rnn_forward,
    scale_to_spectral_radius,
    simple_rnn_states,
    spectral_radius,
)


def _final_state(x, h0, W_xh, W_hh, b_h, activation, gate=None):
    if gate is not None:
        return gated_rnn_states(x, h0, W_xh, W_hh, b_h, *gate)[0][0, -1]
    return simple_rnn_states(x, h0, W_xh, W_hh, b_h, activation)[0][0, -1]


@pytest.mark.parametrize("activation", ["tanh", "relu", "gated"])
def test_jacobian_products_match_finite_differences(activation):
    rng = np.random.default_rng(7)
    T, D, H = 6, 2, 4
    x = rng.normal(size=(1, T, D))
    W_xh = rng.normal(size=(D, H))
    W_hh = rng.normal(scale=0.7, size=(H, H))
    b_h = rng.normal(scale=0.1, size=H) + (0.5 if activation == "relu" else 0.0)
    h0 = rng.normal(size=(1, H)) + (1.0 if activation == "relu" else 0.0)
    gate = (rng.normal(size=(D, H)), rng.normal(size=H)) if activation == "gated" else None
    act = "tanh" if activation == "gated" else activation
    if gate is not None:
        h, z, gain = gated_rnn_states(x, h0, W_xh, W_hh, b_h, *gate)
        products = jacobian_products(gain[0], W_hh, z[0])
    else:
        h, gain = simple_rnn_states(x, h0, W_xh, W_hh, b_h, act)
        products = jacobian_products(gain[0], W_hh)
    # dh_T/dh_0 (lag T) by central differences on h0
    eps = 1e-6
    num = np.zeros((H, H))
    for j in range(H):
        e = np.zeros((1, H))
        e[0, j] = eps
        num[j] = (
            _final_state(x, h0 + e, W_xh, W_hh, b_h, act, gate)
            - _final_state(x, h0 - e, W_xh, W_hh, b_h, act, gate)
        ) / (2 * eps)
    np.testing.assert_allclose(products[-1], num, rtol=1e-6, atol=1e-8)
    assert len(products) == T


def test_tanh_states_match_rnn_forward():
    rng = np.random.default_rng(0)
    x, h0 = rng.normal(size=(2, 5, 3)), rng.normal(size=(2, 4))
    W_xh, W_hh, b_h = rng.normal(size=(3, 4)), rng.normal(size=(4, 4)), rng.normal(size=4)
    h, gain = simple_rnn_states(x, h0, W_xh, W_hh, b_h)
    np.testing.assert_array_equal(h, rnn_forward(x, h0, W_xh, W_hh, b_h)[0])
    np.testing.assert_allclose(gain, 1 - h**2)
    with pytest.raises(ValueError):
        simple_rnn_states(x, h0, W_xh, W_hh, b_h, "sigmoid")


def test_spectral_radius_and_initialisers():
    rng = np.random.default_rng(1)
    W = scale_to_spectral_radius(rng.normal(size=(8, 8)), 1.3)
    assert spectral_radius(W) == pytest.approx(1.3)
    assert spectral_radius(random_recurrent(6, 0.7, rng)) == pytest.approx(0.7)
    Q = orthogonal(8, rng, gain=2.0)
    np.testing.assert_allclose(Q @ Q.T, 4.0 * np.eye(8), atol=1e-12)
    np.testing.assert_allclose(np.linalg.svd(Q, compute_uv=False), 2.0)
    np.testing.assert_array_equal(identity(3, 0.5), 0.5 * np.eye(3))


def test_clipping():
    rng = np.random.default_rng(2)
    grads = [rng.normal(size=(3, 4)), rng.normal(size=(4, 4)), rng.normal(size=4)]
    n = global_norm(grads)
    assert n == pytest.approx(np.linalg.norm(np.concatenate([g.ravel() for g in grads])))
    clipped, before = clip_by_global_norm(grads, n / 2)
    assert before == pytest.approx(n)
    assert global_norm(clipped) == pytest.approx(n / 2)
    for c, g in zip(clipped, grads, strict=True):  # same direction
        np.testing.assert_allclose(c, g / 2)
    same, _ = clip_by_global_norm(grads, 2 * n)
    for c, g in zip(same, grads, strict=True):
        np.testing.assert_array_equal(c, g)
    vclipped = clip_by_value(grads, 0.5)
    assert max(np.abs(g).max() for g in vclipped) <= 0.5
