"""Small synthetic sequence tasks with known answers, deterministic given a seed.

Each generator returns NumPy arrays, batch-first, ``float32`` inputs (what
Keras trains on) and integer or float targets::

    x, y = delayed_recall(1000, lag=10, seed=0)   # x (1000, 11, 9), y (1000,)

The tasks are small enough to train in seconds on a CPU, and each isolates
one thing: how many inputs and outputs a model maps (Chapter 6), or how far
back it must remember (Chapter 7).  Padding helpers for sequences of
different lengths are here too.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

Array = np.ndarray

__all__ = [
    "point_classes",
    "class_to_wave",
    "majority_vote",
    "running_max",
    "reverse_prefix",
    "delayed_recall",
    "adding_problem",
    "pad_sequences",
    "lengths_to_mask",
]


def point_classes(n: int, seed: int = 0) -> tuple[Array, Array]:
    """One-to-one: 2-D points, label 1 when the point lies inside the unit circle.

    Returns ``x`` (n, 2) uniform on ``[-1.5, 1.5]^2`` and ``y`` (n,) in {0, 1}.
    """
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.5, 1.5, size=(n, 2)).astype(np.float32)
    y = (np.sum(x**2, axis=1) < 1.0).astype(np.int64)
    return x, y


def class_to_wave(n: int, T: int = 12, n_classes: int = 3, seed: int = 0) -> tuple[Array, Array]:
    """One-to-many: a class id in, a sine wave of that class's frequency out.

    Class ``k`` produces ``sin(2 pi (k + 1) t / T)`` for ``t = 0 .. T-1``.

    Returns ``x`` (n, n_classes) one-hot and ``y`` (n, T, 1).
    """
    rng = np.random.default_rng(seed)
    k = rng.integers(0, n_classes, size=n)
    t = np.arange(T)
    y = np.sin(2 * np.pi * (k[:, None] + 1) * t[None, :] / T)[..., None]
    return np.eye(n_classes, dtype=np.float32)[k], y.astype(np.float32)


def majority_vote(n: int, T: int = 9, seed: int = 0) -> tuple[Array, Array]:
    """Many-to-one: a sequence of +1/-1 values; label 1 when there are more +1 than -1.

    ``T`` is odd so there are no ties.  Returns ``x`` (n, T, 1) and ``y`` (n,).
    """
    if T % 2 == 0:
        raise ValueError("T must be odd so that the vote has no ties")
    rng = np.random.default_rng(seed)
    x = rng.choice(np.array([-1.0, 1.0], dtype=np.float32), size=(n, T, 1))
    y = (x.sum(axis=(1, 2)) > 0).astype(np.int64)
    return x, y


def running_max(n: int, T: int = 8, n_symbols: int = 5, seed: int = 0) -> tuple[Array, Array]:
    """Many-to-many, aligned: at every step, the largest symbol seen so far.

    Returns ``x`` (n, T, n_symbols) one-hot and ``y`` (n, T) integer targets.
    """
    rng = np.random.default_rng(seed)
    s = rng.integers(0, n_symbols, size=(n, T))
    return np.eye(n_symbols, dtype=np.float32)[s], np.maximum.accumulate(s, axis=1)


def reverse_prefix(
    n: int, T_in: int = 6, T_out: int = 3, n_symbols: int = 4, seed: int = 0
) -> tuple[Array, Array]:
    """Many-to-many, encoder-decoder: read ``T_in`` symbols, output the first ``T_out`` reversed.

    Input and output lengths differ, so no step-by-step alignment exists: the
    model must read everything before it writes.  Returns ``x``
    (n, T_in, n_symbols) one-hot and ``y`` (n, T_out) integer targets.
    """
    if T_out > T_in:
        raise ValueError("T_out must not exceed T_in")
    rng = np.random.default_rng(seed)
    s = rng.integers(0, n_symbols, size=(n, T_in))
    return np.eye(n_symbols, dtype=np.float32)[s], s[:, :T_out][:, ::-1].copy()


def delayed_recall(
    n: int, lag: int, n_symbols: int = 8, noise: float = 2.0, seed: int = 0
) -> tuple[Array, Array]:
    """Long-range memory: recall the symbol shown ``lag`` steps before the end.

    Step 0 shows a symbol (one-hot on the first ``n_symbols`` channels) and a
    flag (last channel = 1).  The next ``lag`` steps carry Gaussian noise of
    standard deviation ``noise`` on the symbol channels and flag 0.  The
    target, read after the last step, is the symbol of step 0; chance accuracy
    is ``1 / n_symbols``.

    Returns ``x`` (n, lag + 1, n_symbols + 1) float32 and ``y`` (n,) integers.
    """
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_symbols, size=n)
    x = np.zeros((n, lag + 1, n_symbols + 1), dtype=np.float32)
    x[:, 1:, :n_symbols] = rng.normal(scale=noise, size=(n, lag, n_symbols))
    x[np.arange(n), 0, y] = 1.0
    x[:, 0, n_symbols] = 1.0
    return x, y


def adding_problem(n: int, T: int, seed: int = 0) -> tuple[Array, Array]:
    """The adding problem (Hochreiter & Schmidhuber 1997): add the two marked numbers.

    Channel 0 holds uniform numbers in [0, 1]; channel 1 marks one step in the
    first half and one in the second half.  Target: the sum of the two marked
    numbers (predicting 1 always gives a mean squared error of 1/6).

    Returns ``x`` (n, T, 2) float32 and ``y`` (n,) float32.
    """
    rng = np.random.default_rng(seed)
    x = np.zeros((n, T, 2), dtype=np.float32)
    x[:, :, 0] = rng.uniform(size=(n, T))
    first = rng.integers(0, T // 2, size=n)
    second = rng.integers(T // 2, T, size=n)
    rows = np.arange(n)
    x[rows, first, 1] = 1.0
    x[rows, second, 1] = 1.0
    y = x[rows, first, 0] + x[rows, second, 0]
    return x, y.astype(np.float32)


def pad_sequences(
    seqs: Sequence[Array], maxlen: int | None = None, value: float = 0.0, padding: str = "post"
) -> tuple[Array, Array]:
    """Stack sequences of different lengths into one array, padding with ``value``.

    Parameters
    ----------
    seqs : list of arrays ``(T_i, D)``.
    maxlen : length of the result (default: the longest sequence); longer ones are an error.
    padding : ``"post"`` pads after the data, ``"pre"`` before it.

    Returns
    -------
    x : (N, maxlen, D) float32, and mask : (N, maxlen) bool, True on real steps.
    """
    if padding not in ("post", "pre"):
        raise ValueError("padding must be 'post' or 'pre'")
    lengths = [len(s) for s in seqs]
    T = max(lengths) if maxlen is None else maxlen
    if max(lengths) > T:
        raise ValueError(f"a sequence of length {max(lengths)} does not fit in maxlen={T}")
    D = np.asarray(seqs[0]).shape[1]
    x = np.full((len(seqs), T, D), value, dtype=np.float32)
    mask = np.zeros((len(seqs), T), dtype=bool)
    for k, s in enumerate(seqs):
        L = len(s)
        where = slice(0, L) if padding == "post" else slice(T - L, T)
        x[k, where] = s
        mask[k, where] = True
    return x, mask


def lengths_to_mask(lengths: Sequence[int], T: int) -> Array:
    """Boolean mask (N, T), True at step ``t`` when ``t < lengths[n]`` (post-padding)."""
    return np.arange(T)[None, :] < np.asarray(lengths)[:, None]
