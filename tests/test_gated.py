"""book.nn.gated: LSTM and GRU forward passes against Keras, backward passes against finite differences."""

from __future__ import annotations

import numpy as np
import pytest

from book.nn import (
    check_gradients,
    count_params_bidirectional,
    count_params_gru,
    count_params_lstm,
    gru_backward,
    gru_forward,
    gru_step_backward,
    gru_step_forward,
    gru_step_forward_original,
    lstm_backward,
    lstm_final_cell,
    lstm_forward,
    lstm_step_backward,
    lstm_step_forward,
    sigmoid,
)

SHAPES = [(2, 5, 3, 4), (1, 1, 2, 3), (3, 7, 1, 2), (4, 3, 6, 5)]  # N, T, D, H


def _params(rng, D, H, gates, bias_shape):
    return (
        rng.normal(scale=0.5, size=(D, gates * H)),
        rng.normal(scale=0.5, size=(H, gates * H)),
        rng.normal(scale=0.5, size=bias_shape),
    )


def test_sigmoid_is_stable_and_exact():
    a = np.array([-800.0, -3.0, 0.0, 2.5, 800.0])
    with np.errstate(over="raise"):
        s = sigmoid(a)
    np.testing.assert_allclose(s[1:4], 1 / (1 + np.exp(-a[1:4])), rtol=1e-15)
    assert s[0] == 0.0 and s[-1] == 1.0


@pytest.fixture(scope="module")
def keras_mod():
    import book

    book.setup(seed=0)
    import keras

    return keras


@pytest.mark.parametrize("N,T,D,H", SHAPES)
def test_lstm_forward_matches_keras(keras_mod, N, T, D, H):
    keras = keras_mod
    rng = np.random.default_rng(N * 100 + T * 10 + D)
    W_x, W_h, b = _params(rng, D, H, 4, (4 * H,))
    x = rng.normal(size=(N, T, D))
    h0, c0 = rng.normal(size=(N, H)), rng.normal(size=(N, H))
    inp, ih, ic = keras.Input((T, D)), keras.Input((H,)), keras.Input((H,))
    layer = keras.layers.LSTM(H, return_sequences=True, return_state=True)
    model = keras.Model([inp, ih, ic], layer(inp, initial_state=[ih, ic]))
    layer.set_weights([W_x.astype("float32"), W_h.astype("float32"), b.astype("float32")])
    W_x, W_h, b = (np.asarray(w, np.float64) for w in layer.get_weights())
    seq, h_T, c_T = (np.asarray(o, np.float64) for o in model([x.astype("float32"), h0.astype("float32"), c0.astype("float32")]))
    x32, h032, c032 = (a.astype("float32").astype(np.float64) for a in (x, h0, c0))
    h, cache = lstm_forward(x32, h032, c032, W_x, W_h, b)
    assert h.shape == (N, T, H)
    np.testing.assert_allclose(h, seq, atol=2e-5)
    np.testing.assert_allclose(h[:, -1], h_T, atol=2e-5)
    np.testing.assert_allclose(lstm_final_cell(cache), c_T, atol=2e-5)


@pytest.mark.parametrize("N,T,D,H", SHAPES)
@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_forward_matches_keras(keras_mod, N, T, D, H, reset_after):
    keras = keras_mod
    rng = np.random.default_rng(N * 100 + T * 10 + D + 7)
    bias_shape = (2, 3 * H) if reset_after else (3 * H,)
    W_x, W_h, b = _params(rng, D, H, 3, bias_shape)
    x = rng.normal(size=(N, T, D))
    h0 = rng.normal(size=(N, H))
    inp, ih = keras.Input((T, D)), keras.Input((H,))
    layer = keras.layers.GRU(H, return_sequences=True, reset_after=reset_after)
    model = keras.Model([inp, ih], layer(inp, initial_state=[ih]))
    layer.set_weights([W_x.astype("float32"), W_h.astype("float32"), b.astype("float32")])
    W_x, W_h, b = (np.asarray(w, np.float64) for w in layer.get_weights())
    seq = np.asarray(model([x.astype("float32"), h0.astype("float32")]), np.float64)
    x32, h032 = (a.astype("float32").astype(np.float64) for a in (x, h0))
    if reset_after:
        h, _ = gru_forward(x32, h032, W_x, W_h, b)
    else:
        h_t, steps = h032, []
        for t in range(T):
            h_t = gru_step_forward_original(x32[:, t], h_t, W_x, W_h, b)
            steps.append(h_t)
        h = np.stack(steps, axis=1)
    assert h.shape == (N, T, H)
    np.testing.assert_allclose(h, seq, atol=2e-5)


def test_parameter_counts_match_keras(keras_mod):
    keras = keras_mod
    for D, H in [(3, 4), (10, 7), (1, 1)]:
        def count(layer, D=D):
            model = keras.Sequential([keras.Input((5, D)), layer])
            return model.count_params()

        assert count(keras.layers.LSTM(H)) == count_params_lstm(D, H)
        assert count(keras.layers.GRU(H)) == count_params_gru(D, H, reset_after=True)
        assert count(keras.layers.GRU(H, reset_after=False)) == count_params_gru(D, H, reset_after=False)
        for mode in ["concat", "sum", "mul", "ave"]:
            assert count(keras.layers.Bidirectional(keras.layers.LSTM(H), merge_mode=mode)) == (
                count_params_bidirectional(count_params_lstm(D, H))
            )


def test_lstm_step_backward_gradcheck():
    rng = np.random.default_rng(1)
    N, D, H = 3, 4, 5
    x, h, c = rng.normal(size=(N, D)), rng.normal(size=(N, H)), rng.normal(size=(N, H))
    W_x, W_h, b = _params(rng, D, H, 4, (4 * H,))
    dh, dc = rng.normal(size=(N, H)), rng.normal(size=(N, H))
    _, _, cache = lstm_step_forward(x, h, c, W_x, W_h, b)
    dx, dh_prev, dc_prev, dW_x, dW_h, db = lstm_step_backward(dh, dc, cache)

    def loss():
        h_next, c_next, _ = lstm_step_forward(x, h, c, W_x, W_h, b)
        return np.sum(h_next * dh) + np.sum(c_next * dc)

    errors = check_gradients(
        loss,
        {"x": x, "h": h, "c": c, "W_x": W_x, "W_h": W_h, "b": b},
        {"x": dx, "h": dh_prev, "c": dc_prev, "W_x": dW_x, "W_h": dW_h, "b": db},
    )
    assert max(errors.values()) < 1e-7, errors


def test_gru_step_backward_gradcheck():
    rng = np.random.default_rng(2)
    N, D, H = 3, 4, 5
    x, h = rng.normal(size=(N, D)), rng.normal(size=(N, H))
    W_x, W_h, b = _params(rng, D, H, 3, (2, 3 * H))
    dh = rng.normal(size=(N, H))
    _, cache = gru_step_forward(x, h, W_x, W_h, b)
    dx, dh_prev, dW_x, dW_h, db = gru_step_backward(dh, cache)
    errors = check_gradients(
        lambda: gru_step_forward(x, h, W_x, W_h, b)[0],
        {"x": x, "h": h, "W_x": W_x, "W_h": W_h, "b": b},
        {"x": dx, "h": dh_prev, "W_x": dW_x, "W_h": dW_h, "b": db},
        dout=dh,
    )
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("N,T,D,H", [(2, 4, 3, 4), (1, 6, 2, 3)])
def test_lstm_backward_gradcheck(N, T, D, H):
    rng = np.random.default_rng(T)
    x, h0, c0 = rng.normal(size=(N, T, D)), rng.normal(size=(N, H)), rng.normal(size=(N, H))
    W_x, W_h, b = _params(rng, D, H, 4, (4 * H,))
    dout, dc_T = rng.normal(size=(N, T, H)), rng.normal(size=(N, H))
    _, cache = lstm_forward(x, h0, c0, W_x, W_h, b)
    dx, dh0, dc0, dW_x, dW_h, db = lstm_backward(dout, cache, dc_T)

    def loss():
        h, cache = lstm_forward(x, h0, c0, W_x, W_h, b)
        return np.sum(h * dout) + np.sum(lstm_final_cell(cache) * dc_T)

    errors = check_gradients(
        loss,
        {"x": x, "h0": h0, "c0": c0, "W_x": W_x, "W_h": W_h, "b": b},
        {"x": dx, "h0": dh0, "c0": dc0, "W_x": dW_x, "W_h": dW_h, "b": db},
    )
    assert max(errors.values()) < 1e-7, errors
    # without dc_T the cell state's own gradient starts at zero
    _, _, _, dW_x_h_only, _, _ = lstm_backward(dout, cache)
    errors = check_gradients(
        lambda: lstm_forward(x, h0, c0, W_x, W_h, b)[0], {"W_x": W_x}, {"W_x": dW_x_h_only}, dout=dout
    )
    assert errors["W_x"] < 1e-7


@pytest.mark.parametrize("N,T,D,H", [(2, 4, 3, 4), (1, 6, 2, 3)])
def test_gru_backward_gradcheck(N, T, D, H):
    rng = np.random.default_rng(T + 10)
    x, h0 = rng.normal(size=(N, T, D)), rng.normal(size=(N, H))
    W_x, W_h, b = _params(rng, D, H, 3, (2, 3 * H))
    dout = rng.normal(size=(N, T, H))
    _, cache = gru_forward(x, h0, W_x, W_h, b)
    dx, dh0, dW_x, dW_h, db = gru_backward(dout, cache)
    errors = check_gradients(
        lambda: gru_forward(x, h0, W_x, W_h, b)[0],
        {"x": x, "h0": h0, "W_x": W_x, "W_h": W_h, "b": b},
        {"x": dx, "h0": dh0, "W_x": dW_x, "W_h": dW_h, "b": db},
        dout=dout,
    )
    assert max(errors.values()) < 1e-7, errors


def test_gru_is_not_the_swapped_or_original_form():
    """The Keras form differs from z/1-z swapped and from reset-before on generic weights."""
    rng = np.random.default_rng(5)
    N, D, H = 2, 3, 4
    x, h = rng.normal(size=(N, D)), rng.normal(size=(N, H))
    W_x, W_h, b = _params(rng, D, H, 3, (2, 3 * H))
    h_next, _ = gru_step_forward(x, h, W_x, W_h, b)
    assert not np.allclose(h_next, gru_step_forward_original(x, h, W_x, W_h, b[0] + b[1]))
    z = sigmoid(x @ W_x[:, :H] + b[0, :H] + h @ W_h[:, :H] + b[1, :H])
    assert np.all((h_next - z * h) / (1 - z) <= 1.0)  # h_tilde is a tanh: |h_tilde| <= 1
