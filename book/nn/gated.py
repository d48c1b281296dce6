"""Gated recurrent cells (LSTM and GRU) in NumPy, in Keras's weight layout.

Shapes are batch-first as in :mod:`book.nn.rnn`: inputs ``x`` are ``(N, T, D)``,
states ``(N, H)`` per step and ``(N, T, H)`` for a sequence.  The arrays that
Keras's layers return from ``get_weights()`` plug straight in::

    W_x, W_h, b = keras.layers.LSTM(H).get_weights()  # (D, 4H), (H, 4H), (4H,)
    W_x, W_h, b = keras.layers.GRU(H).get_weights()   # (D, 3H), (H, 3H), (2, 3H)

**LSTM** (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al.
2000).  The ``4H`` columns hold the gates in Keras's order ``i, f, c, o``:

.. math::

    [a_i, a_f, a_g, a_o] = x_t W_x + h_{t-1} W_h + b, \\quad
    i = \\sigma(a_i),\\ f = \\sigma(a_f),\\ g = \\tanh(a_g),\\ o = \\sigma(a_o),

    c_t = f \\odot c_{t-1} + i \\odot g, \\qquad h_t = o \\odot \\tanh(c_t).

**GRU** (Cho et al. 2014) in Keras's default ``reset_after=True`` form.  The
``3H`` columns hold ``z, r, h`` (update gate, reset gate, candidate); the bias
has two rows, ``b[0]`` for the input part and ``b[1]`` for the recurrent part:

.. math::

    [x_z, x_r, x_h] = x_t W_x + b_0, \\qquad [u_z, u_r, u_h] = h_{t-1} W_h + b_1,

    z = \\sigma(x_z + u_z),\\ r = \\sigma(x_r + u_r),\\
    \\tilde h = \\tanh(x_h + r \\odot u_h), \\qquad
    h_t = z \\odot h_{t-1} + (1 - z) \\odot \\tilde h.

The reset gate multiplies ``h_{t-1} W_h[:, 2H:] + b_1[2H:]`` *after* the
matrix product (hence "reset after"); the original paper puts it before,
``tanh(x_h + (r * h_{t-1}) W_h[:, 2H:])``: see :func:`gru_step_forward_original`.

Every function is exact in float64 and comes in CS231n-style pairs:
``*_forward(...) -> (out, cache)`` and ``*_backward(dout, cache) -> gradients``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

Array = np.ndarray
LSTMStepCache = tuple[Array, ...]
GRUStepCache = tuple[Array, ...]

__all__ = [
    "sigmoid",
    "lstm_step_forward",
    "lstm_step_backward",
    "lstm_forward",
    "lstm_backward",
    "lstm_final_cell",
    "gru_step_forward",
    "gru_step_backward",
    "gru_forward",
    "gru_backward",
    "gru_step_forward_original",
    "count_params_lstm",
    "count_params_gru",
    "count_params_bidirectional",
    "keras_weights",
]


def sigmoid(a: Array) -> Array:
    """The logistic function ``1 / (1 + exp(-a))``, without overflow for large ``|a|``."""
    a = np.asarray(a)
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


# --------------------------------------------------------------------------
# LSTM
# --------------------------------------------------------------------------
def lstm_step_forward(
    x: Array, h_prev: Array, c_prev: Array, W_x: Array, W_h: Array, b: Array
) -> tuple[Array, Array, LSTMStepCache]:
    """One LSTM step, gates in Keras's order ``i, f, c, o``.

    Parameters
    ----------
    x : (N, D) inputs at this step.
    h_prev : (N, H) previous hidden state.
    c_prev : (N, H) previous cell state.
    W_x : (D, 4H) input weights (Keras ``kernel``).
    W_h : (H, 4H) recurrent weights (Keras ``recurrent_kernel``).
    b : (4H,) bias (Keras ``bias``).

    Returns
    -------
    h_next : (N, H) ``o * tanh(c_next)``.
    c_next : (N, H) ``f * c_prev + i * g``.
    cache : what :func:`lstm_step_backward` needs.
    """
    H = h_prev.shape[1]
    a = x @ W_x + h_prev @ W_h + b
    i = sigmoid(a[:, :H])
    f = sigmoid(a[:, H : 2 * H])
    g = np.tanh(a[:, 2 * H : 3 * H])
    o = sigmoid(a[:, 3 * H :])
    c_next = f * c_prev + i * g
    tanh_c = np.tanh(c_next)
    h_next = o * tanh_c
    cache = (x, h_prev, c_prev, W_x, W_h, i, f, g, o, tanh_c)
    return h_next, c_next, cache


def lstm_step_backward(
    dh_next: Array, dc_next: Array, cache: LSTMStepCache
) -> tuple[Array, Array, Array, Array, Array, Array]:
    """Backward pass of :func:`lstm_step_forward`.

    Parameters
    ----------
    dh_next : (N, H) gradient of the loss with respect to ``h_next``.
    dc_next : (N, H) gradient with respect to ``c_next`` (from the next step).
    cache : from :func:`lstm_step_forward`.

    Returns
    -------
    dx : (N, D), dh_prev : (N, H), dc_prev : (N, H),
    dW_x : (D, 4H), dW_h : (H, 4H), db : (4H,)
    """
    x, h_prev, c_prev, W_x, W_h, i, f, g, o, tanh_c = cache
    do = dh_next * tanh_c
    dc = dc_next + dh_next * o * (1.0 - tanh_c**2)
    di = dc * g
    df = dc * c_prev
    dg = dc * i
    dc_prev = dc * f
    da = np.concatenate(
        [di * i * (1.0 - i), df * f * (1.0 - f), dg * (1.0 - g**2), do * o * (1.0 - o)], axis=1
    )
    dx = da @ W_x.T
    dh_prev = da @ W_h.T
    dW_x = x.T @ da
    dW_h = h_prev.T @ da
    db = da.sum(axis=0)
    return dx, dh_prev, dc_prev, dW_x, dW_h, db


def lstm_forward(
    x: Array, h0: Array, c0: Array, W_x: Array, W_h: Array, b: Array
) -> tuple[Array, list[LSTMStepCache]]:
    """Run an LSTM over a sequence (like ``keras.layers.LSTM(H, return_sequences=True)``).

    Parameters
    ----------
    x : (N, T, D) inputs.
    h0, c0 : (N, H) initial hidden and cell states.
    W_x : (D, 4H), W_h : (H, 4H), b : (4H,) as in :func:`lstm_step_forward`.

    Returns
    -------
    h : (N, T, H) every hidden state ``h_1 .. h_T``.
    cache : one step cache per time step, for :func:`lstm_backward`
        (:func:`lstm_final_cell` recovers the last cell state ``c_T`` from it).
    """
    N, T, _ = x.shape
    H = h0.shape[1]
    h = np.empty((N, T, H), dtype=np.result_type(x, h0, W_x))
    caches = []
    h_t, c_t = h0, c0
    for t in range(T):
        h_t, c_t, step_cache = lstm_step_forward(x[:, t], h_t, c_t, W_x, W_h, b)
        h[:, t] = h_t
        caches.append(step_cache)
    return h, caches


def lstm_final_cell(cache: list[LSTMStepCache]) -> Array:
    """The last cell state ``c_T`` (N, H) of a run of :func:`lstm_forward`, from its cache."""
    _, _, c_prev, _, _, i, f, g, _, _ = cache[-1]
    return f * c_prev + i * g


def lstm_backward(
    dh: Array, cache: list[LSTMStepCache], dc_T: Array | None = None
) -> tuple[Array, Array, Array, Array, Array, Array]:
    """Backpropagation through time for :func:`lstm_forward`.

    Parameters
    ----------
    dh : (N, T, H) upstream gradient on every hidden state.
    cache : from :func:`lstm_forward`.
    dc_T : (N, H) optional upstream gradient on the final cell state (zeros if None).

    Returns
    -------
    dx : (N, T, D), dh0 : (N, H), dc0 : (N, H), dW_x : (D, 4H), dW_h : (H, 4H), db : (4H,)
    """
    N, T, H = dh.shape
    x0, _, _, W_x, W_h, *_ = cache[0]
    D = x0.shape[1]
    dx = np.zeros((N, T, D), dtype=dh.dtype)
    dW_x = np.zeros(W_x.shape, dtype=dh.dtype)
    dW_h = np.zeros(W_h.shape, dtype=dh.dtype)
    db = np.zeros(4 * H, dtype=dh.dtype)
    dh_carry = np.zeros((N, H), dtype=dh.dtype)
    dc_carry = np.zeros((N, H), dtype=dh.dtype) if dc_T is None else dc_T.astype(dh.dtype)
    for t in reversed(range(T)):
        dx[:, t], dh_carry, dc_carry, dW_x_t, dW_h_t, db_t = lstm_step_backward(
            dh[:, t] + dh_carry, dc_carry, cache[t]
        )
        dW_x += dW_x_t
        dW_h += dW_h_t
        db += db_t
    return dx, dh_carry, dc_carry, dW_x, dW_h, db


# --------------------------------------------------------------------------
# GRU (Keras's reset_after=True form)
# --------------------------------------------------------------------------
def gru_step_forward(
    x: Array, h_prev: Array, W_x: Array, W_h: Array, b: Array
) -> tuple[Array, GRUStepCache]:
    """One GRU step as Keras computes it with ``reset_after=True`` (its default).

    Parameters
    ----------
    x : (N, D) inputs at this step.
    h_prev : (N, H) previous state.
    W_x : (D, 3H) input weights, columns ``z, r, h`` (Keras ``kernel``).
    W_h : (H, 3H) recurrent weights, same column order (Keras ``recurrent_kernel``).
    b : (2, 3H) biases: ``b[0]`` input bias, ``b[1]`` recurrent bias (Keras ``bias``).

    Returns
    -------
    h_next : (N, H) ``z * h_prev + (1 - z) * h_tilde`` with
        ``h_tilde = tanh(x_h + r * (h_prev W_h[:, 2H:] + b[1, 2H:]))``.
    cache : what :func:`gru_step_backward` needs.
    """
    H = h_prev.shape[1]
    mx = x @ W_x + b[0]
    mh = h_prev @ W_h + b[1]
    z = sigmoid(mx[:, :H] + mh[:, :H])
    r = sigmoid(mx[:, H : 2 * H] + mh[:, H : 2 * H])
    u_h = mh[:, 2 * H :]
    hh = np.tanh(mx[:, 2 * H :] + r * u_h)
    h_next = z * h_prev + (1.0 - z) * hh
    cache = (x, h_prev, W_x, W_h, z, r, u_h, hh)
    return h_next, cache


def gru_step_backward(
    dh_next: Array, cache: GRUStepCache
) -> tuple[Array, Array, Array, Array, Array]:
    """Backward pass of :func:`gru_step_forward`.

    Parameters
    ----------
    dh_next : (N, H) gradient of the loss with respect to ``h_next``.
    cache : from :func:`gru_step_forward`.

    Returns
    -------
    dx : (N, D), dh_prev : (N, H), dW_x : (D, 3H), dW_h : (H, 3H), db : (2, 3H)
    """
    x, h_prev, W_x, W_h, z, r, u_h, hh = cache
    dz = dh_next * (h_prev - hh)
    dhh = dh_next * (1.0 - z)
    da_h = dhh * (1.0 - hh**2)
    dr = da_h * u_h
    da_z = dz * z * (1.0 - z)
    da_r = dr * r * (1.0 - r)
    dmx = np.concatenate([da_z, da_r, da_h], axis=1)  # gradient on x W_x + b[0]
    dmh = np.concatenate([da_z, da_r, da_h * r], axis=1)  # gradient on h_prev W_h + b[1]
    dx = dmx @ W_x.T
    dh_prev = dh_next * z + dmh @ W_h.T
    dW_x = x.T @ dmx
    dW_h = h_prev.T @ dmh
    db = np.stack([dmx.sum(axis=0), dmh.sum(axis=0)])
    return dx, dh_prev, dW_x, dW_h, db


def gru_forward(
    x: Array, h0: Array, W_x: Array, W_h: Array, b: Array
) -> tuple[Array, list[GRUStepCache]]:
    """Run a GRU over a sequence (like ``keras.layers.GRU(H, return_sequences=True)``).

    Parameters
    ----------
    x : (N, T, D) inputs.
    h0 : (N, H) initial state.
    W_x : (D, 3H), W_h : (H, 3H), b : (2, 3H) as in :func:`gru_step_forward`.

    Returns
    -------
    h : (N, T, H) every state ``h_1 .. h_T``.
    cache : one step cache per time step, for :func:`gru_backward`.
    """
    N, T, _ = x.shape
    H = h0.shape[1]
    h = np.empty((N, T, H), dtype=np.result_type(x, h0, W_x))
    caches = []
    h_t = h0
    for t in range(T):
        h_t, step_cache = gru_step_forward(x[:, t], h_t, W_x, W_h, b)
        h[:, t] = h_t
        caches.append(step_cache)
    return h, caches


def gru_backward(
    dh: Array, cache: list[GRUStepCache]
) -> tuple[Array, Array, Array, Array, Array]:
    """Backpropagation through time for :func:`gru_forward`.

    Parameters
    ----------
    dh : (N, T, H) upstream gradient on every state.
    cache : from :func:`gru_forward`.

    Returns
    -------
    dx : (N, T, D), dh0 : (N, H), dW_x : (D, 3H), dW_h : (H, 3H), db : (2, 3H)
    """
    N, T, H = dh.shape
    x0, _, W_x, W_h, *_ = cache[0]
    D = x0.shape[1]
    dx = np.zeros((N, T, D), dtype=dh.dtype)
    dW_x = np.zeros(W_x.shape, dtype=dh.dtype)
    dW_h = np.zeros(W_h.shape, dtype=dh.dtype)
    db = np.zeros((2, 3 * H), dtype=dh.dtype)
    dh_carry = np.zeros((N, H), dtype=dh.dtype)
    for t in reversed(range(T)):
        dx[:, t], dh_carry, dW_x_t, dW_h_t, db_t = gru_step_backward(dh[:, t] + dh_carry, cache[t])
        dW_x += dW_x_t
        dW_h += dW_h_t
        db += db_t
    return dx, dh_carry, dW_x, dW_h, db


def gru_step_forward_original(
    x: Array, h_prev: Array, W_x: Array, W_h: Array, b: Array
) -> Array:
    """One GRU step in the original paper's form (Keras ``reset_after=False``).

    The reset gate scales the previous state *before* its matrix product, and
    there is one bias vector::

        h_tilde = tanh(x W_x[:, 2H:] + (r * h_prev) W_h[:, 2H:] + b[2H:])

    Parameters
    ----------
    x : (N, D), h_prev : (N, H), W_x : (D, 3H), W_h : (H, 3H), b : (3H,)

    Returns
    -------
    h_next : (N, H) ``z * h_prev + (1 - z) * h_tilde`` (Keras's convention for ``z``).
    """
    H = h_prev.shape[1]
    mx = x @ W_x + b
    z = sigmoid(mx[:, :H] + h_prev @ W_h[:, :H])
    r = sigmoid(mx[:, H : 2 * H] + h_prev @ W_h[:, H : 2 * H])
    hh = np.tanh(mx[:, 2 * H :] + (r * h_prev) @ W_h[:, 2 * H :])
    return z * h_prev + (1.0 - z) * hh


# --------------------------------------------------------------------------
# Parameter counts and Keras weights
# --------------------------------------------------------------------------
def count_params_lstm(D: int, H: int) -> int:
    """Parameters of an LSTM layer: four blocks of ``D*H + H*H + H`` (gates i, f, c, o)."""
    return 4 * (D * H + H * H + H)


def count_params_gru(D: int, H: int, reset_after: bool = True) -> int:
    """Parameters of a GRU layer: ``3*(D*H + H*H + H)``, plus ``3*H`` for the second bias row if ``reset_after``."""
    return 3 * (D * H + H * H + H) + (3 * H if reset_after else 0)


def count_params_bidirectional(per_direction: int) -> int:
    """A ``Bidirectional`` wrapper holds two independent copies: twice the parameters of one direction.

    The merge mode (``concat``, ``sum``, ``mul``, ``ave``) adds no parameters;
    it changes only the output width (``2H`` for ``concat``, ``H`` otherwise).
    """
    return 2 * per_direction


def keras_weights(layer: Any) -> tuple[Array, Array, Array]:
    """``(W_x, W_h, b)`` of a built Keras ``LSTM``/``GRU`` layer or cell, as float64."""
    W_x, W_h, b = (np.asarray(w, dtype=np.float64) for w in layer.get_weights())
    return W_x, W_h, b
