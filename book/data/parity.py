"""Parity of a bit stream: the state-tracking task of Chapter 11, deterministic given a seed.

A sequence is a start symbol followed by ``length`` random bits; the target at
every position is the parity (the sum mod 2) of the bits read so far, so a
model must carry one bit of state and flip it at every 1::

    x, y = parity_task(1000, length=16, seed=0)   # x (1000, 17, 3), y (1000, 17)

Inputs are one-hot over three symbols, ``0``, ``1`` and the start symbol
(channel 2, at position 0 only; its target is 0).  A model trained on one
length can be tested on longer ones: the inputs are then new sequences by
construction (a different length), which :func:`count_overlap` confirms.
"""

from __future__ import annotations

import numpy as np

Array = np.ndarray

__all__ = ["parity_bits", "encode_parity", "parity_task", "count_overlap"]


def parity_bits(n: int, length: int, seed: int) -> Array:
    """``n`` rows of ``length`` independent fair bits, int8, shape (n, length)."""
    if n < 1 or length < 1:
        raise ValueError(f"parity_bits: n and length must be at least 1, got {n} and {length}")
    return np.random.default_rng(seed).integers(0, 2, size=(n, length)).astype(np.int8)


def encode_parity(bits: Array) -> tuple[Array, Array]:
    """One-hot inputs (n, length + 1, 3) float32 and prefix parities (n, length + 1) int32 for ``bits``."""
    bits = np.asarray(bits)
    if bits.ndim != 2 or not np.isin(bits, (0, 1)).all():
        raise ValueError("encode_parity: bits must be a 2-D array of 0s and 1s")
    n, length = bits.shape
    x = np.zeros((n, length + 1, 3), np.float32)
    x[:, 0, 2] = 1.0
    x[:, 1:, :2] = np.eye(2, dtype=np.float32)[bits]
    y = np.concatenate([np.zeros((n, 1), np.int32), np.cumsum(bits, axis=1, dtype=np.int32) % 2], axis=1)
    return x, y


def parity_task(n: int, length: int, seed: int) -> tuple[Array, Array]:
    """``encode_parity(parity_bits(n, length, seed))``: inputs (n, length + 1, 3), targets (n, length + 1)."""
    return encode_parity(parity_bits(n, length, seed))


def count_overlap(x_a: Array, x_b: Array) -> int:
    """How many rows of ``x_b`` also occur in ``x_a`` (sequences of different lengths never do)."""
    x_a, x_b = np.asarray(x_a), np.asarray(x_b)
    if x_a.shape[1:] != x_b.shape[1:]:
        return 0
    seen = {row.tobytes() for row in x_a}
    return int(sum(row.tobytes() in seen for row in x_b))
