"""Small synthetic sequence tasks with known answers, deterministic given a seed.

Each generator returns NumPy arrays, batch-first, ``float32`` inputs (what
Keras trains on) and integer or float targets::

    x, y = delayed_recall(1000, lag=10, seed=0)   # x (1000, 11, 9), y (1000,)

The tasks are small enough to train in seconds on a CPU, and each isolates
one thing: how many inputs and outputs a model maps (Chapter 6), or how far
back it must remember (Chapter 7).  Padding helpers for sequences of
different lengths are here too.

Fresh draws from a small input space repeat: ``majority_vote(n, T=9)`` has
only 512 possible inputs, so a "fresh" test set drawn with another seed is
mostly made of training inputs.  :func:`draw_split` fixes that by giving
every possible input to exactly one of train, validation or test (by a hash
of its bytes), and :func:`count_overlap` counts what two sets share::

    x, y = draw_split(majority_vote, 2000, "train", seed=0, T=15)
    x_te, y_te = draw_split(majority_vote, 1000, "test", seed=1, T=15)
    count_overlap(x, x_te)                          # 0, whatever the seeds
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

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
    "SPLITS",
    "split_of",
    "draw_split",
    "count_overlap",
]


def point_classes(n: int, seed: int = 0) -> tuple[Array, Array]:
    """One-to-one: 2-D points, label 1 when the point lies inside the unit circle.

    Returns ``x`` (n, 2) uniform on ``[-1.5, 1.5]^2`` and ``y`` (n,) in {0, 1}.
    """
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.5, 1.5, size=(n, 2)).astype(np.float32)
    y = (np.sum(x**2, axis=1) < 1.0).astype(np.int64)
    return x, y


def class_to_wave(
    n: int,
    T: int = 12,
    n_classes: int = 3,
    seed: int = 0,
    amplitude: tuple[float, float] | None = None,
) -> tuple[Array, Array]:
    """One-to-many: a class id in, a sine wave of that class's frequency out.

    Class ``k`` produces ``a sin(2 pi (k + 1) t / T)`` for ``t = 0 .. T-1``.
    By default ``a = 1``, so there are only ``n_classes`` distinct inputs.
    With ``amplitude=(lo, hi)`` each example draws ``a`` uniformly from
    ``[lo, hi]`` and the input carries it as one more column, so inputs are
    real-valued and a fresh draw is almost surely new.

    Returns ``x`` (n, n_classes) one-hot, or (n, n_classes + 1) with the
    amplitude last, and ``y`` (n, T, 1).
    """
    rng = np.random.default_rng(seed)
    k = rng.integers(0, n_classes, size=n)
    t = np.arange(T)
    y = np.sin(2 * np.pi * (k[:, None] + 1) * t[None, :] / T)[..., None]
    x = np.eye(n_classes, dtype=np.float32)[k]
    if amplitude is not None:
        a = rng.uniform(amplitude[0], amplitude[1], size=n).astype(np.float32)
        x = np.concatenate([x, a[:, None]], axis=1)
        y = a[:, None, None] * y
    return x, y.astype(np.float32)


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


#: The parts :func:`draw_split` knows, in the order of its ``fractions``.
SPLITS = ("train", "val", "test")


def split_of(x: Array, fractions: Sequence[float] = (0.8, 0.1, 0.1)) -> Array:
    """Which part each example's input belongs to: 0 train, 1 validation, 2 test.

    The part is a fixed function of the input's bytes (a BLAKE2b hash mapped
    to ``[0, 1)`` and cut at the cumulative ``fractions``), so equal inputs
    always land in the same part, whichever seed drew them, and on every
    machine (bytes, so the same values in another dtype count as another
    input).  ``x`` is (n, ...) with any trailing shape; returns (n,) integers.
    """
    fractions = np.asarray(fractions, dtype=float)
    if fractions.ndim != 1 or np.any(fractions < 0) or not np.isclose(fractions.sum(), 1.0):
        raise ValueError("fractions must be non-negative and sum to 1")
    u = np.array([_unit_hash(r) for r in _rows(x)], dtype=np.float64)
    return np.searchsorted(np.cumsum(fractions)[:-1], u, side="right")


def draw_split(
    generator: Callable[..., tuple[Array, Array]],
    n: int,
    part: str,
    seed: int = 0,
    fractions: Sequence[float] = (0.8, 0.1, 0.1),
    **kwargs,
) -> tuple[Array, Array]:
    """Draw ``n`` examples of a task whose inputs all lie in one part of the input space.

    ``generator(m, seed=s, **kwargs)`` is one of the task functions above
    (it must return ``(x, y)``); it is called with seeds derived from
    ``seed`` and only the examples with ``split_of(x, fractions) ==
    SPLITS.index(part)`` are kept, until there are ``n``.  Sets drawn for
    different parts therefore share no input, even when the input space is
    small (then inputs repeat *within* a part).  The result is deterministic
    given the arguments and has the generator's shapes with ``n`` rows.
    """
    if part not in SPLITS:
        raise ValueError(f"part must be one of {SPLITS}, not {part!r}")
    want = SPLITS.index(part)
    share = float(np.asarray(fractions, dtype=float)[want])
    if share <= 0:
        raise ValueError(f"fractions gives the part {part!r} no share")
    xs, ys, have = [], [], 0
    for k in range(10_000):
        x, y = generator(max(64, int(1.5 * (n - have) / share)), seed=seed * 10_007 + k, **kwargs)
        keep = split_of(x, fractions) == want
        xs.append(x[keep])
        ys.append(y[keep])
        have += int(keep.sum())
        if have >= n:
            return np.concatenate(xs)[:n], np.concatenate(ys)[:n]
    raise RuntimeError(f"could not draw {n} examples for part {part!r}")  # pragma: no cover


def count_overlap(x_seen: Array, x_new: Array) -> int:
    """How many rows of ``x_new`` (n, ...) are exactly equal to some row of ``x_seen`` (m, ...)."""
    seen = {r.tobytes() for r in _rows(x_seen)}
    return sum(r.tobytes() in seen for r in _rows(x_new))


def _unit_hash(row: Array) -> float:
    """A number in ``[0, 1)`` fixed by the bytes of ``row`` (BLAKE2b, 64 bits)."""
    digest = hashlib.blake2b(row.tobytes(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64


def _rows(x: Array) -> Array:
    """``x`` (n, ...) as a C-contiguous (n, d) array, one example per row (also for n = 0)."""
    x = np.ascontiguousarray(x)
    return x.reshape(len(x), int(np.prod(x.shape[1:])))
