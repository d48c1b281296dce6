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
from book.nn.dynamics import (
    adam_init,
    adam_step,
    clip_per_model,
    glorot_uniform,
    inputs_for_preactivations,
    stacked_gru_backward,
    stacked_gru_forward,
    stacked_rnn_backward,
    stacked_rnn_forward,
)
from book.nn.gated import gru_forward


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


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_inputs_for_preactivations_hit_the_targets(activation):
    rng = np.random.default_rng(3)
    T, H = 7, 3
    W_hh = rng.normal(size=(H, H))
    a = rng.normal(size=(T, H)) + (1.0 if activation == "relu" else 0.0)
    h0 = rng.normal(size=H)
    x = inputs_for_preactivations(a, W_hh, h0, activation)
    h, gain = simple_rnn_states(x[None], h0[None], np.eye(H), W_hh, np.zeros(H), activation)
    phi = np.tanh(a) if activation == "tanh" else np.maximum(a, 0.0)
    np.testing.assert_allclose(h[0], phi, atol=1e-12)
    h_prev = np.vstack([h0, h[0, :-1]])
    np.testing.assert_allclose(x + h_prev @ W_hh, a, atol=1e-12)
    with pytest.raises(ValueError):
        inputs_for_preactivations(a, W_hh, activation="sigmoid")


def test_small_spectral_radius_does_not_stop_growth():
    """Chapter 4's counterexample: rho < 1, yet the tanh Jacobian product grows."""
    W = np.array([[1.0, 3.0], [-0.5, -1.0]])
    assert spectral_radius(W) < 0.71 < 3.35 < np.linalg.norm(W, 2)
    a = np.array([[0.0, 4.0], [4.0, 0.0]] * 30)
    x = inputs_for_preactivations(a, W)
    _, gain = simple_rnn_states(x[None], np.zeros((1, 2)), np.eye(2), W, np.zeros(2))
    assert np.linalg.norm(jacobian_products(gain[0], W)[-1], 2) > 1e5
    assert np.linalg.norm(np.linalg.matrix_power(W, 60), 2) < 1e-8  # the linear RNN vanishes


def test_glorot_uniform_limits():
    w = glorot_uniform((4, 6, 10), np.random.default_rng(0))
    limit = np.sqrt(6 / 16)
    assert w.shape == (4, 6, 10) and np.abs(w).max() <= limit
    assert np.abs(w).max() > 0.9 * limit


def _stacked_params(kind, S, D, H, rng):
    if kind == "gru":
        p = {"W_x": rng.normal(scale=0.5, size=(S, D, 3 * H)),
             "W_h": rng.normal(scale=0.5, size=(S, H, 3 * H)),
             "b": rng.normal(scale=0.3, size=(S, 2, 3 * H))}
    else:
        p = {"W_xh": rng.normal(scale=0.5, size=(S, D, H)),
             "W_hh": rng.normal(scale=0.5, size=(S, H, H)),
             "b_h": rng.normal(scale=0.3, size=(S, H)) + 0.3}
    p["W_hy"] = rng.normal(size=(S, H))
    p["b_y"] = rng.normal(size=S)
    return p


def test_stacked_models_match_the_single_model_code():
    rng = np.random.default_rng(4)
    S, N, T, D, H = 3, 4, 5, 2, 3
    x = rng.normal(size=(N, T, D))
    p = _stacked_params("rnn", S, D, H, rng)
    pred, _ = stacked_rnn_forward(p, x)
    for s in range(S):
        h, _ = rnn_forward(x, np.zeros((N, H)), p["W_xh"][s], p["W_hh"][s], p["b_h"][s])
        np.testing.assert_allclose(pred[s], h[:, -1] @ p["W_hy"][s] + p["b_y"][s], atol=1e-12)
    relu = np.array([False, True, True])
    pred, _ = stacked_rnn_forward(p, x, relu)
    h, _ = simple_rnn_states(x, np.zeros((N, H)), p["W_xh"][1], p["W_hh"][1], p["b_h"][1], "relu")
    np.testing.assert_allclose(pred[1], h[:, -1] @ p["W_hy"][1] + p["b_y"][1], atol=1e-12)
    g = _stacked_params("gru", S, D, H, rng)
    pred, _ = stacked_gru_forward(g, x)
    for s in range(S):
        h, _ = gru_forward(x, np.zeros((N, H)), g["W_x"][s], g["W_h"][s], g["b"][s])
        np.testing.assert_allclose(pred[s], h[:, -1] @ g["W_hy"][s] + g["b_y"][s], atol=1e-12)


@pytest.mark.parametrize("kind", ["tanh", "mixed", "gru"])
def test_stacked_gradients_match_finite_differences(kind):
    rng = np.random.default_rng(5)
    S, N, T, D, H = 3, 4, 6, 2, 3
    x = rng.normal(size=(N, T, D))
    y = rng.normal(size=N)
    p = _stacked_params("gru" if kind == "gru" else "rnn", S, D, H, rng)
    relu = np.array([False, True, False]) if kind == "mixed" else None

    def losses(params):  # (S,) mean squared errors
        if kind == "gru":
            pred, cache = stacked_gru_forward(params, x)
        else:
            pred, cache = stacked_rnn_forward(params, x, relu)
        return np.mean((pred - y) ** 2, axis=1), pred, cache

    _, pred, cache = losses(p)
    dpred = 2 * (pred - y) / N
    grads = (stacked_gru_backward if kind == "gru" else stacked_rnn_backward)(dpred, cache)
    assert set(grads) == set(p)
    eps = 1e-6
    for key, value in p.items():
        assert grads[key].shape == value.shape
        num = np.zeros_like(value)
        for idx in np.ndindex(value.shape):
            old = value[idx]
            value[idx] = old + eps
            up = losses(p)[0].sum()
            value[idx] = old - eps
            down = losses(p)[0].sum()
            value[idx] = old
            num[idx] = (up - down) / (2 * eps)
        np.testing.assert_allclose(grads[key], num, rtol=1e-5, atol=1e-8, err_msg=key)


def test_clip_per_model_and_adam():
    rng = np.random.default_rng(6)
    grads = {"a": rng.normal(size=(3, 4, 2)), "b": rng.normal(size=(3, 5))}
    norms = [global_norm([grads["a"][s], grads["b"][s]]) for s in range(3)]
    clipped, before = clip_per_model(grads, np.array([norms[0] / 2, np.inf, 2 * norms[2]]))
    np.testing.assert_allclose(before, norms)
    np.testing.assert_allclose(clipped["a"][0], grads["a"][0] / 2)
    for s in (1, 2):  # unclipped models untouched
        np.testing.assert_array_equal(clipped["b"][s], grads["b"][s])
    # Adam: the first step moves every entry by lr against the sign of its gradient
    params = {"a": np.zeros((3, 4, 2)), "b": np.ones((3, 5))}
    state = adam_init(params)
    adam_step(params, grads, state, lr=0.1)
    np.testing.assert_allclose(params["a"], -0.1 * np.sign(grads["a"]), rtol=1e-5)
    adam_step(params, grads, state, lr=0.1)
    np.testing.assert_allclose(params["b"], 1 - 0.2 * np.sign(grads["b"]), rtol=1e-5)
    one_rate_each = {"a": np.zeros((3, 4, 2))}
    adam_step(one_rate_each, {"a": grads["a"]}, adam_init(one_rate_each), lr=np.array([0.1, 0.0, 1.0]))
    np.testing.assert_allclose(one_rate_each["a"][2], -np.sign(grads["a"][2]), rtol=1e-5)
    np.testing.assert_array_equal(one_rate_each["a"][1], 0.0)
