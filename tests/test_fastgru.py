"""book.textgen.fastgru: the CPU-fast GRU against keras.layers.GRU (values and gradients) and finite differences."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="module")
def tf_keras():
    import book

    book.setup(seed=0)
    import keras
    import tensorflow as tf

    return tf, keras


def _pair(keras, H, seed, dtype="float64", **kw):
    """A Keras GRU and a FastGRU with the same random weights (nonzero biases)."""
    from book.textgen.fastgru import FastGRU

    splits = kw.pop("splits", 2)
    ref = keras.layers.GRU(H, dtype=dtype, bias_initializer="random_normal", **kw)
    fast = FastGRU(H, splits=splits, dtype=dtype, **kw)
    return ref, fast


def _values_and_grads(tf, layer, x, h0, w):
    """Output, and gradients of sum(output * w) for x, h0 and every weight."""
    x, h0 = tf.constant(x), tf.constant(h0)
    with tf.GradientTape() as tape:
        tape.watch([x, h0])
        y = layer(x, initial_state=h0)
        loss = tf.reduce_sum(y * w)
    return [y.numpy()] + [g.numpy() for g in tape.gradient(loss, [x, h0, *layer.trainable_weights])]


@pytest.mark.parametrize("N,T,D,H,splits", [(4, 6, 3, 5, 2), (5, 7, 2, 4, 2), (1, 3, 4, 3, 2), (7, 2, 3, 6, 3),
                                            (3, 5, 2, 4, 1)])
@pytest.mark.parametrize("return_sequences", [True, False])
def test_matches_keras_gru_values_and_gradients(tf_keras, N, T, D, H, splits, return_sequences):
    tf, keras = tf_keras
    rng = np.random.default_rng(N * 100 + T * 10 + D)
    x, h0 = rng.normal(size=(N, T, D)), rng.normal(size=(N, H))
    ref, fast = _pair(keras, H, 0, return_sequences=return_sequences, splits=splits)
    ref(x, initial_state=h0)
    fast(x, initial_state=h0)
    fast.set_weights(ref.get_weights())
    w = tf.constant(rng.normal(size=(N, T, H) if return_sequences else (N, H)))
    got = _values_and_grads(tf, fast, x, h0, w)
    want = _values_and_grads(tf, ref, x, h0, w)
    names = ["output", "dx", "dh0", "dkernel", "drecurrent_kernel", "dbias"]
    for name, a, b in zip(names, got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=name)


def test_recurrence_gradient_matches_finite_differences(tf_keras):
    tf, _ = tf_keras
    from book.textgen.fastgru import gru_sequence

    rng = np.random.default_rng(3)
    T, N, H = 4, 2, 3
    args = [rng.normal(size=(T, N, 3 * H)), rng.normal(size=(N, H)), rng.normal(scale=0.7, size=(H, 3 * H)),
            rng.normal(size=3 * H)]
    w = rng.normal(size=(T, N, H))

    def loss(*a):
        return float(tf.reduce_sum(gru_sequence(*(tf.constant(v) for v in a)) * w))

    ts = [tf.constant(v) for v in args]
    with tf.GradientTape() as tape:
        tape.watch(ts)
        out = tf.reduce_sum(gru_sequence(*ts) * w)
    grads = [g.numpy() for g in tape.gradient(out, ts)]
    eps = 1e-6
    for k, (a, g) in enumerate(zip(args, grads, strict=True)):
        num = np.zeros_like(a)
        for i in np.ndindex(a.shape):
            plus, minus = [v.copy() for v in args], [v.copy() for v in args]
            plus[k][i] += eps
            minus[k][i] -= eps
            num[i] = (loss(*plus) - loss(*minus)) / (2 * eps)
        rel = np.abs(num - g).max() / max(np.abs(num).max(), 1e-12)
        assert rel < 1e-7, (k, rel)


def test_stateful_carries_state_like_keras(tf_keras):
    tf, keras = tf_keras
    rng = np.random.default_rng(5)
    N, T, D, H = 6, 4, 3, 5
    ref, fast = _pair(keras, H, 0, return_sequences=True, stateful=True)
    x1, x2 = rng.normal(size=(N, T, D)), rng.normal(size=(N, T, D))
    ref(x1)
    fast(x1)
    fast.set_weights(ref.get_weights())
    for layer in (ref, fast):
        layer.reset_state()
    first = [np.asarray(layer(x1)) for layer in (ref, fast)]
    second = [np.asarray(layer(x2)) for layer in (ref, fast)]  # starts from the state x1 left
    np.testing.assert_allclose(first[1], first[0], rtol=1e-10)
    np.testing.assert_allclose(second[1], second[0], rtol=1e-10)
    fast.reset_state()
    assert not np.allclose(np.asarray(fast(x2)), second[1])


def test_unknown_batch_size_and_float32_model(tf_keras):
    tf, keras = tf_keras
    from book.textgen.fastgru import FastGRU

    inp = keras.Input((5, 3))
    fast = FastGRU(4, return_sequences=True)
    model = keras.Model(inp, fast(inp))
    ref_inp = keras.Input((5, 3))
    ref = keras.layers.GRU(4, return_sequences=True)
    ref_model = keras.Model(ref_inp, ref(ref_inp))
    ref.set_weights(fast.get_weights())
    x = np.random.default_rng(1).normal(size=(3, 5, 3)).astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0), ref_model.predict(x, verbose=0), atol=1e-6)


@pytest.mark.parametrize("case", ["mask", "go_backwards", "dropout", "activation"])
def test_falls_back_to_keras_where_it_has_no_path(tf_keras, case):
    tf, keras = tf_keras
    from book.textgen.fastgru import FastGRU

    kw = {"go_backwards": {"go_backwards": True}, "dropout": {"dropout": 0.3},
          "activation": {"activation": "relu"}}.get(case, {})
    x = np.random.default_rng(2).normal(size=(2, 5, 3)).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool) if case == "mask" else None
    fast, ref = FastGRU(4, return_sequences=True, **kw), keras.layers.GRU(4, return_sequences=True, **kw)
    fast(x, mask=mask)
    ref(x, mask=mask)
    ref.set_weights(fast.get_weights())
    assert not fast._own_path(mask)
    got = np.asarray(fast(x, mask=mask))
    np.testing.assert_allclose(got, np.asarray(ref(x, mask=mask)), atol=1e-6)
    if case == "mask":
        assert not np.allclose(got, np.asarray(fast(x)), atol=1e-3)


def test_saves_and_loads(tf_keras, tmp_path):
    tf, keras = tf_keras
    from book.textgen.fastgru import FastGRU

    inp = keras.Input((4, 2))
    model = keras.Model(inp, FastGRU(3, splits=3, return_sequences=True)(inp))
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    layer = loaded.layers[-1]
    assert isinstance(layer, FastGRU) and layer.splits == 3
    x = np.ones((2, 4, 2), "float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


def test_weight_dropout_is_a_gru_with_a_masked_recurrent_kernel(tf_keras):
    """In training: a GRU whose U is U * mask / (1 - p) for one random mask; the gradient reaches U through it."""
    tf, keras = tf_keras
    from book.textgen.fastgru import FastGRU

    rng = np.random.default_rng(7)
    N, T, D, H, p = 3, 6, 2, 5, 0.4
    x, h0, w = rng.normal(size=(N, T, D)), rng.normal(size=(N, H)), rng.normal(size=(N, T, H))
    fast = FastGRU(H, weight_dropout=p, seed=11, return_sequences=True, dtype="float64",
                   bias_initializer="random_normal")
    ref = keras.layers.GRU(H, return_sequences=True, dtype="float64")
    fast(x, initial_state=h0)
    ref(x, initial_state=h0)
    W, U, b = fast.get_weights()
    mask = np.asarray(keras.random.dropout(tf.ones_like(U), p, seed=keras.random.SeedGenerator(11)))
    assert set(np.unique(mask)) == {0.0, 1 / (1 - p)}  # the first draw of the layer's own seed
    ref.set_weights([W, U * mask, b])
    x_t, h0_t = tf.constant(x), tf.constant(h0)
    with tf.GradientTape() as tape:
        y = fast(x_t, initial_state=h0_t, training=True)
        loss = tf.reduce_sum(y * w)
    dU = tape.gradient(loss, fast.cell.recurrent_kernel.value).numpy()
    with tf.GradientTape() as tape:
        y_ref = ref(x_t, initial_state=h0_t)
        loss_ref = tf.reduce_sum(y_ref * w)
    dU_ref = tape.gradient(loss_ref, ref.cell.recurrent_kernel.value).numpy()
    np.testing.assert_allclose(y.numpy(), y_ref.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dU, dU_ref * mask, rtol=1e-10, atol=1e-12)  # chain rule through U * mask
    # a new mask for the next batch; at inference the plain GRU with the full U
    assert not np.allclose(np.asarray(fast(x, initial_state=h0, training=True)), y.numpy())
    ref.set_weights([W, U, b])
    np.testing.assert_allclose(np.asarray(fast(x, initial_state=h0)), np.asarray(ref(x, initial_state=h0)),
                               rtol=1e-10)


def test_weight_dropout_rejects_what_it_cannot_do(tf_keras):
    tf, keras = tf_keras
    from book.textgen.fastgru import FastGRU

    with pytest.raises(ValueError, match="weight_dropout"):
        FastGRU(3, weight_dropout=1.0)
    layer = FastGRU(3, weight_dropout=0.2, return_sequences=True)
    x = np.ones((2, 4, 2), "float32")
    mask = np.array([[1, 1, 0, 0], [1, 1, 1, 1]], bool)
    layer(x)
    with pytest.raises(ValueError, match="weight_dropout needs"):
        layer(x, mask=mask, training=True)
    assert np.asarray(layer(x, mask=mask)).shape == (2, 4, 3)  # inference: Keras's own code handles the mask
