"""The linear recurrence ``h_t = a_t * h_{t-1} + b_t`` and three ways to compute it (Chapter 11).

Shapes are batch-first as in the rest of :mod:`book.nn`: coefficients ``a``
and inputs ``b`` are ``(N, T, H)``, the initial state ``h0`` is ``(N, H)``,
the states ``h`` are ``(N, T, H)``; every product is elementwise (a
*diagonal* recurrence: each of the ``N * H`` channels is its own scalar
recurrence).

Unrolled, the recurrence has a closed form,

.. math::

    h_t = \\Big(\\prod_{k=1}^{t} a_k\\Big) h_0
          + \\sum_{s=1}^{t} \\Big(\\prod_{k=s+1}^{t} a_k\\Big) b_s ,

and one step is the affine map ``h -> a h + b``.  Composing two such maps
gives another, ``(a_1, b_1)`` then ``(a_2, b_2)`` is ``(a_1 a_2, a_2 b_1 +
b_2)``; the composition is associative, so every prefix of the sequence of
maps can be computed by a *scan* of ``O(log T)`` whole-array steps instead of
``T`` steps in order:

* :func:`linear_scan`: the loop over time (``T`` steps, ``T`` combines);
* :func:`parallel_scan`: Hillis and Steele's scan (1986): ``ceil(log2 T)``
  levels; level ``d`` combines every position with the one ``2^d`` before
  it (depth ``log2 T``, work ``T log2 T``);
* :func:`odd_even_scan`: the work-efficient form (Blelloch 1990): pair up
  neighbours, scan the ``T/2`` pairs the same way, fill in the rest
  (depth ``2 log2 T``, work under ``2T`` combines);
* :func:`log_space_scan`: for positive ``a`` and ``b``, ``log h`` by a
  cumulative sum and a cumulative log-sum-exp (Heinsen 2023), which neither
  overflows nor underflows where the closed form divides by ``prod a``;
* :func:`linear_scan_backward`: the gradient, itself a linear recurrence
  run backwards in time (a reverse scan).
"""

from __future__ import annotations

import numpy as np

Array = np.ndarray

__all__ = [
    "combine",
    "linear_scan",
    "parallel_scan",
    "odd_even_scan",
    "log_space_scan",
    "linear_scan_backward",
    "scan_work",
]


def _check(a: Array, b: Array, h0: Array | None, name: str = "scan") -> tuple[Array, Array, Array]:
    """Validate the shapes and return float arrays ``a``, ``b`` (N, T, H) and ``h0`` (N, H)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.ndim != 3 or b.ndim != 3:
        raise ValueError(f"{name}: a and b must be (N, T, H) arrays, got shapes {a.shape} and {b.shape}")
    if a.shape != b.shape:
        raise ValueError(f"{name}: a and b must have the same shape, got {a.shape} and {b.shape}")
    N, _, H = a.shape
    h0 = None if h0 is None else np.asarray(h0)
    dtype = np.result_type(a.dtype, b.dtype, np.float32, *(() if h0 is None else (h0.dtype,)))
    h0 = np.zeros((N, H), dtype) if h0 is None else h0
    if h0.shape != (N, H):
        raise ValueError(f"{name}: h0 must have shape (N, H) = {(N, H)}, got {h0.shape}")
    return a.astype(dtype, copy=False), b.astype(dtype, copy=False), h0.astype(dtype, copy=False)


def combine(first: tuple[Array, Array], second: tuple[Array, Array]) -> tuple[Array, Array]:
    """Compose two affine maps: ``first`` (``h -> a1 h + b1``) then ``second``: ``(a1 a2, a2 b1 + b2)``.

    Associative, ``combine(combine(p, q), r) == combine(p, combine(q, r))``,
    not commutative; ``(1, 0)`` is its identity.
    """
    (a1, b1), (a2, b2) = first, second
    return a1 * a2, a2 * b1 + b2


def linear_scan(a: Array, b: Array, h0: Array | None = None) -> Array:
    """``h_t = a_t * h_{t-1} + b_t`` by a loop over time.

    Parameters
    ----------
    a, b : (N, T, H) coefficients and inputs.  h0 : (N, H) initial state (zeros if ``None``).

    Returns
    -------
    h : (N, T, H) the state after every step.
    """
    a, b, h0 = _check(a, b, h0, "linear_scan")
    h = np.empty_like(b)
    prev = h0
    for t in range(a.shape[1]):
        prev = a[:, t] * prev + b[:, t]
        h[:, t] = prev
    return h


def parallel_scan(a: Array, b: Array, h0: Array | None = None) -> Array:
    """The same states as :func:`linear_scan`, by Hillis and Steele's scan (no loop over time).

    After level ``d`` (``d = 0, 1, ...``), position ``t`` holds the composition
    of the maps ``t - 2^{d+1} + 1 .. t`` (those that exist); after
    ``ceil(log2 T)`` levels it holds the whole prefix ``(A_t, B_t)`` and
    ``h_t = A_t h_0 + B_t``.  Every level is a few whole-array operations,
    so the Python loop runs ``ceil(log2 T)`` times, not ``T``.

    Parameters and returns as :func:`linear_scan`.
    """
    a, b, h0 = _check(a, b, h0, "parallel_scan")
    A, B = a.copy(), b.copy()
    T, step = a.shape[1], 1
    while step < T:
        # position t takes in the prefix that ends at t - step: (A, B)[t-step] then (A, B)[t]
        B[:, step:] = A[:, step:] * B[:, :-step] + B[:, step:]
        A[:, step:] = A[:, step:] * A[:, :-step]
        step *= 2
    return A * h0[:, None, :] + B


def odd_even_scan(a: Array, b: Array, h0: Array | None = None) -> Array:
    """The same states as :func:`linear_scan`, by the work-efficient scan (Blelloch's).

    Fold ``h0`` into the first input, combine neighbours ``(0, 1), (2, 3),
    ...`` into ``ceil(T/2)`` maps, scan those (recursively, the same way), which
    gives the states at the odd positions ``1, 3, 5, ...``; each even position
    ``2k`` is then one more step from the odd one before it.  ``ceil(log2 T)``
    levels down and as many up; fewer than ``2T`` combines in all.
    """
    a, b, h0 = _check(a, b, h0, "odd_even_scan")
    b = b.copy()
    if b.shape[1]:
        b[:, 0] = a[:, 0] * h0 + b[:, 0]
    return _odd_even(a, b)


def _odd_even(a: Array, b: Array) -> Array:
    """States of ``h_t = a_t h_{t-1} + b_t`` from a zero state (``b`` already holds ``h0``'s part)."""
    T = a.shape[1]
    if T <= 1:
        return b.copy()
    ae, be = a[:, 0:T - 1:2], b[:, 0:T - 1:2]  # the first of each pair (T // 2 pairs)
    ao, bo = a[:, 1::2], b[:, 1::2]
    h = np.empty_like(b)
    h[:, 1::2] = _odd_even(ae * ao, ao * be + bo)  # the state after each pair
    h[:, 0] = b[:, 0]
    h[:, 2::2] = a[:, 2::2] * h[:, 1::2][:, : (T - 1) // 2] + b[:, 2::2]
    return h


def log_space_scan(log_a: Array, log_b: Array, log_h0: Array | None = None) -> Array:
    """``log h`` for ``h_t = a_t h_{t-1} + b_t`` with positive ``a``, ``b`` and ``h0``, from their logarithms.

    With ``a*_t = sum_{k<=t} log a_k`` (a cumulative sum),
    ``log h_t = a*_t + logsumexp(log h0, log b_1 - a*_1, ..., log b_t - a*_t)``
    (a cumulative log-sum-exp).  The closed form divides by ``prod a``, which
    underflows to zero after a few hundred steps of ``a < 1``; here the
    division is a subtraction of logarithms and nothing leaves the range of
    floats.  ``log_h0=None`` means ``h0 = 0`` (``log h0 = -inf``).

    Parameters
    ----------
    log_a, log_b : (N, T, H).  log_h0 : (N, H) or ``None``.

    Returns
    -------
    log_h : (N, T, H).
    """
    log_a, log_b, _ = _check(log_a, log_b, None, "log_space_scan")
    N, _, H = log_a.shape
    if log_h0 is None:
        log_h0 = np.full((N, H), -np.inf)
    log_h0 = np.asarray(log_h0, dtype=log_a.dtype)
    if log_h0.shape != (N, H):
        raise ValueError(f"log_space_scan: log_h0 must have shape (N, H) = {(N, H)}, got {log_h0.shape}")
    a_star = np.cumsum(log_a, axis=1)
    terms = np.concatenate([log_h0[:, None], log_b - a_star], axis=1)
    with np.errstate(invalid="ignore"):  # -inf - -inf where h0 = 0 and nothing has arrived yet
        acc = np.logaddexp.accumulate(terms, axis=1)[:, 1:]
    return a_star + acc


def linear_scan_backward(dh: Array, a: Array, h: Array, h0: Array) -> tuple[Array, Array, Array]:
    """Gradients of a loss through ``h = linear_scan(a, b, h0)``: a reverse linear scan.

    With ``g_t = dL/dh_t`` counting every path through later states,
    ``g_t = dh_t + a_{t+1} g_{t+1}`` (``g_T = dh_T``): the same recurrence
    run from the end, with the coefficients shifted by one step, computed by
    :func:`parallel_scan` on the time-reversed arrays.  Then
    ``da_t = g_t h_{t-1}``, ``db_t = g_t`` and ``dh0 = a_1 g_1``.

    Parameters
    ----------
    dh : (N, T, H) upstream gradient.  a : (N, T, H).  h : (N, T, H) the
    forward states.  h0 : (N, H).

    Returns
    -------
    da, db : (N, T, H).  dh0 : (N, H).
    """
    a, dh, h0 = _check(a, dh, h0, "linear_scan_backward")
    if np.shape(h) != a.shape:
        raise ValueError(f"linear_scan_backward: h must have shape {a.shape}, got {np.shape(h)}")
    a_next = np.zeros_like(a)
    a_next[:, :-1] = a[:, 1:]  # g_t = a_{t+1} g_{t+1} + dh_t
    g = parallel_scan(a_next[:, ::-1], dh[:, ::-1])[:, ::-1]
    h_prev = np.concatenate([h0[:, None], np.asarray(h)[:, :-1]], axis=1)
    dh0 = a[:, 0] * g[:, 0] if a.shape[1] else np.zeros_like(h0)
    return g * h_prev, g, dh0


def scan_work(T: int) -> dict[str, int]:
    """Combines (work) and sequential whole-array steps (depth) of each scan of length ``T``.

    Returns ``{"loop_work", "loop_depth", "hillis_steele_work",
    "hillis_steele_depth", "odd_even_work", "odd_even_depth"}``, counted
    exactly as the functions above do them.
    """
    if T < 1:
        raise ValueError(f"scan_work: T must be at least 1, got {T}")
    hs_work, step, levels = 0, 1, 0
    while step < T:
        hs_work += T - step
        step, levels = step * 2, levels + 1

    def oe(n: int) -> tuple[int, int]:
        if n <= 1:
            return 0, 0
        work, depth = oe(n // 2)
        pairs, fills = n // 2, (n - 1) // 2
        return work + pairs + fills, depth + 2

    oe_work, oe_depth = oe(T)
    return {"loop_work": T - 1, "loop_depth": T - 1, "hillis_steele_work": hs_work,
            "hillis_steele_depth": levels, "odd_even_work": oe_work, "odd_even_depth": oe_depth}
