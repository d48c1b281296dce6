"""book.nn.mingru: minGRU and minLSTM against the step-by-step loop, TensorFlow and finite differences."""

from __future__ import annotations

import numpy as np
import pytest

from book.nn.gradcheck import check_gradients
from book.nn.mingru import (
    mingru_backward,
    mingru_forward,
    mingru_sequential,
    mingru_step_forward,
    minlstm_backward,
    minlstm_forward,
)

SHAPES = [(1, 1, 1, 1), (2, 5, 3, 4), (1, 7, 2, 3), (3, 12, 4, 2), (2, 37, 3, 5)]  # N, T, D, H


def _problem(N, T, D, H, seed=0, pairs=2):
    rng = np.random.default_rng(seed + 13 * T + D)
    x = rng.normal(size=(N, T, D))
    h0 = rng.normal(size=(N, H))
    weights = []
    for _ in range(pairs):
        weights += [rng.normal(scale=0.7, size=(D, H)), rng.normal(scale=0.5, size=(H,))]
    return x, h0, weights


@pytest.mark.parametrize("N,T,D,H", SHAPES)
def test_parallel_form_equals_the_steps(N, T, D, H):
    x, h0, w = _problem(N, T, D, H)
    h, _ = mingru_forward(x, h0, *w)
    assert h.shape == (N, T, H)
    np.testing.assert_allclose(h, mingru_sequential(x, h0, *w), rtol=0, atol=1e-9)
    prev = h0
    for t in range(T):
        prev = mingru_step_forward(x[:, t], prev, *w)
        np.testing.assert_allclose(h[:, t], prev, rtol=0, atol=1e-9)


@pytest.mark.parametrize("N,T,D,H", SHAPES[:4])
def test_mingru_backward_matches_finite_differences(N, T, D, H):
    x, h0, w = _problem(N, T, D, H, seed=1)
    dh = np.random.default_rng(2).normal(size=(N, T, H))
    _, cache = mingru_forward(x, h0, *w)
    grads = mingru_backward(dh, cache)
    names = ["x", "h0", "W_z", "b_z", "W_h", "b_h"]
    arrays = [x, h0, *w]
    errs = check_gradients(lambda: mingru_forward(*arrays)[0], dict(zip(names, arrays, strict=True)),
                           dict(zip(names, grads, strict=True)), dout=dh)
    assert max(errs.values()) < 1e-7, errs


@pytest.fixture(scope="module")
def tf():
    import book

    book.setup(seed=0)
    import tensorflow

    return tensorflow


@pytest.mark.parametrize("N,T,D,H", [(1, 1, 1, 1), (2, 9, 3, 4), (3, 20, 2, 3)])
def test_mingru_matches_tensorflow_and_gradient_tape(tf, N, T, D, H):
    x, h0, w = _problem(N, T, D, H, seed=3)
    dh = np.random.default_rng(4).normal(size=(N, T, H))
    vs = [tf.Variable(v) for v in (x, h0, *w)]
    with tf.GradientTape() as tape:
        tx, th0, W_z, b_z, W_h, b_h = vs
        z = tf.sigmoid(tf.einsum("ntd,dh->nth", tx, W_z) + b_z)
        h_tilde = tf.einsum("ntd,dh->nth", tx, W_h) + b_h
        steps, prev = [], th0
        for t in range(T):
            prev = (1 - z[:, t]) * prev + z[:, t] * h_tilde[:, t]
            steps.append(prev)
        states = tf.stack(steps, axis=1)
        loss = tf.reduce_sum(states * dh)
    theirs = tape.gradient(loss, vs)
    h, cache = mingru_forward(x, h0, *w)
    np.testing.assert_allclose(h, states.numpy(), atol=1e-10)
    for mine, ref in zip(mingru_backward(dh, cache), theirs, strict=True):
        assert mine.shape == ref.shape
        np.testing.assert_allclose(mine, ref.numpy(), atol=1e-10)


def test_minlstm_is_a_normalised_recurrence_with_correct_gradients():
    N, T, D, H = 2, 6, 3, 2
    x, h0, w = _problem(N, T, D, H, seed=5, pairs=3)
    h, cache = minlstm_forward(x, h0, *w)
    f = 1 / (1 + np.exp(-(x @ w[0] + w[1])))
    i = 1 / (1 + np.exp(-(x @ w[2] + w[3])))
    prev = h0
    for t in range(T):
        prev = f[:, t] / (f[:, t] + i[:, t]) * prev + i[:, t] / (f[:, t] + i[:, t]) * (x[:, t] @ w[4] + w[5])
        np.testing.assert_allclose(h[:, t], prev, atol=1e-12)
    dh = np.random.default_rng(6).normal(size=h.shape)
    names = ["x", "h0", "W_f", "b_f", "W_i", "b_i", "W_h", "b_h"]
    arrays = [x, h0, *w]
    errs = check_gradients(lambda: minlstm_forward(*arrays)[0], dict(zip(names, arrays, strict=True)),
                           dict(zip(names, minlstm_backward(dh, cache), strict=True)), dout=dh)
    assert max(errs.values()) < 1e-7, errs


def test_bad_shapes_raise_clear_errors():
    x, h0, w = _problem(2, 4, 3, 5)
    with pytest.raises(ValueError, match="x must be"):
        mingru_forward(x[0], h0, *w)
    with pytest.raises(ValueError, match="h0"):
        mingru_forward(x, h0[:1], *w)
    with pytest.raises(ValueError, match="weight 1"):
        mingru_forward(x, h0, w[0][:2], *w[1:])
    with pytest.raises(ValueError, match="bias 2"):
        mingru_forward(x, h0, *w[:3], w[3][:4])
    _, cache = mingru_forward(x, h0, *w)
    with pytest.raises(ValueError, match="dh"):
        mingru_backward(np.ones((2, 3, 5)), cache)


def test_empty_sequence_and_float32():
    x, h0, w = _problem(2, 0, 3, 4)
    h, cache = mingru_forward(x, h0, *w)
    assert h.shape == (2, 0, 4)
    dx, dh0, *_ = mingru_backward(np.zeros((2, 0, 4)), cache)
    assert dx.shape == (2, 0, 3) and np.all(dh0 == 0)
    x, h0, w = _problem(2, 8, 3, 4)
    h32, _ = mingru_forward(x.astype(np.float32), h0.astype(np.float32), *(v.astype(np.float32) for v in w))
    assert h32.dtype == np.float32
    np.testing.assert_allclose(h32, mingru_forward(x, h0, *w)[0], atol=1e-5)


# --------------------------------------------------------------------------- the Keras layers (book.textgen.linrnn)
@pytest.mark.parametrize("T", [1, 2, 3, 7, 16, 33])
def test_tensorflow_scan_matches_numpy_static_and_dynamic(tf, T):
    from book.nn.scan import linear_scan, linear_scan_backward
    from book.textgen.linrnn import scan

    rng = np.random.default_rng(T)
    a, b, h0 = rng.uniform(-1, 1, (2, T, 3)), rng.normal(size=(2, T, 3)), rng.normal(size=(2, 3))
    dh = rng.normal(size=(2, T, 3))
    ref = linear_scan(a, b, h0)
    ta, tb, th0 = (tf.Variable(v) for v in (a, b, h0))
    with tf.GradientTape() as tape:
        h = scan(ta, tb, th0)
        loss = tf.reduce_sum(h * dh)
    np.testing.assert_allclose(h.numpy(), ref, atol=1e-12)
    for mine, theirs in zip(tape.gradient(loss, [ta, tb, th0]), linear_scan_backward(dh, a, ref, h0), strict=True):
        np.testing.assert_allclose(mine.numpy(), theirs, atol=1e-12)
    spec = [tf.TensorSpec([None, None, 3], tf.float64)] * 2 + [tf.TensorSpec([None, 3], tf.float64)]
    dynamic = tf.function(lambda a, b, h0: scan(a, b, h0), input_signature=spec)  # length unknown when traced
    np.testing.assert_allclose(dynamic(a, b, h0).numpy(), ref, atol=1e-12)


def test_keras_mingru_layer_is_mingru_forward_with_its_gradients(tf):
    import keras

    from book.textgen.linrnn import MinGRU

    N, T, D, H = 3, 11, 4, 5
    x, h0, w = _problem(N, T, D, H, seed=8)
    layer = MinGRU(H, dtype="float64")
    layer.build((N, T, D))
    layer.set_weights([w[0], w[2], w[1], w[3]])  # kernels W_z, W_h, then biases b_z, b_h
    dh = np.random.default_rng(9).normal(size=(N, T, H))
    tx, th0 = tf.Variable(x), tf.Variable(h0)
    with tf.GradientTape() as tape:
        out = layer(tx, initial_state=th0)
        loss = tf.reduce_sum(out * dh)
    grads = tape.gradient(loss, [tx, th0, *layer.trainable_weights])
    h, cache = mingru_forward(x, h0, *w)
    np.testing.assert_allclose(out.numpy(), h, atol=1e-12)
    dx, dh0, dW_z, db_z, dW_h, db_h = mingru_backward(dh, cache)
    for mine, ref in zip(grads, (dx, dh0, dW_z, dW_h, db_z, db_h), strict=True):
        np.testing.assert_allclose(np.asarray(mine), ref, atol=1e-10)
    last = MinGRU(H, return_sequences=False, dtype="float64")
    last.build((N, T, D))
    last.set_weights(layer.get_weights())
    np.testing.assert_allclose(last(x).numpy(), mingru_forward(x, np.zeros((N, H)), *w)[0][:, -1], atol=1e-12)
    assert keras.layers.deserialize(keras.layers.serialize(layer)).get_config() == layer.get_config()


def test_signed_layers_reach_negative_coefficients(tf):
    from book.nn.scan import linear_scan
    from book.textgen.linrnn import LinearRecurrence, MinGRU

    x = np.random.default_rng(10).normal(size=(2, 6, 3))
    for cls in (MinGRU, LinearRecurrence):
        layer = cls(4, signed=True, dtype="float64")
        layer.build(x.shape)
        a, b = (v.numpy() for v in layer.coefficients(tf.constant(x)))
        assert a.min() < 0 < a.max() and np.all(np.abs(a) < 1)
        np.testing.assert_allclose(layer(x).numpy(), linear_scan(a, b, np.zeros((2, 4))), atol=1e-12)
    positive = MinGRU(4, dtype="float64")
    positive.build(x.shape)
    a, _ = positive.coefficients(tf.constant(x))
    assert float(tf.reduce_min(a)) > 0 and float(tf.reduce_max(a)) < 1
