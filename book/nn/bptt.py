"""Truncated backpropagation through time, and measuring what BPTT costs.

Full BPTT (:func:`book.nn.rnn.rnn_backward`) carries the gradient of every
step's loss all the way back to ``h_0``.  Two ways to cut it short:

- :func:`rnn_backward_truncated` (``k``-step truncation): the gradient of the
  loss at step ``t`` is carried back through at most ``k`` steps, to
  ``h_{t-k+1}``, and dropped beyond.  ``k = 1`` keeps only the explicit part
  of every step, ``k >= T`` is full BPTT.  This is the quantity truncated BPTT
  *estimates*; it costs ``O(T k)`` work.
- :func:`tbptt_chunked` (what training code usually does, e.g. a stateful
  Keras layer or ``h.detach()`` in PyTorch): cut the sequence into chunks of
  ``k`` steps, run forward and backward inside each chunk, and pass only the
  hidden *value* to the next chunk.  A loss at position ``j`` of a chunk gets
  ``j + 1`` steps of history (between 1 and ``k``).  Memory is ``O(k)``
  instead of ``O(T)``.

:func:`measure` times a call and records its peak memory (with
:mod:`tracemalloc`, which sees NumPy's allocations).

Shapes are batch-first as in :mod:`book.nn.rnn`: ``x (N, T, D)``, ``h (N, T, H)``.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

from book.nn.rnn import StepCache, rnn_backward, rnn_forward, rnn_step_backward

Array = np.ndarray


def rnn_backward_truncated(
    dh: Array, cache: list[StepCache], k: int
) -> tuple[Array, Array, Array, Array, Array]:
    """``k``-step truncated BPTT for :func:`book.nn.rnn.rnn_forward`.

    Parameters
    ----------
    dh : (N, T, H) upstream gradient of each step's loss on its own hidden
        state (``dh[:, t]`` is ``dL_{t+1}/dh_{t+1}``).
    cache : from :func:`book.nn.rnn.rnn_forward`.
    k : how many steps the gradient of each loss term travels back (k >= 1).
        The term of step ``t`` reaches the parameters through steps
        ``t, t-1, ..., t-k+1`` only.

    Returns
    -------
    dx : (N, T, D), dh0 : (N, H), dW_xh : (D, H), dW_hh : (H, H), db_h : (H,)
        the truncated gradients (``dh0`` is non-zero only from losses within
        ``k`` steps of the start).  With ``k >= T`` they equal
        :func:`book.nn.rnn.rnn_backward`'s exactly.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    N, T, H = dh.shape
    x0, _, W_xh, W_hh, _ = cache[0]
    D = x0.shape[1]
    dx = np.zeros((N, T, D), dtype=dh.dtype)
    dh0 = np.zeros((N, H), dtype=dh.dtype)
    dW_xh = np.zeros(W_xh.shape, dtype=dh.dtype)
    dW_hh = np.zeros(W_hh.shape, dtype=dh.dtype)
    db_h = np.zeros(H, dtype=dh.dtype)
    for t in range(T):  # the loss term of step t ...
        g = dh[:, t]
        for s in range(t, max(t - k, -1), -1):  # ... goes back through k steps at most
            dx_s, g, dW_xh_s, dW_hh_s, db_s = rnn_step_backward(g, cache[s])
            dx[:, s] += dx_s
            dW_xh += dW_xh_s
            dW_hh += dW_hh_s
            db_h += db_s
        if t - k < 0:  # the walk reached h_0
            dh0 += g
    return dx, dh0, dW_xh, dW_hh, db_h


def tbptt_chunked(
    x: Array, h0: Array, W_xh: Array, W_hh: Array, b_h: Array, dh: Array, k: int
) -> tuple[Array, Array, Array, Array]:
    """Chunked truncated BPTT: forward and backward ``k`` steps at a time.

    Parameters
    ----------
    x : (N, T, D), h0 : (N, H), W_xh : (D, H), W_hh : (H, H), b_h : (H,)
    dh : (N, T, H) upstream gradient on every hidden state.
    k : chunk length (k >= 1); the last chunk may be shorter.

    Returns
    -------
    dW_xh : (D, H), dW_hh : (H, H), db_h : (H,) summed over the chunks, and
    h_T : (N, H) the last hidden state (the forward pass is exact; only the
    gradient is cut at chunk boundaries).  Only one chunk's cache is alive at
    a time, so memory grows with ``k``, not with ``T``.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    T = x.shape[1]
    dtype = np.result_type(x, h0, W_xh, dh)
    dW_xh = np.zeros(W_xh.shape, dtype=dtype)
    dW_hh = np.zeros(W_hh.shape, dtype=dtype)
    db_h = np.zeros(b_h.shape, dtype=dtype)
    h_t = h0
    for start in range(0, T, k):
        stop = min(start + k, T)
        h_chunk, cache = rnn_forward(x[:, start:stop], h_t, W_xh, W_hh, b_h)
        _, _, gW_xh, gW_hh, gb = rnn_backward(dh[:, start:stop], cache)
        dW_xh += gW_xh
        dW_hh += gW_hh
        db_h += gb
        h_t = h_chunk[:, -1]
        del h_chunk, cache
    return dW_xh, dW_hh, db_h, h_t


def full_bptt(
    x: Array, h0: Array, W_xh: Array, W_hh: Array, b_h: Array, dh: Array
) -> tuple[Array, Array, Array, Array]:
    """Full BPTT with the same signature and returns as :func:`tbptt_chunked`.

    Returns ``(dW_xh, dW_hh, db_h, h_T)``; the cache of all ``T`` steps is
    alive during the backward pass, so memory grows with ``T``.
    """
    h, cache = rnn_forward(x, h0, W_xh, W_hh, b_h)
    _, _, dW_xh, dW_hh, db_h = rnn_backward(dh, cache)
    return dW_xh, dW_hh, db_h, h[:, -1]


def measure(fn: Callable[..., Any], *args: Any, repeat: int = 3) -> tuple[float, int]:
    """Best wall time of ``repeat`` calls of ``fn(*args)`` and its peak memory.

    Returns
    -------
    seconds : float, the fastest of ``repeat`` timed calls (no tracing).
    peak_bytes : int, the largest amount of memory allocated during one more
        call, above what was allocated before it (measured with
        :mod:`tracemalloc`, which tracks NumPy arrays).
    """
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn(*args)
        best = min(best, time.perf_counter() - start)
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    base, _ = tracemalloc.get_traced_memory()
    fn(*args)
    _, peak = tracemalloc.get_traced_memory()
    if not was_tracing:
        tracemalloc.stop()
    return best, int(peak - base)
