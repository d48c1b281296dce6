"""A seeded transduction task for sequence-to-sequence models (Chapter 10): reverse a string.

Token ids: ``PAD = 0`` (padding), ``START = 1`` (the decoder's first input),
``END = 2`` (the last output token), then the ``n_symbols`` letters
``3 .. 2 + n_symbols``.  A source string of length ``L`` is padded with
``PAD`` to a common width; its target is the string reversed followed by
``END`` (``L + 1`` tokens), padded likewise.

Every string belongs to exactly one part, train, validation or test, fixed by
a hash of its tokens (80, 10 and 10 % of all strings of each length), so sets
drawn for different parts never share a string, whatever the seeds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

Array = np.ndarray

PAD, START, END = 0, 1, 2
FIRST = 3  # the first letter's id
PARTS = ("train", "val", "test")

__all__ = [
    "END",
    "FIRST",
    "PAD",
    "PARTS",
    "START",
    "decoder_inputs",
    "lengths_of",
    "part_of",
    "reverse_task",
    "shared_strings",
    "to_text",
]


def part_of(tokens: Sequence[int], fractions: Sequence[float] = (0.8, 0.1, 0.1)) -> str:
    """The part ("train", "val" or "test") a string belongs to, from a hash of its tokens.

    Padding does not count: the same string padded to any width has one part.
    """
    row = np.asarray([t for t in tokens if t != PAD], dtype=np.int64)
    digest = hashlib.blake2b(row.tobytes(), digest_size=8).digest()
    u = int.from_bytes(digest, "big") / 2.0**64
    cuts = np.cumsum(np.asarray(fractions, dtype=float))[:-1]
    return PARTS[int(np.searchsorted(cuts, u, side="right"))]


def reverse_task(
    n: int,
    lengths: tuple[int, int] = (3, 8),
    n_symbols: int = 8,
    part: str = "train",
    seed: int = 0,
    width: int | None = None,
) -> tuple[Array, Array]:
    """``n`` strings of the given part with their reversals.

    Parameters
    ----------
    n : how many examples.
    lengths : (shortest, longest) string length, each length equally likely.
    n_symbols : size of the alphabet.
    part : "train", "val" or "test"; every string returned belongs to it.
    seed : the random seed; the same arguments always give the same arrays.
    width : padded source width (default ``lengths[1]``); the target is one wider.

    Returns
    -------
    source : (n, width) int64, letters then ``PAD``.
    target : (n, width + 1) int64, the letters reversed, ``END``, then ``PAD``.
    """
    lo, hi = lengths
    if not 1 <= lo <= hi:
        raise ValueError(f"lengths must satisfy 1 <= shortest <= longest, got {lengths}")
    if part not in PARTS:
        raise ValueError(f"part must be one of {PARTS}, not {part!r}")
    if n_symbols < 2:
        raise ValueError(f"n_symbols must be at least 2, got {n_symbols}")
    width = hi if width is None else width
    if width < hi:
        raise ValueError(f"width {width} is shorter than the longest string, {hi}")
    rng = np.random.default_rng(seed)
    source = np.full((n, width), PAD, dtype=np.int64)
    target = np.full((n, width + 1), PAD, dtype=np.int64)
    i = 0
    for _ in range(1000 * n + 1000):
        if i == n:
            break
        L = int(rng.integers(lo, hi + 1))
        s = rng.integers(FIRST, FIRST + n_symbols, size=L)
        if part_of(s) != part:
            continue
        source[i, :L] = s
        target[i, :L] = s[::-1]
        target[i, L] = END
        i += 1
    if i < n:  # pragma: no cover - only for absurdly small spaces
        raise RuntimeError(f"could not draw {n} strings of part {part!r}")
    return source, target


def decoder_inputs(target: Array) -> Array:
    """Teacher forcing's decoder inputs: ``START`` then the target shifted right by one.

    ``target`` (N, T) gives (N, T): step ``j`` reads the true token ``j - 1``.
    """
    target = np.asarray(target)
    d = np.full_like(target, PAD)
    d[:, 0] = START
    d[:, 1:] = target[:, :-1]
    d[d == END] = PAD  # nothing is read after the end token
    return d


def lengths_of(source: Array) -> Array:
    """Number of non-padding tokens in each row (N,) of ``source`` (N, T)."""
    return np.sum(np.asarray(source) != PAD, axis=1)


def shared_strings(a: Array, b: Array) -> int:
    """How many rows of ``b`` are, as strings (padding ignored), also rows of ``a``."""
    seen = {tuple(int(t) for t in r if t != PAD) for r in np.asarray(a)}
    return sum(tuple(int(t) for t in r if t != PAD) in seen for r in np.asarray(b))


def to_text(tokens: Sequence[int]) -> str:
    """Tokens as text: letters a, b, ..., ``END`` as ``$``, padding dropped."""
    out = []
    for t in tokens:
        t = int(t)
        if t == END:
            out.append("$")
        elif t >= FIRST:
            out.append(chr(ord("a") + t - FIRST))
        elif t == START:
            out.append("^")
    return "".join(out)
