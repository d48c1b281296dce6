"""Real-time recurrent learning, one step at a time, and tools to measure its cost.

:func:`book.nn.rnn.rtrl_gradients` computes a whole sequence's gradient by RTRL.
This module splits it into steps so that a learner can update its weights
*during* a stream (:func:`rtrl_online`), and adds the sizes and the timers the
chapter uses to compare RTRL with BPTT.

The sensitivities of the simple RNN ``h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h)``
are ``S_t = dh_t / dtheta``, stored per example as

- ``S_xh`` : (N, H, D, H), ``S_xh[n, i, d, k] = d h_t[n, i] / d W_xh[d, k]``
- ``S_hh`` : (N, H, H, H), ``S_hh[n, i, j, k] = d h_t[n, i] / d W_hh[j, k]``
- ``S_b``  : (N, H, H),    ``S_b[n, i, k]     = d h_t[n, i] / d b_h[k]``

and updated by forward-mode differentiation of one step,

.. math:: S_t = \\mathrm{diag}(1 - h_t^2)\\,\\bigl(\\text{explicit}_t + W_{hh}^\\top S_{t-1}\\bigr),

where the explicit part is the derivative with ``h_{t-1}`` held fixed.  In the
book's Jacobian convention (``notation.md``: ``J_t[j, i] = dh_t[i]/dh_{t-1}[j]``,
``J_t = W_hh diag(1 - h_t**2)``) the second term is ``J_t^T S_{t-1}``.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

Array = np.ndarray
Sensitivities = tuple[Array, Array, Array]


def rtrl_init(N: int, D: int, H: int) -> Sensitivities:
    """Zero sensitivities ``(S_xh, S_hh, S_b)`` for ``h_0`` (which does not depend on the weights)."""
    return np.zeros((N, H, D, H)), np.zeros((N, H, H, H)), np.zeros((N, H, H))


def rtrl_step_forward(
    x_t: Array, h_prev: Array, S: Sensitivities, W_xh: Array, W_hh: Array, b_h: Array
) -> tuple[Array, Sensitivities]:
    """One RNN step together with the update of the sensitivities.

    Parameters
    ----------
    x_t : (N, D), h_prev : (N, H), S : ``(S_xh, S_hh, S_b)`` of ``h_prev`` (shapes above),
    W_xh : (D, H), W_hh : (H, H), b_h : (H,).

    Returns
    -------
    h_t : (N, H) the new state; S_new : the sensitivities of ``h_t``.

    Cost per example: the ``W_hh^T S_hh`` contraction is ``H * H**3 = H**4``
    multiply-adds, the ``S_xh`` one ``D * H**3``.
    """
    S_xh, S_hh, S_b = S
    H = h_prev.shape[1]
    eye = np.eye(H)
    h_t = np.tanh(x_t @ W_xh + h_prev @ W_hh + b_h)
    gain = 1.0 - h_t**2
    S_xh = gain[:, :, None, None] * (
        np.einsum("nd,ik->nidk", x_t, eye) + np.einsum("ji,njdk->nidk", W_hh, S_xh)
    )
    S_hh = gain[:, :, None, None] * (
        np.einsum("nj,ik->nijk", h_prev, eye) + np.einsum("ji,njdk->nidk", W_hh, S_hh)
    )
    S_b = gain[:, :, None] * (eye[None] + np.einsum("ji,njk->nik", W_hh, S_b))
    return h_t, (S_xh, S_hh, S_b)


def rtrl_contract(dh_t: Array, S: Sensitivities) -> tuple[Array, Array, Array]:
    """This step's share of the gradient: ``dh_t . S_t``, summed over the batch.

    Parameters
    ----------
    dh_t : (N, H) gradient of the loss with respect to ``h_t`` (its own terms only).
    S : sensitivities of ``h_t``.

    Returns
    -------
    dW_xh : (D, H), dW_hh : (H, H), db_h : (H,)
    """
    S_xh, S_hh, S_b = S
    return (
        np.einsum("ni,nidk->dk", dh_t, S_xh),
        np.einsum("ni,nidk->dk", dh_t, S_hh),
        np.einsum("ni,nik->k", dh_t, S_b),
    )


def rtrl_online(
    x: Array,
    y: Array,
    params: tuple[Array, Array, Array, Array, Array],
    lr: float,
    carry: bool = True,
) -> tuple[Array, tuple[Array, Array, Array, Array, Array]]:
    """Learn from a stream, updating every weight after every step (Williams and Zipser 1989).

    The network is a tanh RNN with a linear read-out ``y_hat_t = h_t W_hy + b_y``
    and the loss at step t is ``0.5 * ||y_hat_t - y_t||**2``.  Each step reads the
    stream's next input ``x[t]``; the prediction is never fed back and the target
    enters only the loss, so there is no teacher forcing to do (Williams and
    Zipser's teacher forcing replaces *fed-back outputs* by their targets).
    After each step the sensitivities give the gradient of that step's loss
    with respect to all weights, and plain SGD applies it at once.  Because the
    weights change while the sensitivities are carried, the gradient is that of
    the recent past under slowly changing weights: exact for a fixed network,
    approximate online.

    Parameters
    ----------
    x : (T, D) the input stream; y : (T, K) the targets.
    params : ``(W_xh (D, H), W_hh (H, H), b_h (H,), W_hy (H, K), b_y (K,))``, not modified.
    lr : SGD step size.
    carry : ``False`` resets the sensitivities to the explicit part at each step
        (the gradient then only sees the last step: BPTT truncated to ``k = 1``,
        see :func:`book.nn.bptt.rnn_backward_truncated`).  The read-out's
        gradient is exact either way.

    Returns
    -------
    losses : (T,) the loss at each step, before that step's update.
    params : the learned weights (new arrays).
    """
    W_xh, W_hh, b_h, W_hy, b_y = (p.astype(np.float64, copy=True) for p in params)
    T, D = x.shape
    H = W_hh.shape[0]
    h = np.zeros((1, H))
    S = rtrl_init(1, D, H)
    losses = np.empty(T)
    for t in range(T):
        if not carry:
            S = rtrl_init(1, D, H)
        h, S = rtrl_step_forward(x[t : t + 1], h, S, W_xh, W_hh, b_h)
        err = h @ W_hy + b_y - y[t : t + 1]  # (1, K)
        losses[t] = 0.5 * float(np.sum(err**2))
        dh = err @ W_hy.T
        dW_xh, dW_hh, db_h = rtrl_contract(dh, S)
        W_hy -= lr * (h.T @ err)
        b_y -= lr * err[0]
        W_xh -= lr * dW_xh
        W_hh -= lr * dW_hh
        b_h -= lr * db_h
    return losses, (W_xh, W_hh, b_h, W_hy, b_y)


# --------------------------------------------------------------------------
# Sizes and measurements
# --------------------------------------------------------------------------
def sensitivity_size(D: int, H: int) -> int:
    """Numbers RTRL carries per example: ``H`` states times ``D*H + H*H + H`` parameters."""
    return H * (D * H + H * H + H)


def bptt_cache_size(T: int, D: int, H: int) -> int:
    """Numbers BPTT keeps per example for the backward pass: ``x_t`` and ``h_t`` for every step."""
    return T * (D + H)


def measure(fn: Callable[[], Any], repeats: int = 3) -> tuple[float, int]:
    """Best wall time over ``repeats`` calls of ``fn`` (seconds) and its peak traced memory (bytes).

    NumPy reports its array allocations to :mod:`tracemalloc`, so the peak is
    the largest amount of array memory alive at once during one call.  Timing
    runs are separate from the traced run (tracing slows Python down).
    """
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return best, int(peak)
