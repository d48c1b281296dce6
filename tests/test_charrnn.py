"""book.textgen.charrnn: the NumPy min-char-rnn against finite differences, and its training and sampling."""

from __future__ import annotations

import numpy as np

from book.nn import check_gradients, numerical_gradient, rel_error
from book.textgen import charrnn


def _tiny(seed=0, N=2, T=5, V=6, H=4):
    rng = np.random.default_rng(seed)
    params = charrnn.init_params(V, H, rng, scale=0.5)
    params["b_h"] = rng.normal(scale=0.3, size=H)
    params["b_y"] = rng.normal(scale=0.3, size=V)
    x = rng.integers(0, V, size=(N, T))
    y = rng.integers(0, V, size=(N, T))
    h0 = rng.normal(scale=0.5, size=(N, H))
    return params, x, y, h0


def test_softmax_cross_entropy_matches_finite_differences():
    rng = np.random.default_rng(1)
    logits, targets = rng.normal(size=(3, 4, 5)), rng.integers(0, 5, size=(3, 4))
    loss, cache = charrnn.softmax_cross_entropy_forward(logits, targets)
    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    expected = -np.mean(np.log(np.take_along_axis(p, targets[..., None], -1)))
    assert abs(loss - expected) < 1e-12
    num = numerical_gradient(lambda: charrnn.softmax_cross_entropy_forward(logits, targets)[0], logits)
    assert rel_error(num, charrnn.softmax_cross_entropy_backward(cache)) < 1e-7


def test_loss_is_stable_for_large_logits():
    logits = np.array([[[1000.0, 0.0, -1000.0]]])
    loss, _ = charrnn.softmax_cross_entropy_forward(logits, np.array([[1]]))
    assert np.isfinite(loss) and abs(loss - 1000.0) < 1e-9


def test_full_backward_matches_finite_differences():
    params, x, y, h0 = _tiny()
    loss, cache = charrnn.forward(params, x, y, h0)
    grads, dh0 = charrnn.backward(params, cache)
    errors = check_gradients(lambda: charrnn.forward(params, x, y, h0)[0], params, grads)
    assert max(errors.values()) < 1e-7, errors
    num_h0 = numerical_gradient(lambda: charrnn.forward(params, x, y, h0)[0], h0)
    assert rel_error(num_h0, dh0) < 1e-7


def test_forward_matches_keras_simple_rnn():
    import book

    book.setup(seed=0)
    import keras

    params, x, y, h0 = _tiny(N=3, T=4)
    V, H = params["W_xh"].shape
    rnn = keras.layers.SimpleRNN(H, return_sequences=True)
    dense = keras.layers.Dense(V)
    inp = keras.Input((4, V))
    model = keras.Model(inp, dense(rnn(inp)))
    rnn.set_weights([params["W_xh"], params["W_hh"], params["b_h"]])
    dense.set_weights([params["W_hy"], params["b_y"]])
    logits = np.asarray(model(charrnn.one_hot(x, V).astype("float32")), dtype=np.float64)
    from book.textgen import cross_entropy_nats

    loss, _ = charrnn.forward(params, x, y, np.zeros_like(h0))
    assert abs(loss - cross_entropy_nats(logits, y)) < 1e-5


def test_clip_and_adagrad():
    g = {"a": np.array([-7.0, 0.5, 9.0])}
    assert np.array_equal(charrnn.clip_elementwise(g, 5.0)["a"], [-5.0, 0.5, 5.0])
    params, mem = {"a": np.array([1.0, 1.0, 1.0])}, {"a": np.zeros(3)}
    charrnn.adagrad_update(params, {"a": np.array([2.0, -1.0, 0.0])}, mem, lr=0.1)
    assert np.allclose(mem["a"], [4.0, 1.0, 0.0])
    assert np.allclose(params["a"], [0.9, 1.1, 1.0])


def test_training_learns_and_sampling_is_reproducible():
    text_ids = np.array([0, 1, 2, 3] * 200)  # a period-4 sequence
    cfg = charrnn.CharRNNConfig(hidden=16, seq_len=8, batch_size=4, learning_rate=0.1, eval_every=50, seed=0)
    res = charrnn.train(text_ids, 4, cfg, steps=150, validation_ids=text_ids[:200])
    assert res.losses[-1] < 0.25 * res.losses[0]
    assert res.val_nats < 0.2 and res.val_nats == min(h["val_nats"] for h in res.history)
    X, Y = text_ids[:100].reshape(4, 25), text_ids[1:101].reshape(4, 25)
    assert abs(charrnn.rows_nats(res.params, X, Y) - charrnn.forward(res.params, X, Y, np.zeros((4, 16)))[0]) < 1e-12
    assert res.steps == 150 and len(res.history) == 3
    a = charrnn.sample(res.params, [0, 1], 12, temperature=1.0, seed=3)
    b = charrnn.sample(res.params, [0, 1], 12, temperature=1.0, seed=3)
    assert a == b and len(a) == 12
    assert charrnn.sample(res.params, [0, 1], 8, temperature=0.0) == [2, 3, 0, 1, 2, 3, 0, 1]


def test_time_budget():
    cfg = charrnn.CharRNNConfig(hidden=8, seq_len=5, batch_size=2, seed=0)
    res = charrnn.train(np.arange(100) % 7, 7, cfg, seconds=0.2)
    assert res.steps > 0 and 0.15 < res.train_seconds < 2.0
    assert res.chars_per_second > 0
