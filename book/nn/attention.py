"""Attention for one query per example: scaled dot-product and additive (Chapter 10).

A decoder step holds one query ``q`` per example and looks at the ``S``
encoder states of that example.  Each function scores every position, turns
the scores into weights with a softmax over the positions a mask allows, and
returns the weighted sum of the values:

``dot``       ``score_s = K_s . q / sqrt(d)``  (Luong et al. 2015; the scaling
              is Vaswani et al. 2017's)
``additive``  ``score_s = w . tanh(q W_q + K_s W_k)``  (Bahdanau et al. 2015)

Shapes: ``q`` (N, d) or (N, d_q), ``K`` (N, S, d) or (N, S, d_k), ``V``
(N, S, d_v), ``mask`` (N, S) bool, True where a position may be attended (at
least one per row); ``context`` (N, d_v), ``weights`` (N, S), exactly 0
where the mask is False.  Layers come as CS231n pairs, ``*_forward -> (...,
cache)`` and ``*_backward(dcontext, cache)``.  Everything is computed in
float64.
"""

from __future__ import annotations

import numpy as np

Array = np.ndarray

__all__ = [
    "additive_attention_backward",
    "additive_attention_forward",
    "dot_attention_backward",
    "dot_attention_forward",
    "masked_softmax",
]


def _as_float(name: str, a: Array, ndim: int) -> Array:
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {a.shape}")
    return a


def _check_mask(mask: Array | None, N: int, S: int) -> Array:
    """The mask as an (N, S) bool array (all True when ``mask`` is None)."""
    if mask is None:
        return np.ones((N, S), dtype=bool)
    m = np.asarray(mask)
    if m.shape != (N, S):
        raise ValueError(f"mask must have shape (N, S) = {(N, S)}, got {m.shape}")
    if m.dtype != bool:
        if not np.all((m == 0) | (m == 1)):
            raise ValueError("mask must be boolean (True where a position may be attended)")
        m = m.astype(bool)
    empty = np.flatnonzero(~m.any(axis=1))
    if empty.size:
        raise ValueError(f"mask allows no position in row {int(empty[0])}; each row needs one")
    return m


def masked_softmax(scores: Array, mask: Array | None = None) -> Array:
    """Softmax over the last axis of ``scores`` (N, S), exactly 0 where ``mask`` is False.

    The largest allowed score is subtracted first, so no ``exp`` overflows;
    masked positions never enter the sum, whatever their score (even inf or
    nan).
    """
    scores = _as_float("scores", scores, 2)
    m = _check_mask(mask, *scores.shape)
    s = np.where(m, scores, -np.inf)
    e = np.where(m, np.exp(s - s.max(axis=1, keepdims=True)), 0.0)
    return e / e.sum(axis=1, keepdims=True)


def _check_qkv(q: Array, K: Array, V: Array, same_dim: bool) -> tuple[Array, Array, Array]:
    q, K, V = _as_float("q", q, 2), _as_float("K", K, 3), _as_float("V", V, 3)
    N, S = K.shape[:2]
    if q.shape[0] != N:
        raise ValueError(f"q has {q.shape[0]} rows but K has N = {N} (q {q.shape}, K {K.shape})")
    if V.shape[:2] != (N, S):
        raise ValueError(f"V must have shape (N, S, dv) = ({N}, {S}, dv), got {V.shape}")
    if S == 0:
        raise ValueError("K must hold at least one position (S >= 1)")
    if same_dim and q.shape[1] != K.shape[2]:
        raise ValueError(f"q (N, d) and K (N, S, d) need the same d, got {q.shape} and {K.shape}")
    return q, K, V


def _weighted_sum_backward(dcontext: Array, V: Array, weights: Array) -> tuple[Array, Array]:
    """Gradients of ``context = sum_s weights_s V_s`` through the softmax: (dscores, dV)."""
    dcontext = np.asarray(dcontext, dtype=np.float64)
    expected = (V.shape[0], V.shape[2])
    if dcontext.shape != expected:
        raise ValueError(f"dcontext must have shape (N, dv) = {expected}, got {dcontext.shape}")
    dV = weights[:, :, None] * dcontext[:, None, :]  # (N, S, dv)
    dweights = np.einsum("nsv,nv->ns", V, dcontext)  # (N, S)
    # softmax Jacobian: dscore_s = a_s (dweight_s - sum_r a_r dweight_r); 0 where a_s = 0
    dscores = weights * (dweights - np.sum(weights * dweights, axis=1, keepdims=True))
    return dscores, dV


def dot_attention_forward(
    q: Array, K: Array, V: Array, mask: Array | None = None
) -> tuple[Array, Array, tuple]:
    """Scaled dot-product attention, one query per example.

    Parameters
    ----------
    q : (N, d) queries (a decoder state per example).
    K : (N, S, d) keys (the encoder states).
    V : (N, S, dv) values (often the same array as ``K``).
    mask : (N, S) bool, True where a position may be attended; None allows all.

    Returns
    -------
    context : (N, dv) ``sum_s weights_s V_s``.
    weights : (N, S) ``softmax_s(K_s . q / sqrt(d))`` over the allowed
        positions; exactly 0 where ``mask`` is False.
    cache : what :func:`dot_attention_backward` needs.
    """
    q, K, V = _check_qkv(q, K, V, same_dim=True)
    m = _check_mask(mask, *K.shape[:2])
    scale = 1.0 / np.sqrt(q.shape[1])
    scores = np.einsum("nsd,nd->ns", K, q) * scale  # (N, S)
    weights = masked_softmax(scores, m)
    context = np.einsum("ns,nsv->nv", weights, V)
    return context, weights, (q, K, V, weights, scale)


def dot_attention_backward(dcontext: Array, cache: tuple) -> tuple[Array, Array, Array]:
    """Backward pass of :func:`dot_attention_forward`.

    ``dcontext`` (N, dv) is the gradient of the loss with respect to
    ``context``.  Returns ``(dq, dK, dV)``, shaped like ``q``, ``K``, ``V``;
    masked positions get ``dK = 0`` and ``dV = 0``.
    """
    q, K, V, weights, scale = cache
    dscores, dV = _weighted_sum_backward(dcontext, V, weights)
    dq = np.einsum("ns,nsd->nd", dscores, K) * scale
    dK = dscores[:, :, None] * q[:, None, :] * scale
    return dq, dK, dV


def additive_attention_forward(
    q: Array,
    K: Array,
    V: Array,
    W_q: Array,
    W_k: Array,
    w: Array,
    mask: Array | None = None,
) -> tuple[Array, Array, tuple]:
    """Additive (Bahdanau) attention, one query per example.

    Parameters
    ----------
    q : (N, dq) queries.
    K : (N, S, dk) keys.
    V : (N, S, dv) values.
    W_q : (dq, A) query projection.
    W_k : (dk, A) key projection.
    w : (A,) scoring vector.
    mask : (N, S) bool, True where a position may be attended; None allows all.

    Returns
    -------
    context : (N, dv) ``sum_s weights_s V_s``.
    weights : (N, S) softmax over the allowed positions of
        ``score_s = tanh(q W_q + K_s W_k) . w``; exactly 0 where ``mask`` is False.
    cache : what :func:`additive_attention_backward` needs.
    """
    q, K, V = _check_qkv(q, K, V, same_dim=False)
    W_q, W_k, w = _as_float("W_q", W_q, 2), _as_float("W_k", W_k, 2), _as_float("w", w, 1)
    A = w.shape[0]
    if W_q.shape != (q.shape[1], A):
        raise ValueError(f"W_q must have shape (dq, A) = {(q.shape[1], A)}, got {W_q.shape}")
    if W_k.shape != (K.shape[2], A):
        raise ValueError(f"W_k must have shape (dk, A) = {(K.shape[2], A)}, got {W_k.shape}")
    m = _check_mask(mask, *K.shape[:2])
    t = np.tanh((q @ W_q)[:, None, :] + K @ W_k)  # (N, S, A)
    weights = masked_softmax(t @ w, m)
    context = np.einsum("ns,nsv->nv", weights, V)
    return context, weights, (q, K, V, W_q, W_k, w, t, weights)


def additive_attention_backward(
    dcontext: Array, cache: tuple
) -> tuple[Array, Array, Array, Array, Array, Array]:
    """Backward pass of :func:`additive_attention_forward`.

    Returns ``(dq, dK, dV, dW_q, dW_k, dw)``, each shaped like its input.
    """
    q, K, V, W_q, W_k, w, t, weights = cache
    dscores, dV = _weighted_sum_backward(dcontext, V, weights)
    dw = np.einsum("ns,nsa->a", dscores, t)
    dpre = dscores[:, :, None] * w * (1.0 - t**2)  # (N, S, A), through tanh
    dW_k = np.einsum("nsk,nsa->ka", K, dpre)
    dK = dpre @ W_k.T
    dqa = dpre.sum(axis=1)  # q W_q is shared by all S positions
    dW_q = q.T @ dqa
    dq = dqa @ W_q.T
    return dq, dK, dV, dW_q, dW_k, dw
