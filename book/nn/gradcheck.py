"""Centred finite differences and relative errors, shared by chapters, exercises and tests."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Array = np.ndarray


def rel_error(a: Array, b: Array) -> float:
    """Relative error ``||a - b|| / (||a|| + ||b||)`` (0 when both are zero).

    Scale-free: about 1e-16 means equal to float64 rounding.  Against centred
    differences with step 1e-5 in float64, a correct analytic gradient gives a
    relative error below 1e-7 (the book's threshold; Chapter 3 prints what its
    network reaches), and 1e-2 or more means a bug.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    denom = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if denom == 0 else float(np.linalg.norm(a - b) / denom)


def numerical_gradient(
    f: Callable[[], Array], x: Array, dout: Array | None = None, step: float = 1e-5
) -> Array:
    """Centred-difference gradient of ``sum(f() * dout)`` with respect to ``x``.

    ``f`` takes no arguments and reads ``x``, which this function perturbs in
    place (one entry at a time, restored afterwards).  With ``dout=None`` the
    output of ``f`` must be a scalar.

    Returns an array shaped like ``x``.  Costs ``2 * x.size`` calls of ``f``.
    """
    if x.dtype != np.float64:
        raise TypeError("numerical_gradient needs a float64 array (float32 is too coarse)")
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + step
        plus = np.asarray(f())
        x[i] = old - step
        minus = np.asarray(f())
        x[i] = old
        diff = plus - minus
        grad[i] = np.sum(diff * dout) / (2 * step) if dout is not None else diff / (2 * step)
    return grad


def check_gradients(
    f: Callable[[], Array],
    params: dict[str, Array],
    analytic: dict[str, Array],
    dout: Array | None = None,
    step: float = 1e-5,
) -> dict[str, float]:
    """Relative error between analytic and centred-difference gradients, per parameter.

    ``params`` maps names to the float64 arrays that ``f`` reads; ``analytic``
    maps the same names to the gradients to check.  Returns ``{name: rel_error}``.
    """
    return {
        name: rel_error(analytic[name], numerical_gradient(f, value, dout, step))
        for name, value in params.items()
    }
