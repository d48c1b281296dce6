"""Recurrent layers in NumPy, written to mirror the equations and Keras.

Shapes are batch-first, as in Keras: an input sequence ``x`` is ``(N, T, D)``
(batch, time, features) and hidden states are ``(N, H)`` per step or
``(N, T, H)`` for a whole sequence.  Weights use Keras's layout, so the
arrays that ``keras.layers.SimpleRNN(H).get_weights()`` returns plug straight
in::

    W_xh, W_hh, b_h = layer.get_weights()   # kernel (D, H), recurrent_kernel (H, H), bias (H,)

The simple RNN step is

.. math:: h_t = \\tanh(x_t W_{xh} + h_{t-1} W_{hh} + b_h),

the row-vector form of the textbook ``h_t = tanh(W_hh h_{t-1} + W_xh x_t + b)``
(the matrices here are the textbook ones transposed).

Layer functions come in pairs: ``*_forward(...) -> (out, cache)`` and
``*_backward(dout, cache) -> gradients``.  Everything is exact in float64.
"""

from __future__ import annotations

from typing import Any

import numpy as np

Array = np.ndarray
StepCache = tuple[Array, Array, Array, Array, Array]


# --------------------------------------------------------------------------
# The simple (Elman) RNN
# --------------------------------------------------------------------------
def rnn_step_forward(
    x: Array, h_prev: Array, W_xh: Array, W_hh: Array, b_h: Array
) -> tuple[Array, StepCache]:
    """One time step of a simple RNN with tanh.

    Parameters
    ----------
    x : (N, D) inputs at this step.
    h_prev : (N, H) hidden state from the previous step.
    W_xh : (D, H) input-to-hidden weights (Keras ``kernel``).
    W_hh : (H, H) hidden-to-hidden weights (Keras ``recurrent_kernel``).
    b_h : (H,) bias (Keras ``bias``).

    Returns
    -------
    h_next : (N, H) the new hidden state ``tanh(x W_xh + h_prev W_hh + b_h)``.
    cache : what :func:`rnn_step_backward` needs.
    """
    h_next = np.tanh(x @ W_xh + h_prev @ W_hh + b_h)
    return h_next, (x, h_prev, W_xh, W_hh, h_next)


def rnn_step_backward(
    dh_next: Array, cache: StepCache
) -> tuple[Array, Array, Array, Array, Array]:
    """Backward pass of :func:`rnn_step_forward`.

    Parameters
    ----------
    dh_next : (N, H) gradient of the loss with respect to ``h_next``.
    cache : from :func:`rnn_step_forward`.

    Returns
    -------
    dx : (N, D), dh_prev : (N, H), dW_xh : (D, H), dW_hh : (H, H), db_h : (H,)
    """
    x, h_prev, W_xh, W_hh, h_next = cache
    da = dh_next * (1.0 - h_next**2)  # tanh'(a) = 1 - tanh(a)^2
    dx = da @ W_xh.T
    dh_prev = da @ W_hh.T
    dW_xh = x.T @ da
    dW_hh = h_prev.T @ da
    db_h = da.sum(axis=0)
    return dx, dh_prev, dW_xh, dW_hh, db_h


def rnn_forward(
    x: Array, h0: Array, W_xh: Array, W_hh: Array, b_h: Array
) -> tuple[Array, list[StepCache]]:
    """Run a simple RNN over a whole sequence.

    Parameters
    ----------
    x : (N, T, D) input sequence.
    h0 : (N, H) initial hidden state.
    W_xh : (D, H), W_hh : (H, H), b_h : (H,) as in :func:`rnn_step_forward`.

    Returns
    -------
    h : (N, T, H) every hidden state ``h_1 .. h_T`` (``h[:, t]`` is after step t+1).
    cache : one step cache per time step, for :func:`rnn_backward`.
    """
    N, T, _ = x.shape
    H = h0.shape[1]
    h = np.empty((N, T, H), dtype=np.result_type(x, h0, W_xh))
    caches = []
    h_t = h0
    for t in range(T):
        h_t, step_cache = rnn_step_forward(x[:, t], h_t, W_xh, W_hh, b_h)
        h[:, t] = h_t
        caches.append(step_cache)
    return h, caches


def rnn_backward(
    dh: Array, cache: list[StepCache]
) -> tuple[Array, Array, Array, Array, Array]:
    """Backpropagation through time for :func:`rnn_forward`.

    Parameters
    ----------
    dh : (N, T, H) upstream gradient of the loss on every hidden state (zeros
        where a step has no loss of its own).
    cache : from :func:`rnn_forward`.

    Returns
    -------
    dx : (N, T, D), dh0 : (N, H), dW_xh : (D, H), dW_hh : (H, H), db_h : (H,)

    Going backward, the gradient reaching ``h_t`` is its own upstream term plus
    what flows back from step t+1; the weight gradients add up over steps
    because the same weights are used at every step.
    """
    N, T, H = dh.shape
    x0, _, W_xh, W_hh, _ = cache[0]
    D = x0.shape[1]
    dx = np.zeros((N, T, D), dtype=dh.dtype)
    dW_xh = np.zeros_like(W_xh, dtype=dh.dtype)
    dW_hh = np.zeros_like(W_hh, dtype=dh.dtype)
    db_h = np.zeros(H, dtype=dh.dtype)
    dh_carry = np.zeros((N, H), dtype=dh.dtype)
    for t in reversed(range(T)):
        dx[:, t], dh_carry, dW_xh_t, dW_hh_t, db_t = rnn_step_backward(
            dh[:, t] + dh_carry, cache[t]
        )
        dW_xh += dW_xh_t
        dW_hh += dW_hh_t
        db_h += db_t
    return dx, dh_carry, dW_xh, dW_hh, db_h


def rtrl_gradients(
    x: Array, h0: Array, W_xh: Array, W_hh: Array, b_h: Array, dh: Array
) -> tuple[Array, Array, Array]:
    """Real-time recurrent learning: the gradients of :func:`rnn_backward`, forward in time.

    Carries the sensitivities ``S_t = dh_t / dtheta`` of the state with respect
    to every parameter forward, one step at a time, and adds
    ``dh[:, t] . S_t`` to the gradient as soon as step t is known.  No step is
    ever revisited, so this is usable online; the price is the sensitivity
    tensors: ``dh_t/dW_hh`` holds ``H**3`` numbers per example and updating it
    costs ``O(H**4)`` per step.

    Parameters
    ----------
    x : (N, T, D), h0 : (N, H), W_xh : (D, H), W_hh : (H, H), b_h : (H,)
    dh : (N, T, H) upstream gradient on every hidden state, as for :func:`rnn_backward`.

    Returns
    -------
    dW_xh : (D, H), dW_hh : (H, H), db_h : (H,)
    """
    N, T, D = x.shape
    H = h0.shape[1]
    dtype = np.result_type(x, h0, W_xh, dh)
    eye = np.eye(H, dtype=dtype)
    # S_*[n, i, ...] = d h[n, i] / d (parameter index ...)
    S_xh = np.zeros((N, H, D, H), dtype=dtype)
    S_hh = np.zeros((N, H, H, H), dtype=dtype)
    S_b = np.zeros((N, H, H), dtype=dtype)
    dW_xh = np.zeros((D, H), dtype=dtype)
    dW_hh = np.zeros((H, H), dtype=dtype)
    db_h = np.zeros(H, dtype=dtype)
    h_prev = h0
    for t in range(T):
        h_t = np.tanh(x[:, t] @ W_xh + h_prev @ W_hh + b_h)
        gain = 1.0 - h_t**2  # (N, H): tanh'(a_t)
        # explicit part (the parameter as it appears in step t) ...
        explicit_xh = np.einsum("nd,ik->nidk", x[:, t], eye)
        explicit_hh = np.einsum("nj,ik->nijk", h_prev, eye)
        explicit_b = np.broadcast_to(eye, (N, H, H))
        # ... plus the implicit part through h_{t-1}: sum_j W_hh[j, i] S_{t-1}[j]
        S_xh = gain[:, :, None, None] * (explicit_xh + np.einsum("ji,njdk->nidk", W_hh, S_xh))
        S_hh = gain[:, :, None, None] * (explicit_hh + np.einsum("ji,njdk->nidk", W_hh, S_hh))
        S_b = gain[:, :, None] * (explicit_b + np.einsum("ji,njk->nik", W_hh, S_b))
        dW_xh += np.einsum("ni,nidk->dk", dh[:, t], S_xh)
        dW_hh += np.einsum("ni,nidk->dk", dh[:, t], S_hh)
        db_h += np.einsum("ni,nik->k", dh[:, t], S_b)
        h_prev = h_t
    return dW_xh, dW_hh, db_h


def count_params_simple_rnn(D: int, H: int) -> int:
    """Parameters of a simple RNN layer: ``W_xh`` (D*H) + ``W_hh`` (H*H) + ``b_h`` (H)."""
    return D * H + H * H + H


def keras_simple_rnn_weights(layer: Any) -> tuple[Array, Array, Array]:
    """``(W_xh, W_hh, b_h)`` of a built Keras ``SimpleRNN`` or ``SimpleRNNCell`` as float64."""
    W_xh, W_hh, b_h = (np.asarray(w, dtype=np.float64) for w in layer.get_weights())
    return W_xh, W_hh, b_h


__all__ = [
    "count_params_simple_rnn",
    "keras_simple_rnn_weights",
    "rnn_backward",
    "rnn_forward",
    "rnn_step_backward",
    "rnn_step_forward",
    "rtrl_gradients",
]
