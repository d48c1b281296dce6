"""The text as training batches and evaluation rows.

:func:`split_text` (train, validation, test), :func:`stream_batches`
(contiguous batches whose rows continue each other, for a stateful model and
truncated BPTT), :func:`random_windows` (independent windows, the usual
alternative), :func:`training_dataset` (either, served to Keras as a
``tf.data`` pipeline), :func:`eval_streams` (held-out text as long rows) and
:func:`spread_streams` (rows taken at evenly spaced places of the training
text, to measure the fit to it).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from book.textgen.config import TrainConfig
from book.textgen.vocab import TextgenError

Array = np.ndarray


def split_text(text: str, validation: float = 0.1, test: float = 0.1) -> tuple[str, str, str]:
    """Three contiguous pieces, in order, without shuffling: ``(train, validation, test)``.

    The first ``1 - validation - test`` of the text is for training, the next
    ``validation`` for every choice made while training (which weights to
    keep, when to halve the learning rate, when to stop), and the last
    ``test`` is measured once, at the end.  The pieces are disjoint and add
    up to the text: ``train + validation + test == text``.
    """
    if not (0 <= validation < 1 and 0 <= test < 1 and validation + test < 1):
        raise ValueError(f"validation and test must be fractions with a sum below 1, got {validation} and {test}")
    n_train = int(round(len(text) * (1.0 - validation - test)))
    n_val = int(round(len(text) * (1.0 - test)))
    return text[:n_train], text[n_train:n_val], text[n_val:]


def stream_batches(ids: Array, batch_size: int, seq_len: int) -> tuple[Array, Array]:
    """Contiguous batches for a stateful model (truncated BPTT across batches).

    The text is cut into ``batch_size`` equal streams; batch ``k`` holds the
    ``k``-th slice of ``seq_len`` characters of every stream, so row ``b`` of
    batch ``k + 1`` continues row ``b`` of batch ``k`` and the state the model
    ends a batch with is the right one to start the next.

    Returns
    -------
    X, Y : (K, batch_size, seq_len) int32 inputs and next-character targets.

    Raises
    ------
    TextgenError : the text is too short for one batch.
    """
    ids = np.asarray(ids, dtype=np.int32)
    need = batch_size * seq_len + 1
    if len(ids) < need:
        raise TextgenError(
            f"the training text is too short for one batch: {len(ids)} characters, "
            f"one batch of {batch_size} x {seq_len} needs {need} (try a smaller --batch-size or --seq-len)"
        )
    K = (len(ids) - 1) // (batch_size * seq_len)
    L = K * seq_len
    x = ids[: batch_size * L].reshape(batch_size, L)
    y = ids[1 : batch_size * L + 1].reshape(batch_size, L)
    X = x.reshape(batch_size, K, seq_len).transpose(1, 0, 2)
    Y = y.reshape(batch_size, K, seq_len).transpose(1, 0, 2)
    return np.ascontiguousarray(X), np.ascontiguousarray(Y)


def random_windows(
    ids: Array, batch_size: int, seq_len: int, rng: np.random.Generator
) -> tuple[Array, Array]:
    """One batch of windows at random positions: X, Y of shape (batch_size, seq_len)."""
    ids = np.asarray(ids, dtype=np.int32)
    if len(ids) < seq_len + 1:
        raise TextgenError(f"the text is too short for one window: {len(ids)} characters, need {seq_len + 1}")
    starts = rng.integers(0, len(ids) - seq_len, size=batch_size)
    idx = starts[:, None] + np.arange(seq_len)
    return ids[idx], ids[idx + 1]


def pass_shifts(n_chars: int, passes: int, seed: int) -> Array:
    """Where each pass over the streams starts: 0 for the first, then random offsets in [0, n_chars)."""
    rng = np.random.default_rng(seed)
    return np.concatenate([[0], rng.integers(0, n_chars, size=passes - 1)]).astype(np.int64)


def training_dataset(ids: Array, config: TrainConfig, passes: int = 4096) -> tuple[Any, int]:
    """An endless ``tf.data`` pipeline of training batches (X, Y), each (B, T), and the batches per pass.

    ``config.contiguous``: pass after pass of :func:`stream_batches` (the
    stateful model resets its state at each pass start, every ``per_pass``
    batches).  With ``config.shift_passes`` pass ``p`` runs on the text rotated
    by ``pass_shifts(...)[p]`` characters, ``np.roll(ids, -shift)``, so the
    streams and the cuts between batches fall at new places on every pass
    instead of repeating the same batches (the rotation joins the end of the
    text to its start once per pass).  Otherwise: random windows
    (:func:`random_windows`) and ``per_pass = 0``.

    Everything runs inside TensorFlow: a Python generator feeding ``fit``
    measured twice as slow per step on 2 cores.
    """
    import tensorflow as tf

    ids = np.asarray(ids, dtype=np.int32)
    B, T = config.batch_size, config.seq_len
    ids_t = tf.constant(ids)
    if not config.contiguous:
        random_windows(ids, 1, T, np.random.default_rng(0))  # raises if too short
        span = tf.range(T)

        def windows(starts):
            idx = starts[:, None] + span[None, :]
            return tf.gather(ids_t, idx), tf.gather(ids_t, idx + 1)

        starts = tf.data.Dataset.random(seed=config.seed).map(lambda r: tf.cast(r % (len(ids) - T), tf.int32))
        return starts.batch(B).map(windows).prefetch(2), 0
    X, Y = stream_batches(ids, B, T)  # raises if too short
    K = len(X)
    if not config.shift_passes:
        return tf.data.Dataset.from_tensor_slices((X, Y)).repeat().prefetch(2), K

    def one_pass(shift):
        text = tf.roll(ids_t, -shift, axis=0)
        x = tf.transpose(tf.reshape(text[: B * K * T], (B, K, T)), (1, 0, 2))
        y = tf.transpose(tf.reshape(text[1 : B * K * T + 1], (B, K, T)), (1, 0, 2))
        return tf.data.Dataset.from_tensor_slices((x, y))

    shifts = tf.data.Dataset.from_tensor_slices(pass_shifts(len(ids), passes, config.seed))
    return shifts.repeat().flat_map(one_pass).prefetch(2), K


#: Held-out text is evaluated as this many long rows side by side, each from a
#: zero state.  Every row pays a warm-up of a few dozen characters before its
#: state holds context, so fewer, longer rows score slightly lower.
EVAL_STREAMS = 8


def eval_streams(ids: Array, streams: int = EVAL_STREAMS) -> tuple[Array, Array]:
    """Held-out text as ``streams`` long contiguous rows: X, Y of shape (S, L), for evaluation."""
    ids = np.asarray(ids, dtype=np.int32)
    streams = max(1, min(streams, (len(ids) - 1) // 2))
    L = (len(ids) - 1) // streams
    if L < 1:
        raise TextgenError(f"the held-out text is too short to evaluate: {len(ids)} characters")
    return ids[: streams * L].reshape(streams, L), ids[1 : streams * L + 1].reshape(streams, L)


def spread_streams(ids: Array, length: int, streams: int = EVAL_STREAMS) -> tuple[Array, Array]:
    """``streams`` rows of ``length`` inputs and next-character targets from evenly spaced places of ``ids``.

    Row ``r`` starts at ``r * (len(ids) - length - 1) // (streams - 1)``, so the
    rows sample the whole text (the first starts at its beginning, the last
    ends at its end) instead of one end of it.  Used to measure how well a
    model fits its training text, on as many characters as the validation
    text, with the same zero-state rows (see :func:`eval_streams`).
    """
    ids = np.asarray(ids, dtype=np.int32)
    length = max(1, min(int(length), len(ids) - 1))
    if len(ids) < 2:
        raise TextgenError(f"the text is too short to evaluate: {len(ids)} characters")
    last = len(ids) - length - 1
    starts = [0] if streams == 1 else [r * last // (streams - 1) for r in range(streams)]
    idx = np.asarray(starts)[:, None] + np.arange(length)
    return ids[idx], ids[idx + 1]
