"""book.nn.attention: dot and additive attention against TensorFlow, finite differences and Keras."""

from __future__ import annotations

import numpy as np
import pytest

from book.nn import check_gradients
from book.nn.attention import (
    additive_attention_backward,
    additive_attention_forward,
    dot_attention_backward,
    dot_attention_forward,
    masked_softmax,
)

SHAPES = [(2, 5, 3, 4), (1, 1, 2, 3), (3, 7, 4, 1), (4, 3, 6, 6)]  # N, S, d, dv


def _mask(rng, N, S):
    m = rng.random((N, S)) < 0.6
    m[np.arange(N), rng.integers(0, S, size=N)] = True  # every row allows one position
    return m


def _dot_inputs(N, S, d, dv, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(N, d)), rng.normal(size=(N, S, d)), rng.normal(size=(N, S, dv)), rng


def _additive_inputs(N, S, dk, dv, dq=None, A=3, seed=0):
    rng = np.random.default_rng(seed)
    dq = dk + 1 if dq is None else dq
    return (
        rng.normal(size=(N, dq)),
        rng.normal(size=(N, S, dk)),
        rng.normal(size=(N, S, dv)),
        rng.normal(scale=0.7, size=(dq, A)),
        rng.normal(scale=0.7, size=(dk, A)),
        rng.normal(size=(A,)),
        rng,
    )


@pytest.fixture(scope="module")
def tf():
    import book

    book.setup(seed=0)
    import tensorflow as tf

    return tf


def _tf_softmax(tf, scores, mask):
    s = tf.where(mask, scores, tf.constant(-np.inf, tf.float64))
    return tf.nn.softmax(s, axis=-1)


def _tf_dot(tf, q, K, V, mask):
    scores = tf.einsum("nsd,nd->ns", K, q) / np.sqrt(q.shape[1])
    a = _tf_softmax(tf, scores, mask)
    return tf.einsum("ns,nsv->nv", a, V), a


def _tf_additive(tf, q, K, V, W_q, W_k, w, mask):
    t = tf.tanh(tf.matmul(q, W_q)[:, None, :] + tf.einsum("nsk,ka->nsa", K, W_k))
    a = _tf_softmax(tf, tf.einsum("nsa,a->ns", t, w), mask)
    return tf.einsum("ns,nsv->nv", a, V), a


@pytest.mark.parametrize("N,S,d,dv", SHAPES)
@pytest.mark.parametrize("masked", [False, True])
def test_dot_matches_tensorflow(tf, N, S, d, dv, masked):
    q, K, V, rng = _dot_inputs(N, S, d, dv, seed=N + S)
    mask = _mask(rng, N, S) if masked else None
    m = np.ones((N, S), bool) if mask is None else mask
    dctx = rng.normal(size=(N, dv))
    context, weights, cache = dot_attention_forward(q, K, V, mask)
    assert context.shape == (N, dv) and weights.shape == (N, S)
    tq, tK, tV = (tf.Variable(a) for a in (q, K, V))
    with tf.GradientTape() as tape:
        ctx_tf, a_tf = _tf_dot(tf, tq, tK, tV, m)
        loss = tf.reduce_sum(ctx_tf * dctx)
    grads = tape.gradient(loss, [tq, tK, tV])
    np.testing.assert_allclose(context, ctx_tf.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(weights, a_tf.numpy(), rtol=1e-12, atol=1e-14)
    for ours, theirs in zip(dot_attention_backward(dctx, cache), grads, strict=True):
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-10, atol=1e-12)
    assert np.all(weights[~m] == 0.0)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-14)


@pytest.mark.parametrize("N,S,dk,dv", SHAPES)
@pytest.mark.parametrize("masked", [False, True])
def test_additive_matches_tensorflow(tf, N, S, dk, dv, masked):
    q, K, V, W_q, W_k, w, rng = _additive_inputs(N, S, dk, dv, seed=N * S)
    mask = _mask(rng, N, S) if masked else None
    m = np.ones((N, S), bool) if mask is None else mask
    dctx = rng.normal(size=(N, dv))
    context, weights, cache = additive_attention_forward(q, K, V, W_q, W_k, w, mask)
    variables = [tf.Variable(a) for a in (q, K, V, W_q, W_k, w)]
    with tf.GradientTape() as tape:
        ctx_tf, a_tf = _tf_additive(tf, *variables, m)
        loss = tf.reduce_sum(ctx_tf * dctx)
    grads = tape.gradient(loss, variables)
    np.testing.assert_allclose(context, ctx_tf.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(weights, a_tf.numpy(), rtol=1e-12, atol=1e-14)
    ours = additive_attention_backward(dctx, cache)
    assert len(ours) == 6
    for name, g, theirs in zip(["q", "K", "V", "W_q", "W_k", "w"], ours, grads, strict=True):
        np.testing.assert_allclose(g, theirs.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)
    assert np.all(weights[~m] == 0.0)


@pytest.mark.parametrize("N,S,d,dv", SHAPES[:3])
def test_dot_gradients_finite_differences(N, S, d, dv):
    q, K, V, rng = _dot_inputs(N, S, d, dv, seed=3)
    mask = _mask(rng, N, S)
    dctx = rng.normal(size=(N, dv))
    _, _, cache = dot_attention_forward(q, K, V, mask)
    dq, dK, dV = dot_attention_backward(dctx, cache)
    errors = check_gradients(
        lambda: dot_attention_forward(q, K, V, mask)[0],
        {"q": q, "K": K, "V": V},
        {"q": dq, "K": dK, "V": dV},
        dout=dctx,
    )
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("N,S,dk,dv", SHAPES[:3])
def test_additive_gradients_finite_differences(N, S, dk, dv):
    q, K, V, W_q, W_k, w, rng = _additive_inputs(N, S, dk, dv, seed=4)
    mask = _mask(rng, N, S)
    dctx = rng.normal(size=(N, dv))
    _, _, cache = additive_attention_forward(q, K, V, W_q, W_k, w, mask)
    grads = additive_attention_backward(dctx, cache)
    params = {"q": q, "K": K, "V": V, "W_q": W_q, "W_k": W_k, "w": w}
    errors = check_gradients(
        lambda: additive_attention_forward(q, K, V, W_q, W_k, w, mask)[0],
        params,
        dict(zip(params, grads, strict=True)),
        dout=dctx,
    )
    assert max(errors.values()) < 1e-7, errors


def test_single_allowed_position_copies_its_value():
    q, K, V, _ = _dot_inputs(3, 4, 2, 5)
    mask = np.zeros((3, 4), bool)
    mask[[0, 1, 2], [2, 0, 3]] = True
    for context, weights, _ in (
        dot_attention_forward(q, K, V, mask),
        additive_attention_forward(q, K, V, np.eye(2), np.eye(2), np.ones(2), mask),
    ):
        assert np.array_equal(weights, mask.astype(float))
        np.testing.assert_array_equal(context, V[[0, 1, 2], [2, 0, 3]])


def test_masked_positions_do_not_matter():
    q, K, V, rng = _dot_inputs(2, 6, 3, 2, seed=9)
    mask = _mask(rng, 2, 6)
    mask[:, -1] = False
    K2, V2 = K.copy(), V.copy()
    K2[~mask], V2[~mask] = 1e300, np.nan  # huge or undefined, but masked
    ctx, a, cache = dot_attention_forward(q, K, V, mask)
    ctx2, a2, _ = dot_attention_forward(q, K2, np.where(mask[..., None], V, 0.0), mask)
    np.testing.assert_array_equal(a, a2)
    np.testing.assert_allclose(ctx, ctx2, rtol=1e-15)
    dq, dK, dV = dot_attention_backward(np.ones((2, 2)), cache)
    assert np.all(dK[~mask] == 0) and np.all(dV[~mask] == 0)


def test_softmax_is_stable_and_exactly_zero_where_masked():
    scores = np.array([[1000.0, 999.0, -1000.0], [0.0, np.inf, 5.0]])
    mask = np.array([[True, True, False], [True, False, True]])
    a = masked_softmax(scores, mask)
    np.testing.assert_allclose(a[0, :2], [1 / (1 + np.exp(-1)), 1 / (1 + np.e)], rtol=1e-14)
    assert a[0, 2] == 0.0 and a[1, 1] == 0.0
    np.testing.assert_allclose(a.sum(axis=1), 1.0)


def test_integer_mask_is_accepted_like_bool():
    q, K, V, _ = _dot_inputs(2, 3, 2, 2)
    m = np.array([[1, 0, 1], [0, 1, 0]])
    a = dot_attention_forward(q, K, V, m)[1]
    b = dot_attention_forward(q, K, V, m.astype(bool))[1]
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "shapes, message",
    [
        (((2, 3), (2, 4, 3), (2, 4, 5)), None),  # fine
        (((2, 3), (3, 4, 3), (3, 4, 5)), "rows"),
        (((2, 3), (2, 4, 2), (2, 4, 5)), "same d"),
        (((2, 3), (2, 4, 3), (2, 5, 5)), "V must have shape"),
        (((2, 3, 1), (2, 4, 3), (2, 4, 5)), "q must have 2"),
        (((2, 3), (2, 4), (2, 4, 5)), "K must have 3"),
        (((2, 3), (2, 0, 3), (2, 0, 5)), "at least one position"),
    ],
)
def test_dot_shape_errors(shapes, message):
    q, K, V = (np.zeros(s) for s in shapes)
    if message is None:
        dot_attention_forward(q, K, V)
        return
    with pytest.raises(ValueError, match=message):
        dot_attention_forward(q, K, V)


def test_mask_errors():
    q, K, V, _ = _dot_inputs(2, 3, 2, 2)
    with pytest.raises(ValueError, match="mask must have shape"):
        dot_attention_forward(q, K, V, np.ones((2, 4), bool))
    with pytest.raises(ValueError, match="no position in row 1"):
        dot_attention_forward(q, K, V, np.array([[True, False, False], [False] * 3]))
    with pytest.raises(ValueError, match="boolean"):
        dot_attention_forward(q, K, V, np.full((2, 3), 0.5))


def test_additive_shape_errors():
    q, K, V, W_q, W_k, w, _ = _additive_inputs(2, 3, 4, 2)
    with pytest.raises(ValueError, match="W_q must have shape"):
        additive_attention_forward(q, K, V, W_q.T, W_k, w)
    with pytest.raises(ValueError, match="W_k must have shape"):
        additive_attention_forward(q, K, V, W_q, W_k[:-1], w)
    with pytest.raises(ValueError, match="W_q must have shape"):
        additive_attention_forward(q, K, V, W_q, W_k, np.ones(5))
    _, _, cache = additive_attention_forward(q, K, V, W_q, W_k, w)
    with pytest.raises(ValueError, match="dcontext"):
        additive_attention_backward(np.ones((2, 3)), cache)


def test_matches_keras_attention_layers(tf):
    import keras

    rng = np.random.default_rng(1)
    N, S, d = 3, 5, 4
    q, K, V = rng.normal(size=(N, d)), rng.normal(size=(N, S, d)), rng.normal(size=(N, S, 6))
    mask = _mask(rng, N, S)
    f32 = [a.astype("float32") for a in (q, K, V)]
    q, K, V = (a.astype(np.float64) for a in f32)
    q3 = f32[0][:, None, :]  # Keras wants (N, Tq, d)
    # Attention (dot): no 1/sqrt(d), so hand it q / sqrt(d)
    layer = keras.layers.Attention()
    out, a = layer([q3 / np.sqrt(d), f32[2], f32[1]], mask=[None, mask],
                   return_attention_scores=True)
    ctx, w, _ = dot_attention_forward(q, K, V, mask)
    np.testing.assert_allclose(np.asarray(out)[:, 0], ctx, atol=1e-5)
    np.testing.assert_allclose(np.asarray(a)[:, 0], w, atol=1e-6)
    assert np.all(np.asarray(a)[:, 0][~mask] == 0)
    # AdditiveAttention: score = sum(scale * tanh(q + k)): W_q = W_k = I, w = scale
    add = keras.layers.AdditiveAttention()
    out, a = add([q3, f32[2], f32[1]], mask=[None, mask], return_attention_scores=True)
    scale = np.asarray(add.scale, np.float64)
    ctx, w, _ = additive_attention_forward(q, K, V, np.eye(d), np.eye(d), scale, mask)
    np.testing.assert_allclose(np.asarray(out)[:, 0], ctx, atol=1e-5)
    np.testing.assert_allclose(np.asarray(a)[:, 0], w, atol=1e-6)
    # Attention(score_mode="concat"): one scalar weight c, so w = c * ones
    cat = keras.layers.Attention(score_mode="concat")
    out = cat([q3, f32[2], f32[1]], mask=[None, mask])
    c = float(np.asarray(cat.concat_score_weight))
    ctx, _, _ = additive_attention_forward(q, K, V, np.eye(d), np.eye(d), np.full(d, c), mask)
    np.testing.assert_allclose(np.asarray(out)[:, 0], ctx, atol=1e-5)


def test_exported_from_book_nn():
    import book.nn as nn

    for name in ["dot_attention_forward", "dot_attention_backward",
                 "additive_attention_forward", "additive_attention_backward"]:
        assert getattr(nn, name) is globals()[name]
