"""book.nn.rnn against Keras and against centred finite differences."""

from __future__ import annotations

import numpy as np
import pytest

from book import environment
from book.nn import (
    count_params_simple_rnn,
    numerical_gradient,
    rel_error,
    rnn_backward,
    rnn_forward,
    rnn_step_backward,
    rnn_step_forward,
    rtrl_gradients,
)

environment.quiet_tensorflow()
tf = pytest.importorskip("tensorflow")
import keras  # noqa: E402


def _params(rng, N, T, D, H, scale=0.5):
    return (
        rng.normal(size=(N, T, D)),
        rng.normal(size=(N, H)),
        rng.normal(scale=scale, size=(D, H)),
        rng.normal(scale=scale, size=(H, H)),
        rng.normal(scale=0.1, size=H),
    )


@pytest.mark.parametrize("N,D,H", [(1, 1, 1), (3, 4, 5), (7, 2, 9)])
def test_step_forward_matches_keras_cell(N, D, H):
    keras.utils.set_random_seed(N * 100 + D * 10 + H)
    cell = keras.layers.SimpleRNNCell(H)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(N, D)).astype("float32")
    h = rng.normal(size=(N, H)).astype("float32")
    out, _ = cell(x, [h])
    W_xh, W_hh, b_h = cell.get_weights()
    ours, _ = rnn_step_forward(x, h, W_xh, W_hh, b_h)
    np.testing.assert_allclose(ours, np.asarray(out), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("N,T,D,H", [(2, 1, 3, 4), (3, 7, 2, 5), (1, 20, 6, 3)])
def test_forward_matches_keras_layer(N, T, D, H):
    keras.utils.set_random_seed(T)
    layer = keras.layers.SimpleRNN(H, return_sequences=True)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(N, T, D)).astype("float32")
    h0 = rng.normal(size=(N, H)).astype("float32")
    out = np.asarray(layer(x, initial_state=h0))
    W_xh, W_hh, b_h = layer.get_weights()
    # Keras's bias starts at zero: give it a value so a missing bias would show.
    b_h = rng.normal(size=H).astype("float32")
    layer.set_weights([W_xh, W_hh, b_h])
    out = np.asarray(layer(x, initial_state=h0))
    ours, _ = rnn_forward(x, h0, W_xh, W_hh, b_h)
    assert ours.shape == (N, T, H)
    np.testing.assert_allclose(ours, out, rtol=1e-5, atol=1e-5)


def test_step_backward_finite_differences():
    rng = np.random.default_rng(2)
    N, D, H = 3, 4, 5
    x, h = rng.normal(size=(N, D)), rng.normal(size=(N, H))
    W_xh, W_hh, b_h = rng.normal(size=(D, H)), rng.normal(size=(H, H)), rng.normal(size=H)
    dout = rng.normal(size=(N, H))
    _, cache = rnn_step_forward(x, h, W_xh, W_hh, b_h)
    grads = rnn_step_backward(dout, cache)
    for arr, g in zip((x, h, W_xh, W_hh, b_h), grads, strict=True):
        num = numerical_gradient(lambda: rnn_step_forward(x, h, W_xh, W_hh, b_h)[0], arr, dout)
        assert rel_error(g, num) < 1e-8


@pytest.mark.parametrize("N,T,D,H", [(2, 4, 3, 5), (1, 9, 2, 3)])
def test_backward_finite_differences(N, T, D, H):
    rng = np.random.default_rng(3)
    x, h0, W_xh, W_hh, b_h = _params(rng, N, T, D, H)
    dh = rng.normal(size=(N, T, H))
    _, cache = rnn_forward(x, h0, W_xh, W_hh, b_h)
    grads = rnn_backward(dh, cache)
    for arr, g in zip((x, h0, W_xh, W_hh, b_h), grads, strict=True):
        num = numerical_gradient(lambda: rnn_forward(x, h0, W_xh, W_hh, b_h)[0], arr, dh)
        assert g.shape == arr.shape
        assert rel_error(g, num) < 1e-7


def test_backward_matches_gradient_tape():
    N, T, D, H = 3, 6, 4, 5
    keras.utils.set_random_seed(4)
    layer = keras.layers.SimpleRNN(H, return_sequences=True, dtype="float64")
    rng = np.random.default_rng(4)
    x = tf.constant(rng.normal(size=(N, T, D)))
    h0 = tf.constant(rng.normal(size=(N, H)))
    layer(x, initial_state=h0)
    W_xh, W_hh, _ = layer.get_weights()
    b_h = rng.normal(size=H)
    layer.set_weights([W_xh, W_hh, b_h])
    dh = rng.normal(size=(N, T, H))
    with tf.GradientTape() as tape:
        tape.watch([x, h0])
        out = layer(x, initial_state=h0)
        loss = tf.reduce_sum(out * dh)
    tape_grads = tape.gradient(loss, [x, h0, *layer.trainable_weights])
    _, cache = rnn_forward(x.numpy(), h0.numpy(), W_xh, W_hh, b_h)
    ours = rnn_backward(dh, cache)
    for a, b in zip(ours, tape_grads, strict=True):
        assert rel_error(a, np.asarray(b)) < 1e-12


@pytest.mark.parametrize("N,T,D,H", [(2, 5, 3, 4), (1, 1, 2, 2), (3, 8, 1, 3)])
def test_rtrl_equals_bptt(N, T, D, H):
    rng = np.random.default_rng(5)
    x, h0, W_xh, W_hh, b_h = _params(rng, N, T, D, H)
    dh = rng.normal(size=(N, T, H))
    _, cache = rnn_forward(x, h0, W_xh, W_hh, b_h)
    _, _, dW_xh, dW_hh, db_h = rnn_backward(dh, cache)
    r_xh, r_hh, r_b = rtrl_gradients(x, h0, W_xh, W_hh, b_h, dh)
    assert rel_error(r_xh, dW_xh) < 1e-12
    assert rel_error(r_hh, dW_hh) < 1e-12
    assert rel_error(r_b, db_h) < 1e-12


def test_param_count_matches_keras():
    for D, H in [(1, 1), (8, 32), (3, 7)]:
        model = keras.Sequential([keras.Input((None, D)), keras.layers.SimpleRNN(H)])
        assert model.count_params() == count_params_simple_rnn(D, H)


def test_gated_cells_are_importable_from_book_rnn_and_match_keras():
    from book.nn import gru_forward, lstm_forward

    rng = np.random.default_rng(7)
    N, T, D, H = 2, 5, 3, 4
    x = rng.normal(size=(N, T, D))
    h0, c0 = rng.normal(size=(N, H)), rng.normal(size=(N, H))
    keras.utils.set_random_seed(7)
    lstm = keras.layers.LSTM(H, return_sequences=True, dtype="float64")
    lstm(x, initial_state=[h0, c0])
    W_x, W_h, _ = lstm.get_weights()
    b = rng.normal(size=4 * H)
    lstm.set_weights([W_x, W_h, b])
    ours, _ = lstm_forward(x, h0, c0, W_x, W_h, b)
    np.testing.assert_allclose(ours, np.asarray(lstm(x, initial_state=[h0, c0])), rtol=1e-10, atol=1e-12)
    gru = keras.layers.GRU(H, return_sequences=True, dtype="float64")
    gru(x, initial_state=h0)
    W_x, W_h, _ = gru.get_weights()
    b = rng.normal(size=(2, 3 * H))
    gru.set_weights([W_x, W_h, b])
    ours, _ = gru_forward(x, h0, W_x, W_h, b)
    np.testing.assert_allclose(ours, np.asarray(gru(x, initial_state=h0)), rtol=1e-10, atol=1e-12)
