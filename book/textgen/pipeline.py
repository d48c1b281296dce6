"""The text as training batches and evaluation rows.

:func:`split_text`, :func:`stream_batches` (contiguous batches whose rows
continue each other, for a stateful model and truncated BPTT),
:func:`random_windows` (independent windows, the usual alternative),
:func:`training_dataset` (either, served to Keras as a ``tf.data`` pipeline)
and :func:`eval_streams`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from book.textgen.config import TrainConfig
from book.textgen.vocab import TextgenError

Array = np.ndarray


def split_text(text: str, holdout: float = 0.1) -> tuple[str, str]:
    """First ``1 - holdout`` of the text for training, the rest held out (no shuffling)."""
    n = int(round(len(text) * (1.0 - holdout)))
    return text[:n], text[n:]


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
#: state holds context; with 8 rows of the python-docs held-out text that costs
#: about 0.001 bits per character against one single stream (64 rows: 0.01-0.015).
EVAL_STREAMS = 8


def eval_streams(ids: Array, streams: int = EVAL_STREAMS) -> tuple[Array, Array]:
    """Held-out text as ``streams`` long contiguous rows: X, Y of shape (S, L), for evaluation."""
    ids = np.asarray(ids, dtype=np.int32)
    streams = max(1, min(streams, (len(ids) - 1) // 2))
    L = (len(ids) - 1) // streams
    if L < 1:
        raise TextgenError(f"the held-out text is too short to evaluate: {len(ids)} characters")
    return ids[: streams * L].reshape(streams, L), ids[1 : streams * L + 1].reshape(streams, L)
