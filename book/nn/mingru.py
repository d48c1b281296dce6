"""minGRU and minLSTM (Feng et al. 2024): gated cells whose gates do not read the state (Chapter 11).

Chapter 7's GRU computes its update gate and candidate from ``x_t`` *and*
``h_{t-1}``, so step ``t`` cannot start before step ``t - 1`` ends.  Dropping
``h_{t-1}`` from them (and the ``tanh``, and the reset gate, which only acts
on ``h_{t-1}``) leaves

.. math::

    z_t = \\sigma(x_t W_z + b_z), \\qquad \\tilde h_t = x_t W_h + b_h,
    \\qquad h_t = (1 - z_t) \\odot h_{t-1} + z_t \\odot \\tilde h_t ,

a linear recurrence ``h_t = a_t h_{t-1} + b_t`` with ``a_t = 1 - z_t`` and
``b_t = z_t \\tilde h_t`` that depend on the input only: every ``a_t`` and
``b_t`` comes from one large matrix product over all steps, and the states
from :func:`book.nn.scan.parallel_scan`.  (Keras's GRU writes
``z h_{t-1} + (1 - z) \\tilde h``: the same cell with ``z`` and ``1 - z``
swapped; this module follows the minGRU paper.)

minLSTM does the same to the LSTM: forget and input gates from ``x_t`` alone,
normalised to add up to one, ``h_t = f'_t h_{t-1} + i'_t \\tilde h_t``.

Shapes: ``x`` (N, T, D), ``h0`` (N, H), ``W_*`` (D, H), ``b_*`` (H,), states
(N, T, H).  CS231n-style pairs ``*_forward -> (h, cache)``,
``*_backward(dh, cache) -> gradients``; exact in float64.
"""

from __future__ import annotations

import numpy as np

from book.nn.gated import sigmoid
from book.nn.scan import linear_scan, linear_scan_backward, parallel_scan

Array = np.ndarray
MinGRUCache = tuple[Array, ...]

__all__ = [
    "mingru_forward",
    "mingru_backward",
    "mingru_sequential",
    "mingru_step_forward",
    "minlstm_forward",
    "minlstm_backward",
]


def _check(name: str, x: Array, h0: Array, *weights: Array) -> tuple[Array, ...]:
    """Validate ``x`` (N, T, D), ``h0`` (N, H) and pairs ``W`` (D, H), ``b`` (H,); return float arrays."""
    x, h0 = np.asarray(x), np.asarray(h0)
    if x.ndim != 3:
        raise ValueError(f"{name}: x must be an (N, T, D) array, got shape {x.shape}")
    N, _, D = x.shape
    if h0.ndim != 2 or h0.shape[0] != N:
        raise ValueError(f"{name}: h0 must have shape (N, H) with N = {N}, got {h0.shape}")
    H = h0.shape[1]
    out = []
    for k in range(0, len(weights), 2):
        W, b = np.asarray(weights[k]), np.asarray(weights[k + 1])
        if W.shape != (D, H):
            raise ValueError(f"{name}: weight {k // 2 + 1} must have shape (D, H) = {(D, H)}, got {W.shape}")
        if b.shape != (H,):
            raise ValueError(f"{name}: bias {k // 2 + 1} must have shape (H,) = {(H,)}, got {b.shape}")
        out += [W, b]
    dtype = np.result_type(x.dtype, h0.dtype, np.float32, *(w.dtype for w in out))
    return tuple(v.astype(dtype, copy=False) for v in (x, h0, *out))


def _gates(x: Array, W_z: Array, b_z: Array, W_h: Array, b_h: Array) -> tuple[Array, Array]:
    return sigmoid(x @ W_z + b_z), x @ W_h + b_h


def mingru_forward(
    x: Array, h0: Array, W_z: Array, b_z: Array, W_h: Array, b_h: Array
) -> tuple[Array, MinGRUCache]:
    """minGRU over a whole sequence, by :func:`book.nn.scan.parallel_scan` (no loop over time).

    Parameters
    ----------
    x : (N, T, D) inputs.  h0 : (N, H) initial state.
    W_z, W_h : (D, H) gate and candidate weights.  b_z, b_h : (H,) their biases.

    Returns
    -------
    h : (N, T, H) the states ``h_t = (1 - z_t) h_{t-1} + z_t (x_t W_h + b_h)``,
    ``z_t = sigmoid(x_t W_z + b_z)``.  cache : for :func:`mingru_backward`.
    """
    x, h0, W_z, b_z, W_h, b_h = _check("mingru_forward", x, h0, W_z, b_z, W_h, b_h)
    z, h_tilde = _gates(x, W_z, b_z, W_h, b_h)
    a = 1.0 - z
    h = parallel_scan(a, z * h_tilde, h0)
    return h, (x, h0, W_z, W_h, z, h_tilde, h)


def mingru_backward(dh: Array, cache: MinGRUCache) -> tuple[Array, Array, Array, Array, Array, Array]:
    """Gradients of :func:`mingru_forward`; the recurrence part is a reverse linear scan.

    Parameters
    ----------
    dh : (N, T, H) upstream gradient of every state.  cache : from :func:`mingru_forward`.

    Returns
    -------
    dx : (N, T, D).  dh0 : (N, H).  dW_z : (D, H).  db_z : (H,).  dW_h : (D, H).  db_h : (H,).
    """
    x, h0, W_z, W_h, z, h_tilde, h = cache
    dh = np.asarray(dh)
    if dh.shape != h.shape:
        raise ValueError(f"mingru_backward: dh must have the states' shape {h.shape}, got {dh.shape}")
    da, db, dh0 = linear_scan_backward(dh, 1.0 - z, h, h0)
    dz = -da + db * h_tilde  # a = 1 - z, b = z * h_tilde
    dk = dz * z * (1.0 - z)  # through the sigmoid
    dht = db * z
    D, H = W_z.shape
    xf, dkf, dhtf = x.reshape(-1, D), dk.reshape(-1, H), dht.reshape(-1, H)
    dx = dk @ W_z.T + dht @ W_h.T
    return dx, dh0, xf.T @ dkf, dkf.sum(axis=0), xf.T @ dhtf, dhtf.sum(axis=0)


def mingru_sequential(x: Array, h0: Array, W_z: Array, b_z: Array, W_h: Array, b_h: Array) -> Array:
    """The same states as :func:`mingru_forward`, one step after another (:func:`linear_scan`)."""
    x, h0, W_z, b_z, W_h, b_h = _check("mingru_sequential", x, h0, W_z, b_z, W_h, b_h)
    z, h_tilde = _gates(x, W_z, b_z, W_h, b_h)
    return linear_scan(1.0 - z, z * h_tilde, h0)


def mingru_step_forward(
    x_t: Array, h_prev: Array, W_z: Array, b_z: Array, W_h: Array, b_h: Array
) -> Array:
    """One minGRU step, (N, D) and (N, H) -> (N, H): what generation runs, one character at a time."""
    z, h_tilde = _gates(np.asarray(x_t), W_z, b_z, W_h, b_h)
    return (1.0 - z) * h_prev + z * h_tilde


def minlstm_forward(
    x: Array, h0: Array, W_f: Array, b_f: Array, W_i: Array, b_i: Array, W_h: Array, b_h: Array
) -> tuple[Array, MinGRUCache]:
    """minLSTM: ``f = sigmoid(x W_f + b_f)``, ``i = sigmoid(x W_i + b_i)``, normalised to ``f' + i' = 1``.

    ``h_t = f'_t h_{t-1} + i'_t (x_t W_h + b_h)`` with ``f' = f / (f + i)``
    and ``i' = i / (f + i)`` (Feng et al. 2024's length-independent form,
    without the cell state or output gate of an LSTM).  Shapes as
    :func:`mingru_forward`; returns ``(h, cache)``.
    """
    x, h0, W_f, b_f, W_i, b_i, W_h, b_h = _check("minlstm_forward", x, h0, W_f, b_f, W_i, b_i, W_h, b_h)
    f, i = sigmoid(x @ W_f + b_f), sigmoid(x @ W_i + b_i)
    s = f + i
    h_tilde = x @ W_h + b_h
    h = parallel_scan(f / s, i / s * h_tilde, h0)
    return h, (x, h0, W_f, W_i, W_h, f, i, h_tilde, h)


def minlstm_backward(dh: Array, cache: MinGRUCache) -> tuple[Array, ...]:
    """Gradients of :func:`minlstm_forward`: ``(dx, dh0, dW_f, db_f, dW_i, db_i, dW_h, db_h)``."""
    x, h0, W_f, W_i, W_h, f, i, h_tilde, h = cache
    dh = np.asarray(dh)
    if dh.shape != h.shape:
        raise ValueError(f"minlstm_backward: dh must have the states' shape {h.shape}, got {dh.shape}")
    s = f + i
    da, db, dh0 = linear_scan_backward(dh, f / s, h, h0)
    di_n = db * h_tilde  # d i' (a = f' = 1 - i')
    dht = db * i / s
    df = (da - di_n) * i / s**2  # f' = f / (f + i)
    di = (di_n - da) * f / s**2
    dk_f, dk_i = df * f * (1.0 - f), di * i * (1.0 - i)
    D, H = W_f.shape
    xf = x.reshape(-1, D)
    grads = []
    for g in (dk_f, dk_i, dht):
        gf = g.reshape(-1, H)
        grads += [xf.T @ gf, gf.sum(axis=0)]
    dx = dk_f @ W_f.T + dk_i @ W_i.T + dht @ W_h.T
    return (dx, dh0, *grads)
