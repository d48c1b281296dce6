"""A character-level text generator you can train on your own text (Chapter 8).

The pieces the chapter builds, reusable on their own:

- :class:`Vocabulary` -- characters to integer ids and back; id 0 is the
  unknown-character symbol, so text with characters never seen in training
  still encodes.
- :func:`split_text`, :func:`stream_batches` (contiguous batches whose rows
  continue each other, for a stateful model and truncated BPTT) and
  :func:`random_windows` (independent windows, the usual alternative);
  :func:`training_dataset` serves either to Keras as a ``tf.data`` pipeline,
  starting each pass over the streams at a new random place.
- :func:`build_model` -- embedding, one or more GRU/LSTM layers with dropout,
  and a dense layer that outputs **logits** (the loss applies the softmax).
- :func:`metrics` -- nats, bits per character and perplexity;
  :func:`unigram_nats` -- the baseline that ignores context.
- :func:`sampling_distribution` / :func:`sample_index` -- temperature, top-k
  and nucleus (top-p) sampling.
- :class:`StepGenerator` -- generation in NumPy from a trained Keras model's
  weights, carrying the recurrent state so that each new character costs one
  step (or, for comparison, re-running a window per character).
- :func:`train` -- training with gradient clipping, held-out evaluation,
  best-model keeping, learning-rate halving and early stopping, for a fixed
  number of steps (reproducible) or a time budget; GRUs train as
  :class:`book.fastgru.FastGRU` (faster on a CPU, with weight dropout on the
  recurrent kernel) and are kept as plain Keras GRUs; :func:`save` / :func:`load`.

Command line::

    python -m book.textgen train  --corpus python-docs --minutes 5 --out mymodel
    python -m book.textgen sample --model mymodel --prompt "The " --length 300 --temperature 0.8 --seed 1
    python -m book.textgen bench  --minutes 5
    python -m book.textgen speed  # ms per training step, Keras GRU against book.fastgru.FastGRU

Every bad input (missing, empty or binary file, a corpus too short for one
batch, a prompt with characters the vocabulary lacks, an unknown option, a
folder that holds no model) gets one line on stderr and exit status 2.
Nothing is pinned to a device: with a GPU visible, TensorFlow trains there.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from book.data import DataError, load_corpus

Array = np.ndarray

#: Printed for (and encoding) characters that are not in the vocabulary.
UNK = "\ufffd"
MODEL_FILE = "model.keras"
VOCAB_FILE = "vocabulary.json"
LN2 = math.log(2.0)


class TextgenError(ValueError):
    """A problem with the learner's input; the message is one line."""


# --------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class Vocabulary:
    """Characters <-> ids.  ``chars[0]`` is :data:`UNK`, the unknown-character symbol."""

    chars: tuple[str, ...]

    @classmethod
    def from_text(cls, text: str) -> Vocabulary:
        """The sorted distinct characters of ``text``, after :data:`UNK` at id 0."""
        return cls((UNK, *sorted(set(text) - {UNK})))

    @property
    def size(self) -> int:
        return len(self.chars)

    def __len__(self) -> int:
        return len(self.chars)

    @property
    def index(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.chars)}

    def missing(self, text: str) -> list[str]:
        """The distinct characters of ``text`` that the vocabulary lacks, sorted."""
        known = set(self.chars[1:])
        return sorted(set(text) - known)

    def encode(self, text: str, strict: bool = False) -> Array:
        """Ids of the characters of ``text``, shape ``(len(text),)``, int32.

        Unknown characters map to id 0 (:data:`UNK`); with ``strict=True`` they
        raise :class:`TextgenError` naming them instead.
        """
        if strict:
            bad = self.missing(text)
            if bad:
                raise TextgenError(describe_missing(bad))
        index = self.index
        return np.fromiter((index.get(c, 0) for c in text), dtype=np.int32, count=len(text))

    def decode(self, ids: Sequence[int] | Array) -> str:
        """The text of a sequence of ids."""
        return "".join(self.chars[int(i)] for i in ids)

    def to_json(self) -> str:
        return json.dumps({"unknown": UNK, "chars": list(self.chars)}, ensure_ascii=True)

    @classmethod
    def from_json(cls, text: str) -> Vocabulary:
        data = json.loads(text)
        chars = tuple(data["chars"])
        if not chars or chars[0] != UNK or not all(isinstance(c, str) and len(c) == 1 for c in chars):
            raise TextgenError("not a vocabulary file")
        return cls(chars)


def describe_missing(chars: Sequence[str]) -> str:
    """``"the vocabulary lacks 2 characters of the prompt: 'é' (U+00E9), '☃' (U+2603)"``."""
    shown = ", ".join(f"{c!r} (U+{ord(c):04X})" for c in chars[:10])
    more = f" and {len(chars) - 10} more" if len(chars) > 10 else ""
    n = len(chars)
    return f"the vocabulary lacks {n} character{'s' if n > 1 else ''} of the prompt: {shown}{more}"


# --------------------------------------------------------------------------
# Data: split, contiguous batches, random windows
# --------------------------------------------------------------------------
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


# --------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------
def bits_per_char(nats: float) -> float:
    """Cross-entropy in bits per character from nats per character: ``nats / ln 2``."""
    return float(nats) / LN2


def perplexity(nats: float) -> float:
    """Perplexity ``exp(nats)``: the number of equally likely characters that gives the same loss."""
    return float(math.exp(nats))


def metrics(nats: float) -> dict[str, float]:
    """``{"nats": ..., "bpc": ..., "perplexity": ...}`` for a mean cross-entropy in nats."""
    return {"nats": float(nats), "bpc": bits_per_char(nats), "perplexity": perplexity(nats)}


def unigram_nats(train_ids: Array, eval_ids: Array, vocab_size: int, smoothing: float = 1.0) -> float:
    """Cross-entropy (nats/char) of ``eval_ids`` under the training character frequencies.

    Add-``smoothing`` counts keep characters unseen in training finite.
    """
    counts = np.bincount(np.asarray(train_ids), minlength=vocab_size).astype(np.float64) + smoothing
    logp = np.log(counts / counts.sum())
    return float(-logp[np.asarray(eval_ids)].mean())


def cross_entropy_nats(logits: Array, targets: Array) -> float:
    """Mean softmax cross-entropy (nats) of logits (..., V) against integer targets (...)."""
    logits = np.asarray(logits, dtype=np.float64)
    shifted = logits - logits.max(axis=-1, keepdims=True)
    logz = np.log(np.exp(shifted).sum(axis=-1))
    picked = np.take_along_axis(shifted, np.asarray(targets)[..., None], axis=-1)[..., 0]
    return float((logz - picked).mean())


# --------------------------------------------------------------------------
# Sampling
# --------------------------------------------------------------------------
def sampling_distribution(
    logits: Array, temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0
) -> Array:
    """The distribution a sampler draws the next character from, shape (V,).

    ``softmax(logits / temperature)``, then (``top_k > 0``) only the ``top_k``
    most likely characters are kept, then (``top_p < 1``) only the smallest
    set of most likely characters whose probability adds up to at least
    ``top_p`` (the nucleus); what is kept is renormalised.  ``temperature=0``
    means arg-max (greedy).  Ties are broken by the lower id.
    """
    logits = np.asarray(logits, dtype=np.float64).ravel()
    V = logits.size
    order = np.argsort(-logits, kind="stable")  # most likely first, ties by id
    if temperature <= 0:
        p = np.zeros(V)
        p[order[0]] = 1.0
        return p
    z = logits / temperature
    p = np.exp(z - z.max())
    p /= p.sum()
    keep = np.ones(V, dtype=bool)
    if top_k and top_k < V:
        keep[order[top_k:]] = False
    if top_p < 1.0:
        cum = np.cumsum(p[order] * keep[order]) / p[keep].sum()
        n = int(np.searchsorted(cum, top_p - 1e-12) + 1)  # smallest prefix with mass >= top_p
        keep[order[n:]] = False
    p = np.where(keep, p, 0.0)
    return p / p.sum()


def sample_index(
    logits: Array, rng: np.random.Generator, temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0
) -> int:
    """Draw one id from :func:`sampling_distribution` (arg-max when ``temperature == 0``)."""
    p = sampling_distribution(logits, temperature, top_k, top_p)
    if temperature <= 0:
        return int(np.argmax(p))
    return int(np.searchsorted(np.cumsum(p), rng.random() * p.sum(), side="right").clip(0, p.size - 1))


# --------------------------------------------------------------------------
# The Keras model
# --------------------------------------------------------------------------
@dataclass
class ModelConfig:
    """Architecture: embedding -> ``layers`` x ``cell(units)`` (dropout between) -> dense logits."""

    cell: str = "gru"  # "gru", "lstm" or "simple"
    units: int = 256
    layers: int = 1
    embed: int = 64  # 0: one-hot input (a frozen identity embedding)
    dropout: float = 0.0
    locked_dropout: bool = False  # one dropout mask per sequence, shared by all its steps
    weight_dropout: float = 0.0  # dropout on a GRU's recurrent kernel, one mask per batch (book.fastgru)
    activation: str = "tanh"  # of a "simple" cell


def build_model(
    vocab_size: int, config: ModelConfig, batch_size: int | None = None, seq_len: int | None = None,
    stateful: bool = False, fast_gru: bool = False,
) -> Any:
    """A Keras model mapping ids (N, T) to next-character logits (N, T, V).

    ``stateful=True`` (needs ``batch_size``) carries each layer's final state
    into the next batch, for :func:`stream_batches`.  Dropout layers sit
    between the embedding, the recurrent layers and the output; with
    ``config.locked_dropout`` each sequence keeps one mask for all its steps.
    The recurrent layers keep Keras's defaults, so TensorFlow uses the cuDNN
    kernels on a GPU; ``fast_gru=True`` builds GRUs as
    :class:`book.fastgru.FastGRU` (same weights, faster training on a CPU,
    and ``config.weight_dropout`` on the recurrent kernel).  A model built
    with ``fast_gru=False`` and the same config has the same weights and
    computes the same function at inference (weight dropout only acts in
    training), which is how :func:`train` evaluates and keeps it.
    """
    import keras

    if config.weight_dropout and not (config.cell == "gru" and fast_gru):
        raise TextgenError("weight dropout needs a GRU trained as book.fastgru.FastGRU (cell gru, fast_gru on)")
    layers = keras.layers
    inp = keras.Input(batch_shape=(batch_size, seq_len), dtype="int32", name="ids")
    if config.embed:
        x = layers.Embedding(vocab_size, config.embed, name="embedding")(inp)
    else:
        x = layers.Embedding(
            vocab_size, vocab_size, embeddings_initializer="identity", trainable=False, name="embedding"
        )(inp)

    def dropout(x: Any, name: str) -> Any:
        noise = (batch_size, 1, x.shape[-1]) if config.locked_dropout else None
        return layers.Dropout(config.dropout, noise_shape=noise, name=name)(x)

    for k in range(config.layers):
        if config.dropout:
            x = dropout(x, f"dropout_{k}")
        kw = {"return_sequences": True, "stateful": stateful, "name": f"{config.cell}_{k}"}
        if config.cell == "gru" and fast_gru:
            from book.fastgru import FastGRU

            x = FastGRU(config.units, weight_dropout=config.weight_dropout, **kw)(x)
        elif config.cell == "gru":
            x = layers.GRU(config.units, **kw)(x)
        elif config.cell == "lstm":
            x = layers.LSTM(config.units, **kw)(x)
        elif config.cell == "simple":
            x = layers.SimpleRNN(config.units, activation=config.activation, **kw)(x)
        else:
            raise TextgenError(f"unknown cell {config.cell!r} (use gru, lstm or simple)")
    if config.dropout:
        x = dropout(x, "dropout_out")
    out = layers.Dense(vocab_size, name="logits")(x)
    return keras.Model(inp, out, name="char_rnn")


def reset_states(model: Any) -> None:
    """Zero the carried state of every stateful recurrent layer of ``model``."""
    for layer in model.layers:
        if getattr(layer, "stateful", False):
            layer.reset_state()


def keras_heldout_nats(model: Any, ids: Array, streams: int = EVAL_STREAMS) -> float:
    """Mean cross-entropy (nats/char) of a stateless Keras model on contiguous text.

    The text runs as ``streams`` long rows, each from a zero state, in one
    compiled call.
    """
    X, Y = eval_streams(ids, streams)
    logits = model.predict(X, batch_size=len(X), verbose=0)
    return cross_entropy_nats(logits, Y)


# --------------------------------------------------------------------------
# Generation with a carried state, in NumPy
# --------------------------------------------------------------------------
class StepGenerator:
    """One-character-at-a-time generator from a trained model's weights (NumPy).

    Holds the recurrent state of every layer between calls, so feeding one
    character costs one step of each layer.  Accepts the stateless or stateful
    Keras models of :func:`build_model` (dropout is inactive at generation).
    """

    def __init__(self, model: Any):
        from book.gated import gru_step_forward, lstm_step_forward

        self._gru, self._lstm = gru_step_forward, lstm_step_forward
        self.embedding: Array | None = None
        self.cells: list[tuple[str, tuple[Array, ...], str]] = []
        for layer in model.layers:
            kind = type(layer).__name__
            weights = tuple(np.asarray(w, dtype=np.float64) for w in layer.get_weights())
            if kind == "Embedding":
                self.embedding = weights[0]
            elif kind in ("GRU", "LSTM", "SimpleRNN"):
                act = getattr(layer, "activation", None)
                act_name = getattr(act, "__name__", "tanh")
                if kind == "GRU" and not getattr(layer, "reset_after", True):
                    raise TextgenError("only Keras's default GRU (reset_after=True) is supported")
                self.cells.append((kind, weights, act_name))
            elif kind == "Dense":
                self.W_y, self.b_y = weights
        if self.embedding is None or not self.cells:
            raise TextgenError("not a character model (needs an embedding, a recurrent layer and a dense layer)")
        self.vocab_size = self.embedding.shape[0]
        self.reset()

    def reset(self) -> None:
        """Back to the zero state."""
        self.state = []
        for kind, w, _ in self.cells:
            H = w[1].shape[0]
            self.state.append((np.zeros((1, H)), np.zeros((1, H))) if kind == "LSTM" else np.zeros((1, H)))

    def step(self, idx: int) -> Array:
        """Feed one id; return the logits (V,) for the next character and keep the new state."""
        x = self.embedding[idx][None]
        for k, (kind, w, act) in enumerate(self.cells):
            if kind == "GRU":
                x, _ = self._gru(x, self.state[k], *w)
                self.state[k] = x
            elif kind == "LSTM":
                h, c = self.state[k]
                x, c, _ = self._lstm(x, h, c, *w)
                self.state[k] = (x, c)
            else:
                a = x @ w[0] + self.state[k] @ w[1] + w[2]
                x = np.maximum(a, 0.0) if act == "relu" else np.tanh(a)
                self.state[k] = x
        return (x @ self.W_y + self.b_y)[0]

    def feed(self, ids: Sequence[int] | Array) -> Array:
        """Feed several ids in order; return the logits after the last (zeros if none)."""
        logits = np.zeros(self.vocab_size)
        for i in ids:
            logits = self.step(int(i))
        return logits

    def generate(
        self, prompt_ids: Sequence[int] | Array, length: int, temperature: float = 1.0, top_k: int = 0,
        top_p: float = 1.0, seed: int | None = 0, window: int | None = None,
    ) -> list[int]:
        """Ids of ``length`` new characters after ``prompt_ids``.

        With ``window=None`` the state is carried: the prompt is read once and
        every new character costs one step.  With ``window=W`` the state is
        reset and the last ``W`` characters re-run for every new character (how
        a fixed-window model such as the sources' generates): ``W`` steps each.
        """
        rng = np.random.default_rng(seed)
        history = [int(i) for i in prompt_ids]
        out: list[int] = []
        self.reset()
        logits = self.feed(history) if window is None else None
        for _ in range(length):
            if window is not None:
                self.reset()
                logits = self.feed(history[-window:])
            nxt = sample_index(logits, rng, temperature, top_k, top_p)
            out.append(nxt)
            history.append(nxt)
            if window is None:
                logits = self.step(nxt)
        return out


# --------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------
@dataclass
class TrainConfig:
    """How to train: batches, optimiser, evaluation and stopping."""

    batch_size: int = 64
    seq_len: int = 100
    contiguous: bool = True  # stateful contiguous streams; False: random windows from a zero state
    shift_passes: bool = True  # contiguous: each pass after the first starts the streams at new, random places
    learning_rate: float = 2e-3
    clipnorm: float = 1.0
    weight_decay: float = 0.0  # decoupled weight decay (AdamW) when > 0
    fast_gru: bool = True  # train GRUs as book.fastgru.FastGRU (the kept model is a plain Keras GRU)
    average: float = 0.0  # > 0: evaluate and keep a moving average of the weights with this decay
    decay: bool = True  # cosine decay of the learning rate over the steps or the time budget, to 5%
    eval_every: int = 200  # steps between held-out evaluations
    patience: int = 2  # evaluations without improvement before the learning rate halves
    max_halvings: int = 3  # stop early after this many halvings without improvement
    seed: int = 0


@dataclass
class TrainResult:
    """The best model (stateless, by held-out loss) and how training went."""

    model: Any
    vocab: Vocabulary
    model_config: ModelConfig
    best_nats: float
    steps: int
    train_seconds: float
    chars_per_second: float
    history: list[dict[str, float]] = field(default_factory=list)  # one dict per evaluation


def _fmt_time(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


class Progress:
    """A one-line progress bar on stderr (redrawn with a carriage return on a terminal)."""

    def __init__(self, total: float, unit: str, stream: Any = None, width: int = 24):
        self.total, self.unit, self.width = total, unit, width
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())

    def update(self, done: float, text: str) -> None:
        frac = min(1.0, done / self.total) if self.total else 1.0
        bar = "#" * int(frac * self.width) + "-" * (self.width - int(frac * self.width))
        what = f"{_fmt_time(done)}/{_fmt_time(self.total)}" if self.unit == "s" else f"{int(done)}/{int(self.total)} steps"
        line = f"[{bar}] {frac * 100:3.0f}% {what}  {text}"
        if self.tty:
            self.stream.write("\r" + line + "\033[K")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


class WeightAverage:
    """An exponential moving average of a model's trainable weights (Polyak averaging).

    After every training step ``avg <- d * avg + (1 - d) * w`` with
    ``d = min(decay, (1 + n) / (10 + n))`` at update ``n``, so the first
    updates are not dominated by the initial weights.  The average smooths
    out the noise of the last steps of stochastic gradient descent; it is
    evaluated and kept, never trained.
    """

    def __init__(self, model: Any, decay: float):
        import tensorflow as tf

        self.model, self.decay = model, float(decay)
        self.sources = [w.value for w in model.trainable_weights]
        self.average = [tf.Variable(v, trainable=False) for v in self.sources]
        self.count = tf.Variable(0.0, trainable=False)
        self._update = tf.function(self._update_all)

    def _update_all(self) -> None:
        import tensorflow as tf

        self.count.assign_add(1.0)
        d = tf.minimum(self.decay, (1.0 + self.count) / (10.0 + self.count))
        for avg, w in zip(self.average, self.sources, strict=True):
            avg.assign(d * avg + (1.0 - d) * w)

    def update(self) -> None:
        self._update()

    def get_weights(self) -> list[Array]:
        """Like ``model.get_weights()``, with the averages in place of the trainable weights."""
        where = {id(w): k for k, w in enumerate(self.model.trainable_weights)}
        return [self.average[where[id(w)]].numpy() if id(w) in where else np.asarray(w) for w in self.model.weights]


def train(
    train_text: str, heldout_text: str, model_config: ModelConfig, config: TrainConfig,
    steps: int | None = None, seconds: float | None = None, vocab: Vocabulary | None = None,
    progress: bool = False, stream: Any = None,
) -> TrainResult:
    """Train a character model; keep the weights with the lowest held-out loss.

    Exactly one of ``steps`` (reproducible: a fixed number of batches) and
    ``seconds`` (a budget of training time; evaluation is not counted) is
    given.  Every ``config.eval_every`` steps the held-out cross-entropy is
    measured; the best weights are kept; after ``patience`` evaluations
    without improvement the learning rate halves, and after ``max_halvings``
    such halvings training stops early (the held-out loss has stopped
    improving: the model is overfitting).
    """
    import keras
    import tensorflow as tf

    if (steps is None) == (seconds is None):
        raise ValueError("give exactly one of steps and seconds")
    keras.utils.set_random_seed(config.seed)
    vocab = vocab or Vocabulary.from_text(train_text)
    train_ids, held_ids = vocab.encode(train_text), vocab.encode(heldout_text)
    B, T = config.batch_size, config.seq_len
    ds, per_pass = training_dataset(train_ids, config)
    eval_streams(held_ids)  # raises if too short

    model = build_model(vocab.size, model_config, B, T, stateful=config.contiguous, fast_gru=config.fast_gru)
    evaluator = build_model(vocab.size, replace(model_config, weight_dropout=0.0))  # plain Keras layers
    X_held, Y_held = eval_streams(held_ids)
    eval_logits = tf.function(lambda x: evaluator(x, training=False))
    if config.weight_decay:
        optimizer = keras.optimizers.AdamW(config.learning_rate, weight_decay=config.weight_decay,
                                           clipnorm=config.clipnorm or None)
    else:
        optimizer = keras.optimizers.Adam(config.learning_rate, clipnorm=config.clipnorm or None)
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    average = WeightAverage(model, config.average) if config.average else None
    total = steps if steps is not None else seconds
    bar = Progress(float(total), "steps" if steps is not None else "s", stream) if progress else None
    state = {"best": math.inf, "weights": None, "bad": 0, "halvings": 0, "step": 0, "eval_time": 0.0,
             "t0": 0.0, "history": [], "train_loss": math.nan}

    class Monitor(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            state["t0"] = time.perf_counter()

        def on_train_batch_begin(self, batch, logs=None):
            if per_pass and state["step"] % per_pass == 0:
                reset_states(self.model)  # a new pass over the streams starts from zero
            lr = config.learning_rate * 0.5 ** state["halvings"]
            if config.decay:
                done = state["step"] / steps if steps is not None else self.elapsed() / seconds
                lr *= 0.05 + 0.95 * 0.5 * (1.0 + math.cos(math.pi * min(done, 1.0)))
            self.model.optimizer.learning_rate.assign(lr)

        def on_train_batch_end(self, batch, logs=None):
            state["step"] += 1
            if average is not None:
                average.update()
            if seconds is not None and self.elapsed() >= seconds:
                self.model.stop_training = True

        def elapsed(self) -> float:
            return time.perf_counter() - state["t0"] - state["eval_time"]

        def on_epoch_end(self, epoch, logs=None):
            t = time.perf_counter()
            state["train_loss"] = float((logs or {}).get("loss", math.nan))
            evaluator.set_weights(average.get_weights() if average is not None else self.model.get_weights())
            nats = cross_entropy_nats(eval_logits(X_held).numpy(), Y_held)
            improved = nats < state["best"] - 1e-4
            if improved:
                state["best"], state["weights"], state["bad"] = nats, evaluator.get_weights(), 0
            else:
                state["bad"] += 1
                if state["bad"] >= config.patience:
                    state["bad"] = 0
                    state["halvings"] += 1  # the learning rate halves (see on_train_batch_begin)
                    if state["halvings"] > config.max_halvings:
                        self.model.stop_training = True
            state["eval_time"] += time.perf_counter() - t
            state["history"].append({"step": state["step"], "seconds": self.elapsed(),
                                     "train_bpc": bits_per_char(state["train_loss"]),
                                     "heldout_bpc": bits_per_char(nats)})
            if bar:
                done = state["step"] if steps is not None else self.elapsed()
                bar.update(done, f"step {state['step']}  train {bits_per_char(state['train_loss']):.3f} bpc  "
                                 f"held-out {bits_per_char(nats):.3f} bpc (best {bits_per_char(state['best']):.3f})")

    chunk = config.eval_every
    if steps is not None:
        epochs, last = divmod(steps, chunk)
        if epochs == 0:
            epochs, chunk = 1, steps
        elif last:
            epochs += 1  # the last "epoch" is shortened by the callback below
    else:
        epochs = 10**6
    limit = steps

    class StepLimit(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if limit is not None and state["step"] >= limit:
                self.model.stop_training = True

    model.fit(ds, epochs=epochs, steps_per_epoch=chunk, verbose=0, shuffle=False, callbacks=[Monitor(), StepLimit()])
    if bar:
        bar.close()
    train_seconds = time.perf_counter() - state["t0"] - state["eval_time"]
    if state["weights"] is not None:
        evaluator.set_weights(state["weights"])
    return TrainResult(
        model=evaluator, vocab=vocab, model_config=model_config, best_nats=state["best"],
        steps=state["step"], train_seconds=train_seconds,
        chars_per_second=state["step"] * B * T / max(train_seconds, 1e-9), history=state["history"],
    )


# --------------------------------------------------------------------------
# Save and load
# --------------------------------------------------------------------------
def save(folder: str | Path, model: Any, vocab: Vocabulary, info: dict[str, Any] | None = None) -> Path:
    """Write ``model.keras`` and ``vocabulary.json`` into ``folder`` (created if needed)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model.save(folder / MODEL_FILE)
    meta = json.loads(vocab.to_json())
    meta["info"] = info or {}
    (folder / VOCAB_FILE).write_text(json.dumps(meta, ensure_ascii=True, indent=1), encoding="utf-8")
    return folder


def load(folder: str | Path) -> tuple[Any, Vocabulary]:
    """The model and vocabulary that :func:`save` wrote; :class:`TextgenError` if it is not such a folder."""
    folder = Path(folder)
    if not folder.is_dir():
        raise TextgenError(f"{folder}: no such model folder")
    if not (folder / MODEL_FILE).is_file() or not (folder / VOCAB_FILE).is_file():
        raise TextgenError(f"{folder}: not a model folder (expected {MODEL_FILE} and {VOCAB_FILE}; make one with 'train')")
    try:
        vocab = Vocabulary.from_json((folder / VOCAB_FILE).read_text(encoding="utf-8"))
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise TextgenError(f"{folder}: {VOCAB_FILE} is not a vocabulary file") from None
    import keras

    try:
        model = keras.models.load_model(folder / MODEL_FILE, compile=False)
    except Exception as exc:  # Keras raises many types for a damaged file
        raise TextgenError(f"{folder}: {MODEL_FILE} is not a readable Keras model ({type(exc).__name__})") from None
    if model.output_shape[-1] != vocab.size:
        raise TextgenError(f"{folder}: the model has {model.output_shape[-1]} outputs but the vocabulary {vocab.size}")
    return model, vocab


# --------------------------------------------------------------------------
# Recipes for the benchmark
# --------------------------------------------------------------------------
#: Our recipe: what `train` uses by default.
OURS_MODEL = ModelConfig(cell="gru", units=384, layers=1, embed=64, dropout=0.15, locked_dropout=True,
                         weight_dropout=0.25)
OURS_TRAIN = TrainConfig(batch_size=128, seq_len=50, contiguous=True, learning_rate=8e-3, clipnorm=1.0,
                         eval_every=200)


def _window_dataset(ids: Array, window: int, batch_size: int, seed: int) -> Any:
    """Shuffled windows of ``window`` characters -> next character (the sources' recipe), endless.

    Every pass visits each window once in a new random order (inside TensorFlow, see :func:`training_dataset`).
    """
    import tensorflow as tf

    ids_t = tf.constant(np.asarray(ids, dtype=np.int32))
    n = len(ids) - window
    span = tf.range(window)

    def gather(starts):
        starts = tf.cast(starts, tf.int32)
        return tf.gather(ids_t, starts[:, None] + span[None, :]), tf.gather(ids_t, starts + window)

    starts = tf.data.Dataset.range(n).shuffle(n, seed=seed, reshuffle_each_iteration=True).repeat()
    return starts.batch(batch_size, drop_remainder=True).map(gather).prefetch(4)


def _train_window_model(train_ids, held_ids, V, seconds, seed):
    """The sources' recipe on the corpus: one-hot windows of 3, SimpleRNN(50, relu), Adam, batch 32."""
    import keras

    keras.utils.set_random_seed(seed)
    window, B = 3, 32
    inp = keras.Input((window,), dtype="int32")
    x = keras.layers.Embedding(V, V, embeddings_initializer="identity", trainable=False, name="embedding")(inp)
    x = keras.layers.SimpleRNN(50, activation="relu", name="simple_0")(x)
    out = keras.layers.Dense(V, name="logits")(x)
    model = keras.Model(inp, out)
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    ds = _window_dataset(train_ids, window, B, seed)
    steps = _fit_for(model, ds, seconds, chunk=500)
    idx = np.arange(len(held_ids) - window)
    Xh = held_ids[idx[:, None] + np.arange(window)]
    logits = model.predict(Xh, batch_size=4096, verbose=0)
    nats = cross_entropy_nats(logits, held_ids[idx + window])
    return model, nats, steps * B, window  # characters predicted, as for the other recipes


def _fit_for(model: Any, ds: Any, seconds: float, chunk: int) -> int:
    """Fit on a repeated dataset until ``seconds`` of training have passed; return the steps run."""
    import keras

    count = {"n": 0}
    t0 = time.perf_counter()

    class Stop(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            count["n"] += 1
            if time.perf_counter() - t0 >= seconds:
                self.model.stop_training = True

    model.fit(ds, epochs=10**6, steps_per_epoch=chunk, verbose=0, shuffle=False, callbacks=[Stop()])
    return count["n"]


def _generation_speed(gen_fn: Callable[[int], Any], n: int = 300) -> float:
    gen_fn(5)  # warm up
    t = time.perf_counter()
    gen_fn(n)
    return n / (time.perf_counter() - t)


def bench(minutes: float, corpus: str = "python-docs", seed: int = 0, stream: Any = None,
          recipes: Sequence[str] = ("sources", "tutorial", "numpy", "ours")) -> list[dict[str, Any]]:
    """Train each recipe for the same budget on the same split; return one row per recipe."""
    from book import charrnn

    stream = stream if stream is not None else sys.stderr
    seconds = minutes * 60.0
    text = load_corpus(corpus)
    train_text, held_text = split_text(text)
    vocab = Vocabulary.from_text(train_text)
    train_ids, held_ids = vocab.encode(train_text), vocab.encode(held_text)
    V = vocab.size
    prompt = vocab.encode("The ")
    rows = []
    for name in recipes:
        stream.write(f"bench: training '{name}' for {_fmt_time(seconds)} ...\n")
        stream.flush()
        if name == "sources":
            model, nats, chars, window = _train_window_model(train_ids, held_ids, V, seconds, seed)
            gen = StepGenerator(model)
            speed = _generation_speed(lambda n, g=gen: g.generate(prompt, n, 1.0, seed=seed, window=3))
            row = {"recipe": "sources: 3-char windows, SimpleRNN(50, relu), Adam, batch 32",
                   "params": model.count_params(), "train_cps": chars / seconds, "bpc": bits_per_char(nats),
                   "gen_cps": speed}
        elif name == "tutorial":
            mc = ModelConfig(cell="gru", units=1024, layers=1, embed=256, dropout=0.0)
            tc = TrainConfig(batch_size=64, seq_len=100, contiguous=False, learning_rate=1e-3, clipnorm=0.0,
                             eval_every=100, patience=10**6, seed=seed)
            row = _bench_keras("tutorial: Embedding 256, GRU(1024), batch 64 x 100, Adam", train_text, held_text,
                               vocab, mc, tc, seconds, prompt, seed, stream)
        elif name == "numpy":
            cfg = charrnn.CharRNNConfig(hidden=256, seq_len=25, batch_size=1, learning_rate=0.03, seed=seed)
            res = charrnn.train(train_ids, V, cfg, seconds=seconds, heldout_ids=held_ids)
            speed = _generation_speed(lambda n, r=res: charrnn.sample(r.params, prompt, n, seed=seed))
            row = {"recipe": "numpy min-char-rnn: RNN(256), Adagrad 0.03, seq 25", "params": charrnn.count_params(res.params),
                   "train_cps": res.chars_per_second, "bpc": bits_per_char(res.best_nats), "gen_cps": speed}
        elif name == "ours":
            row = _bench_keras(
                f"ours: GRU({OURS_MODEL.units}), locked dropout {OURS_MODEL.dropout}, weight dropout "
                f"{OURS_MODEL.weight_dropout}, stateful {OURS_TRAIN.batch_size} x {OURS_TRAIN.seq_len}, "
                "shifted passes, clip, cosine lr",
                train_text, held_text, vocab, OURS_MODEL, replace(OURS_TRAIN, seed=seed), seconds, prompt, seed, stream)
        else:
            raise TextgenError(f"unknown recipe {name!r}")
        rows.append(row)
    return rows


def _bench_keras(label, train_text, held_text, vocab, mc, tc, seconds, prompt, seed, stream) -> dict[str, Any]:
    res = train(train_text, held_text, mc, tc, seconds=seconds, vocab=vocab, progress=True, stream=stream)
    gen = StepGenerator(res.model)
    speed = _generation_speed(lambda n: gen.generate(prompt, n, 1.0, seed=seed))
    return {"recipe": label, "params": res.model.count_params(), "train_cps": res.chars_per_second,
            "bpc": bits_per_char(res.best_nats), "gen_cps": speed}


def step_times(steps: int = 10, corpus: str = "python-docs", model_config: ModelConfig | None = None,
               config: TrainConfig | None = None, warmup: int = 5, rounds: int = 7) -> dict[str, list[float]]:
    """Milliseconds per training step with Keras's GRU and with :class:`book.fastgru.FastGRU`, per round.

    Both train the same model (our recipe unless ``model_config`` is given,
    with weight dropout off so that both compute the same thing) from the same
    weights on the same batches of the corpus: ``warmup`` steps untimed, then
    ``rounds`` alternating rounds of ``steps`` timed steps each, so that a
    slow moment of the machine does not decide the comparison.  Returns the
    mean step time of every round, ``{"keras": [...], "fast": [...]}``.
    """
    import keras

    mc = replace(model_config or OURS_MODEL, weight_dropout=0.0)
    tc = config or OURS_TRAIN
    text, _ = split_text(load_corpus(corpus))
    vocab = Vocabulary.from_text(text)
    ds, _ = training_dataset(vocab.encode(text), tc)
    # the batches are drawn once: a tf.data iterator started per timed round costs up to a second
    batches = [(x.numpy(), y.numpy()) for x, y in ds.take(warmup + steps)]
    models, weights = {}, None
    for name, fast in (("keras", False), ("fast", True)):
        keras.utils.set_random_seed(tc.seed)
        model = build_model(vocab.size, mc, tc.batch_size, tc.seq_len, stateful=tc.contiguous, fast_gru=fast)
        weights = weights or model.get_weights()
        model.set_weights(weights)
        model.compile(optimizer=keras.optimizers.Adam(tc.learning_rate, clipnorm=tc.clipnorm or None),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        for x, y in batches[:warmup]:
            model.train_on_batch(x, y)
        models[name] = model
    times: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(rounds):
        for name, model in models.items():
            t0 = time.perf_counter()
            for x, y in batches[warmup:]:
                model.train_on_batch(x, y)
            times[name].append(1000.0 * (time.perf_counter() - t0) / steps)
    return times


def format_table(rows: Sequence[dict[str, Any]], minutes: float) -> str:
    w = max([len("recipe"), *(len(r["recipe"]) for r in rows)])
    head = f"{'recipe':<{w}} {'params':>9} {'train chars/s':>13} {'held-out bpc':>12} {'gen chars/s':>11}"
    lines = [f"budget: {minutes:g} min of training per recipe; held-out: last 10% of the corpus", head,
             "-" * len(head)]
    for r in rows:
        lines.append(f"{r['recipe']:<{w}} {r['params']:>9,} {r['train_cps']:>13,.0f} {r['bpc']:>12.3f} "
                     f"{r['gen_cps']:>11,.0f}")
    return "\n".join(lines)


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------
class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit status 2, no usage block
        raise UsageError(message)


def _positive(kind: Callable[[str], Any], what: str, allow_zero: bool = False):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} must be a number, got {text!r}") from None
        if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
            raise argparse.ArgumentTypeError(f"{what} must be {'>= 0' if allow_zero else '> 0'}, got {text!r}")
        return value

    return parse


def _rate(what: str):
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} must be a number, got {text!r}") from None
        if not 0 <= value < 1:
            raise argparse.ArgumentTypeError(f"{what} must be in [0, 1), got {text!r}")
        return value

    return parse


def _probability(text: str) -> float:
    try:
        p = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--top-p must be a number, got {text!r}") from None
    if not 0 < p <= 1:
        raise argparse.ArgumentTypeError(f"--top-p must be in (0, 1], got {text!r}")
    return p


def _engine_options(parser: argparse.ArgumentParser) -> None:
    """``--threads`` and ``--onednn``: how TensorFlow runs on the CPU (train, bench, speed)."""
    parser.add_argument("--threads", type=_positive(int, "--threads"), default=default_threads(),
                        help="threads per TensorFlow operation (default: half the cores)")
    parser.add_argument("--onednn", action=argparse.BooleanOptionalAction, default=True,
                        help="TensorFlow's oneDNN CPU kernels (default: on; faster, sums in another order)")


def make_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m book.textgen", description="Train a character-level text generator, sample from it, benchmark it.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    t = sub.add_parser("train", help="train on a shipped corpus or your own UTF-8 text file")
    t.add_argument("--corpus", required=True, help="a corpus name (python-docs) or a path to a UTF-8 text file")
    t.add_argument("--out", required=True, help="folder to write the model and vocabulary into")
    budget = t.add_mutually_exclusive_group()
    budget.add_argument("--minutes", type=_positive(float, "--minutes"), help="training time budget (default 5)")
    budget.add_argument("--steps", type=_positive(int, "--steps"), help="a fixed number of training steps instead")
    t.add_argument("--cell", choices=["gru", "lstm"], default=OURS_MODEL.cell)
    t.add_argument("--units", type=_positive(int, "--units"), default=OURS_MODEL.units)
    t.add_argument("--layers", type=_positive(int, "--layers"), default=OURS_MODEL.layers)
    t.add_argument("--embed", type=_positive(int, "--embed"), default=OURS_MODEL.embed)
    t.add_argument("--dropout", type=_rate("--dropout"), default=OURS_MODEL.dropout)
    t.add_argument("--locked-dropout", action=argparse.BooleanOptionalAction, default=OURS_MODEL.locked_dropout,
                   help="one dropout mask per sequence for all its steps (default: on)")
    t.add_argument("--weight-dropout", type=_rate("--weight-dropout"), default=None,
                   help=f"dropout on a GRU's recurrent kernel (default: {OURS_MODEL.weight_dropout} with --cell gru "
                        "and the fast GRU, else 0)")
    t.add_argument("--weight-decay", type=_positive(float, "--weight-decay", allow_zero=True),
                   default=OURS_TRAIN.weight_decay, help="decoupled weight decay (AdamW); 0 means plain Adam")
    t.add_argument("--batch-size", type=_positive(int, "--batch-size"), default=OURS_TRAIN.batch_size)
    t.add_argument("--seq-len", type=_positive(int, "--seq-len"), default=OURS_TRAIN.seq_len)
    t.add_argument("--lr", type=_positive(float, "--lr"), default=OURS_TRAIN.learning_rate)
    t.add_argument("--shift-passes", action=argparse.BooleanOptionalAction, default=OURS_TRAIN.shift_passes,
                   help="start every pass over the streams at a new random place (default: on)")
    t.add_argument("--fast-gru", action=argparse.BooleanOptionalAction, default=OURS_TRAIN.fast_gru,
                   help="train GRUs with book.fastgru.FastGRU on a CPU (default: on)")
    t.add_argument("--average", type=_rate("--average"), default=OURS_TRAIN.average,
                   help="evaluate and keep a moving average of the weights with this decay (0: off)")
    t.add_argument("--eval-every", type=_positive(int, "--eval-every"), default=OURS_TRAIN.eval_every)
    t.add_argument("--seed", type=int, default=0)
    _engine_options(t)
    s = sub.add_parser("sample", help="generate text from a trained model")
    s.add_argument("--model", required=True, help="a folder written by 'train'")
    s.add_argument("--prompt", default="", help="text to start from (its characters must be in the vocabulary)")
    s.add_argument("--length", type=_positive(int, "--length", allow_zero=True), default=300)
    s.add_argument("--temperature", type=_positive(float, "--temperature", allow_zero=True), default=1.0,
                   help="0 means greedy (arg-max)")
    s.add_argument("--top-k", type=_positive(int, "--top-k", allow_zero=True), default=0, help="0 means no limit")
    s.add_argument("--top-p", type=_probability, default=1.0, help="nucleus sampling; 1 means no limit")
    s.add_argument("--seed", type=int, default=0)
    sp = sub.add_parser("speed", help="time training steps of our model with Keras's GRU and with FastGRU")
    sp.add_argument("--steps", type=_positive(int, "--steps"), default=10, help="timed steps per round")
    sp.add_argument("--rounds", type=_positive(int, "--rounds"), default=7, help="alternating rounds per layer")
    _engine_options(sp)
    b = sub.add_parser("bench", help="train four recipes for the same budget and print one table")
    b.add_argument("--minutes", type=_positive(float, "--minutes"), default=5.0)
    b.add_argument("--corpus", default="python-docs")
    b.add_argument("--recipes", default="sources,tutorial,numpy,ours",
                   help="comma-separated subset of sources,tutorial,numpy,ours")
    b.add_argument("--seed", type=int, default=0)
    _engine_options(b)
    return p


def _quiet_tf(onednn: bool | None = None) -> None:
    """Import TensorFlow for the command line, without its start-up messages.

    ``onednn`` turns TensorFlow's oneDNN CPU kernels on or off (``None``: as
    the environment says, off by default).  They change the order of sums, so
    the notebooks keep them off for outputs that are the same on every CPU;
    ``train``, ``bench`` and ``speed`` turn them on: a training step of the
    benchmark's GRU(384) took 148 instead of 162 ms with Keras's GRU and 130
    instead of 139 ms with FastGRU on 2 cores (``speed``, medians).  With them on, TensorFlow
    writes a banner to the process's standard error when it loads, before any
    logging switch applies, so the import runs with file descriptor 2 sent to
    ``/dev/null``.
    """
    from book.environment import quiet_tensorflow

    if onednn is not None:
        os.environ["TF_ENABLE_ONEDNN_OPTS"] = "1" if onednn else "0"
    quiet_tensorflow()
    if "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def default_threads() -> int:
    """Threads per TensorFlow operation for the command line: half the cores, at least 1."""
    return max(1, (os.cpu_count() or 2) // 2)


def set_threads(intra_op: int) -> None:
    """Run each TensorFlow operation on ``intra_op`` threads and up to 2 operations at once.

    Must run before TensorFlow executes anything.  On the 2-core machines this
    book is built on, one thread per operation with two operations side by side
    trained the benchmark's GRU(384) about 20 % faster (245 against 310 ms per
    step of 128 x 50) than TensorFlow's default of 2 and 2: the recurrent
    matrices are too small to gain from being split across cores, while the
    forward and backward graphs have independent operations to overlap.
    """
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(intra_op)
    tf.config.threading.set_inter_op_parallelism_threads(2)


def cmd_train(args: argparse.Namespace) -> int:
    fast_gru = args.cell == "gru" and args.fast_gru
    weight_dropout = args.weight_dropout
    if weight_dropout is None:
        weight_dropout = OURS_MODEL.weight_dropout if fast_gru else 0.0
    elif weight_dropout and not fast_gru:
        raise UsageError("--weight-dropout needs --cell gru and --fast-gru")
    text = load_corpus(args.corpus)
    train_text, held_text = split_text(text)
    mc = ModelConfig(cell=args.cell, units=args.units, layers=args.layers, embed=args.embed, dropout=args.dropout,
                     locked_dropout=args.locked_dropout, weight_dropout=weight_dropout)
    tc = replace(OURS_TRAIN, batch_size=args.batch_size, seq_len=args.seq_len, learning_rate=args.lr,
                 weight_decay=args.weight_decay, shift_passes=args.shift_passes, fast_gru=args.fast_gru,
                 average=args.average, eval_every=args.eval_every, seed=args.seed)
    vocab = Vocabulary.from_text(train_text)
    # validate the sizes before TensorFlow loads
    stream_batches(vocab.encode(train_text[: args.batch_size * args.seq_len + 1]), args.batch_size, args.seq_len)
    eval_streams(vocab.encode(held_text))
    _quiet_tf(args.onednn)
    set_threads(args.threads)
    if args.steps is not None:
        res = train(train_text, held_text, mc, tc, steps=args.steps, vocab=vocab, progress=True)
    else:
        res = train(train_text, held_text, mc, tc, seconds=60.0 * (args.minutes or 5.0), vocab=vocab, progress=True)
    info = {"corpus": str(args.corpus) if args.corpus in ("python-docs",) else Path(args.corpus).name,
            "model": asdict(mc), "train": asdict(tc), "steps": res.steps,
            "heldout_bpc": round(bits_per_char(res.best_nats), 4)}
    save(args.out, res.model, vocab, info)
    print(f"held-out {bits_per_char(res.best_nats):.3f} bits/char (perplexity {perplexity(res.best_nats):.2f}) "
          f"after {res.steps} steps, {res.train_seconds:.0f} s; saved to {args.out}")
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    folder = Path(args.model)
    if not folder.is_dir() or not (folder / VOCAB_FILE).is_file() or not (folder / MODEL_FILE).is_file():
        load(folder)  # raises the right one-line error
    try:
        vocab = Vocabulary.from_json((folder / VOCAB_FILE).read_text(encoding="utf-8"))
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise TextgenError(f"{folder}: {VOCAB_FILE} is not a vocabulary file") from None
    prompt_ids = vocab.encode(args.prompt, strict=True)  # before loading TensorFlow
    _quiet_tf()
    model, vocab = load(folder)
    gen = StepGenerator(model)
    out = gen.generate(prompt_ids, args.length, args.temperature, args.top_k, args.top_p, seed=args.seed)
    sys.stdout.write(args.prompt + vocab.decode(out) + "\n")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    recipes = [r.strip() for r in args.recipes.split(",") if r.strip()]
    bad = [r for r in recipes if r not in ("sources", "tutorial", "numpy", "ours")]
    if bad or not recipes:
        raise UsageError(f"--recipes: unknown recipe {', '.join(bad) or '(none)'} (use sources, tutorial, numpy, ours)")
    load_corpus(args.corpus)
    _quiet_tf(args.onednn)
    set_threads(args.threads)
    rows = bench(args.minutes, args.corpus, args.seed, recipes=recipes)
    print(format_table(rows, args.minutes))
    return 0


def cmd_speed(args: argparse.Namespace) -> int:
    _quiet_tf(args.onednn)
    set_threads(args.threads)
    times = step_times(args.steps, rounds=args.rounds)
    B, T = OURS_TRAIN.batch_size, OURS_TRAIN.seq_len
    print(f"one training step of GRU({OURS_MODEL.units}) on {B} x {T} characters, {args.threads} thread(s) per op, "
          f"oneDNN {'on' if args.onednn else 'off'}, {args.rounds} rounds of {args.steps} steps each:")
    print(f"{'':<17}{'fastest':>9}{'median':>9}{'slowest':>9}  (ms per step)")
    for name, label in (("keras", "keras.layers.GRU"), ("fast", "FastGRU")):
        t = times[name]
        print(f"{label:<17}{min(t):9.1f}{float(np.median(t)):9.1f}{max(t):9.1f}")
    print(f"FastGRU speed-up (medians): {float(np.median(times['keras']) / np.median(times['fast'])):.2f}x")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = make_parser()
    try:
        args = parser.parse_args(argv)
        commands = {"train": cmd_train, "sample": cmd_sample, "bench": cmd_bench, "speed": cmd_speed}
        return commands[args.command](args)
    except UsageError as exc:
        print(f"textgen: error: {exc} (see --help)", file=sys.stderr)
    except (DataError, TextgenError) as exc:
        print(f"textgen: error: {exc}", file=sys.stderr)
    except KeyboardInterrupt:
        print("textgen: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:
        print(f"textgen: error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
