"""Two character models that train in parallel over time, for the benchmark (Chapter 11).

* :func:`build_mingru_lm`: an embedding, then ``layers`` residual blocks
  ``x + MinGRU(LayerNorm(x))`` and ``x + MLP(LayerNorm(x))`` (Feng et al.
  2024's language model in miniature), then the logits;
* :func:`build_transformer_lm`: the same with causal self-attention
  (``keras.layers.MultiHeadAttention``) in place of the recurrence and a
  learned position embedding over a context of ``context`` characters.

:func:`train_parallel` trains either on random windows from a zero state,
keeps the weights with the best validation loss and decays the learning
rate over the time budget; :func:`heldout_nats` measures a kept model on
held-out text (the minGRU over long rows, as the GRU is measured; the
Transformer over overlapping windows, every character scored with at least
half a context before it); :class:`ParallelGenerator` generates one
character per call (the minGRU carries its states; the Transformer re-reads
its last ``context`` characters).
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from book.textgen.metrics import cross_entropy_nats
from book.textgen.pipeline import eval_streams
from book.textgen.sampling import sample_index

Array = np.ndarray


@dataclass
class ParallelConfig:
    """A minGRU or Transformer character model and how to train it."""

    kind: str = "mingru"  # "mingru" or "transformer"
    width: int = 256
    layers: int = 2
    heads: int = 4  # transformer only
    context: int = 256  # training window; the Transformer's context
    mlp: int = 2  # MLP width as a multiple of ``width``
    dropout: float = 0.1
    batch_size: int = 32
    learning_rate: float = 2e-3
    clipnorm: float = 1.0
    eval_every: int = 100
    seed: int = 0


def _position_layer() -> Any:
    import keras

    @keras.saving.register_keras_serializable(package="book")
    class AddPosition(keras.layers.Layer):
        """Adds a learned vector per position, ``x + P[:T]``, ``P`` of shape (context, width)."""

        def __init__(self, context: int, **kwargs: Any):
            super().__init__(**kwargs)
            self.context = int(context)

        def build(self, input_shape: Any) -> None:
            init = keras.initializers.RandomNormal(stddev=0.02)
            self.table = self.add_weight(shape=(self.context, input_shape[-1]), initializer=init, name="table")

        def call(self, x: Any) -> Any:
            return x + self.table[: keras.ops.shape(x)[1]][None]

        def get_config(self) -> dict[str, Any]:
            return {**super().get_config(), "context": self.context}

    return AddPosition


_POSITION: list[Any] = []


def _position_class() -> Any:
    """The position layer class, made (and registered with Keras) once, when Keras is first needed."""
    if not _POSITION:
        _POSITION.append(_position_layer())
    return _POSITION[0]


def _block_mlp(x: Any, cfg: ParallelConfig, name: str) -> Any:
    import keras

    L = keras.layers
    y = L.LayerNormalization(name=f"{name}_ln2")(x)
    y = L.Dense(cfg.mlp * cfg.width, activation="gelu", name=f"{name}_up")(y)
    y = L.Dense(cfg.width, name=f"{name}_down")(y)
    if cfg.dropout:
        y = L.Dropout(cfg.dropout, name=f"{name}_drop2")(y)
    return L.Add(name=f"{name}_add2")([x, y])


def build_mingru_lm(vocab_size: int, cfg: ParallelConfig, seq_len: int | None = None,
                    batch_size: int | None = None, step: bool = False) -> Any:
    """ids (N, T) -> logits (N, T, V) through ``cfg.layers`` residual minGRU blocks.

    ``step=True`` builds the one-character model for generation: inputs ids
    (1, 1) and one (1, width) state per layer, outputs the logits (1, 1, V)
    and the new states; build it with :func:`step_model` to share weights.
    """
    import keras

    from book.textgen.linrnn import MinGRU

    L = keras.layers
    inp = keras.Input(batch_shape=(batch_size, seq_len), dtype="int32", name="ids")
    x = L.Embedding(vocab_size, cfg.width, name="embedding")(inp)
    for k in range(cfg.layers):
        y = MinGRU(cfg.width, name=f"block{k}_mingru")(L.LayerNormalization(name=f"block{k}_ln1")(x))
        if cfg.dropout:
            y = L.Dropout(cfg.dropout, name=f"block{k}_drop1")(y)
        x = _block_mlp(L.Add(name=f"block{k}_add1")([x, y]), cfg, f"block{k}")
    out = L.Dense(vocab_size, name="logits")(L.LayerNormalization(name="ln_out")(x))
    return keras.Model(inp, out, name="mingru_lm")


def build_transformer_lm(vocab_size: int, cfg: ParallelConfig, seq_len: int | None = None,
                         batch_size: int | None = None) -> Any:
    """ids (N, T) -> logits (N, T, V), ``T <= cfg.context``, causal self-attention blocks (pre-norm)."""
    import keras

    AddPosition = _position_class()
    L = keras.layers
    T = seq_len or cfg.context
    inp = keras.Input(batch_shape=(batch_size, T), dtype="int32", name="ids")
    x = L.Embedding(vocab_size, cfg.width, name="embedding")(inp)
    x = AddPosition(cfg.context, name="position")(x)
    for k in range(cfg.layers):
        h = L.LayerNormalization(name=f"block{k}_ln1")(x)
        y = L.MultiHeadAttention(cfg.heads, cfg.width // cfg.heads, dropout=0.0, name=f"block{k}_attention")(
            h, h, use_causal_mask=True)
        if cfg.dropout:
            y = L.Dropout(cfg.dropout, name=f"block{k}_drop1")(y)
        x = _block_mlp(L.Add(name=f"block{k}_add1")([x, y]), cfg, f"block{k}")
    out = L.Dense(vocab_size, name="logits")(L.LayerNormalization(name="ln_out")(x))
    return keras.Model(inp, out, name="transformer_lm")


def build(vocab_size: int, cfg: ParallelConfig, seq_len: int | None = None, batch_size: int | None = None) -> Any:
    """:func:`build_mingru_lm` or :func:`build_transformer_lm`, as ``cfg.kind`` says."""
    if cfg.kind == "mingru":
        return build_mingru_lm(vocab_size, cfg, seq_len, batch_size)
    if cfg.kind == "transformer":
        return build_transformer_lm(vocab_size, cfg, seq_len, batch_size)
    raise ValueError(f"unknown kind {cfg.kind!r} (mingru or transformer)")


_COPIES: dict[tuple[int, int, int | None], Any] = {}


def _copy(model: Any, vocab_size: int, cfg: ParallelConfig, seq_len: int, batch_size: int | None) -> Any:
    """The same weights in a model built for inputs of exactly (batch_size, seq_len) (built once, then reused)."""
    key = (id(model), seq_len, batch_size)
    if key not in _COPIES:
        _COPIES[key] = build(vocab_size, cfg, seq_len, batch_size)
    other = _COPIES[key]
    other.set_weights(model.get_weights())
    return other


def heldout_nats(model: Any, ids: Array, cfg: ParallelConfig, vocab_size: int) -> float:
    """Mean cross-entropy (nats/char) of a kept model on contiguous held-out text.

    minGRU: the text as :func:`eval_streams`'s long rows, each from a zero
    state, as the GRUs are measured.  Transformer: windows of ``context``
    characters every ``context // 2``; the first window scores all its
    characters, every later one its second half, so each character is
    predicted once, from at least half a context before it.
    """
    if cfg.kind == "mingru":
        X, Y = eval_streams(ids)
        return _streams_nats(model, X, Y, cfg, vocab_size)
    ids = np.asarray(ids, dtype=np.int32)
    C = cfg.context
    S = C // 2
    n = len(ids) - 1
    if n < C:
        raise ValueError(f"heldout_nats: the text ({len(ids)} characters) is shorter than one context ({C})")
    starts = list(range(0, n - C + 1, S))
    if starts[-1] + C < n:
        starts.append(n - C)
    X = np.stack([ids[s:s + C] for s in starts])
    Y = np.stack([ids[s + 1:s + C + 1] for s in starts])
    logits = _copy(model, vocab_size, cfg, C, None).predict(X, batch_size=256, verbose=0)
    keep_l, keep_y, done = [logits[0]], [Y[0]], starts[0] + C
    for k in range(1, len(starts)):
        first = done - starts[k]  # positions already scored by the windows before
        keep_l.append(logits[k, first:])
        keep_y.append(Y[k, first:])
        done = starts[k] + C
    return cross_entropy_nats(np.concatenate(keep_l), np.concatenate(keep_y))


def _streams_nats(model: Any, X: Array, Y: Array, cfg: ParallelConfig, vocab_size: int) -> float:
    logits = _copy(model, vocab_size, cfg, X.shape[1], X.shape[0]).predict(X, batch_size=len(X), verbose=0)
    return cross_entropy_nats(logits, Y)


def rows_nats(model: Any, X: Array, Y: Array, cfg: ParallelConfig, vocab_size: int) -> float:
    """Mean cross-entropy of rows ``X`` -> ``Y`` (each from a zero state); the Transformer by windows of each row."""
    if cfg.kind == "mingru":
        return _streams_nats(model, X, Y, cfg, vocab_size)
    total = 0.0
    for x, y in zip(X, Y, strict=True):
        total += heldout_nats(model, np.concatenate([x, y[-1:]]), cfg, vocab_size) * len(y)
    return total / Y.size


@dataclass
class ParallelResult:
    """The kept model (best validation loss) and how training went (see :class:`book.textgen.TrainResult`)."""

    model: Any
    config: ParallelConfig
    val_nats: float
    steps: int
    train_seconds: float
    chars_per_second: float
    history: list[dict[str, float]] = field(default_factory=list)


def train_parallel(train_ids: Array, val_ids: Array, vocab_size: int, cfg: ParallelConfig,
                   seconds: float | None = None, steps: int | None = None, stream: Any = None) -> ParallelResult:
    """Train on random windows of ``cfg.context`` characters; keep the best weights by validation loss.

    Exactly one of ``seconds`` (a budget of training time, evaluation not
    counted) and ``steps``.  Adam with norm clipping; the learning rate
    follows a cosine from ``cfg.learning_rate`` down to 5% over the budget.
    Every ``cfg.eval_every`` steps the validation loss is measured
    (:func:`heldout_nats`) and the best weights kept.  The test text is not
    seen here.
    """
    import keras

    from book.textgen.config import TrainConfig
    from book.textgen.pipeline import training_dataset

    if (steps is None) == (seconds is None):
        raise ValueError("give exactly one of steps and seconds")
    keras.utils.set_random_seed(cfg.seed)
    B, T = cfg.batch_size, cfg.context
    ds, _ = training_dataset(train_ids, TrainConfig(batch_size=B, seq_len=T, contiguous=False, seed=cfg.seed))
    model = build(vocab_size, cfg, T, B)
    model.compile(optimizer=keras.optimizers.Adam(cfg.learning_rate, clipnorm=cfg.clipnorm or None),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    state = {"best": math.inf, "weights": None, "step": 0, "eval": 0.0, "t0": 0.0, "history": []}
    stream = stream if stream is not None else sys.stderr

    def elapsed() -> float:
        return time.perf_counter() - state["t0"] - state["eval"]

    class Monitor(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            state["t0"] = time.perf_counter()

        def on_train_batch_begin(self, batch, logs=None):
            done = state["step"] / steps if steps is not None else elapsed() / seconds
            lr = cfg.learning_rate * (0.05 + 0.95 * 0.5 * (1.0 + math.cos(math.pi * min(done, 1.0))))
            self.model.optimizer.learning_rate.assign(lr)

        def on_train_batch_end(self, batch, logs=None):
            state["step"] += 1
            if (seconds is not None and elapsed() >= seconds) or (steps is not None and state["step"] >= steps):
                self.model.stop_training = True

        def on_epoch_end(self, epoch, logs=None):
            t = time.perf_counter()
            nats = heldout_nats(self.model, val_ids, cfg, vocab_size)
            if nats < state["best"]:
                state["best"], state["weights"] = nats, self.model.get_weights()
            state["eval"] += time.perf_counter() - t
            state["history"].append({"step": state["step"], "seconds": elapsed(), "val_bpc": nats / math.log(2)})
            stream.write(f"  {cfg.kind}: step {state['step']}, {elapsed():.0f} s, validation "
                         f"{nats / math.log(2):.3f} bpc\n")
            stream.flush()

    chunk = min(cfg.eval_every, steps) if steps is not None else cfg.eval_every
    model.fit(ds, epochs=10**6, steps_per_epoch=chunk, verbose=0, shuffle=False, callbacks=[Monitor()])
    train_seconds = elapsed()
    model.set_weights(state["weights"])
    return ParallelResult(model=model, config=cfg, val_nats=state["best"], steps=state["step"],
                          train_seconds=train_seconds, chars_per_second=state["step"] * B * T / max(train_seconds, 1e-9),
                          history=state["history"])


class ParallelGenerator:
    """Generation from a kept minGRU or Transformer model, one character per step.

    minGRU: a one-step model that shares the trained layers carries every
    layer's state (one step per character, whatever the text's length).
    Transformer: every character re-reads the last ``context`` characters (a
    whole forward pass of the context per character).
    """

    def __init__(self, model: Any, cfg: ParallelConfig, vocab_size: int):
        import tensorflow as tf

        self.cfg, self.V = cfg, vocab_size
        if cfg.kind == "mingru":
            self._step = tf.function(self._mingru_step_fn(model))
        else:
            window = _copy(model, vocab_size, cfg, cfg.context, 1)
            self._window = tf.function(lambda x: window(x, training=False))

    def _mingru_step_fn(self, model: Any) -> Any:
        import tensorflow as tf

        layers = {layer.name: layer for layer in model.layers}
        cfg = self.cfg

        def step(ids, states):
            x = layers["embedding"](ids)
            new = []
            for k in range(cfg.layers):
                h = layers[f"block{k}_mingru"](layers[f"block{k}_ln1"](x), initial_state=states[k])
                new.append(h[:, -1])
                x = x + h
                y = layers[f"block{k}_down"](layers[f"block{k}_up"](layers[f"block{k}_ln2"](x)))
                x = x + y
            return layers["logits"](layers["ln_out"](x))[:, -1], tf.stack(new)

        return step

    def generate(self, prompt_ids: Any, length: int, temperature: float = 1.0, seed: int | None = 0) -> list[int]:
        """Ids of ``length`` new characters after ``prompt_ids`` (at least one)."""
        import tensorflow as tf

        rng = np.random.default_rng(seed)
        history = [int(i) for i in prompt_ids] or [0]
        out: list[int] = []
        if self.cfg.kind == "mingru":
            states = tf.zeros((self.cfg.layers, 1, self.cfg.width))
            for i in history:
                logits, states = self._step(tf.constant([[i]], tf.int32), states)
            for _ in range(length):
                nxt = sample_index(logits.numpy()[0], rng, temperature)
                out.append(nxt)
                logits, states = self._step(tf.constant([[nxt]], tf.int32), states)
            return out
        C = self.cfg.context
        for _ in range(length):
            window = history[-C:]
            x = np.zeros((1, C), np.int32)
            x[0, : len(window)] = window  # the causal mask keeps the zeros on the right from mattering
            logits = self._window(tf.constant(x)).numpy()[0, len(window) - 1]
            nxt = sample_index(logits, rng, temperature)
            out.append(nxt)
            history.append(nxt)
        return out


_BASE = {"mingru": ParallelConfig(kind="mingru", width=192, layers=2, mlp=2, context=256, batch_size=32,
                                  learning_rate=3e-3, dropout=0.1, eval_every=100),
         "transformer": ParallelConfig(kind="transformer", width=128, layers=2, heads=4, context=128,
                                       batch_size=32, learning_rate=2e-3, dropout=0.1, eval_every=100)}

#: The alternatives tried on validation before the benchmark, 1.5 minutes each
#: (``python -m book.textgen.parallel_lm --minutes 1.5 --json chapters/results/linear_rnn_tuning.json``).
CANDIDATES = {
    "mingru": [_BASE["mingru"], replace(_BASE["mingru"], width=256, mlp=1),
               replace(_BASE["mingru"], context=128, batch_size=64)],
    "transformer": [_BASE["transformer"], replace(_BASE["transformer"], width=192, heads=4, layers=1),
                    replace(_BASE["transformer"], context=256, batch_size=16)],
}
#: The benchmark's two rows (``python -m book.textgen bench --recipes mingru,transformer``): the candidates
#: with the lowest validation loss.
MINGRU_LM = CANDIDATES["mingru"][0]
TRANSFORMER_LM = CANDIDATES["transformer"][1]


def tune(minutes: float, corpus: str = "python-docs", stream: Any = None) -> list[dict[str, Any]]:
    """Train every candidate for ``minutes`` on the training text; one row each with its validation bpc (no test)."""
    from book.data import load_corpus
    from book.textgen.pipeline import split_text
    from book.textgen.vocab import Vocabulary

    train_text, val_text, _ = split_text(load_corpus(corpus))
    vocab = Vocabulary.from_text(train_text)
    train_ids, val_ids = vocab.encode(train_text), vocab.encode(val_text)
    rows = []
    for kind, configs in CANDIDATES.items():
        for cfg in configs:
            res = train_parallel(train_ids, val_ids, vocab.size, cfg, seconds=60.0 * minutes, stream=stream)
            rows.append({"kind": kind, "config": asdict(cfg), "steps": res.steps,
                         "val_bpc": res.val_nats / math.log(2), "train_cps": res.chars_per_second})
    return rows


if __name__ == "__main__":
    import argparse
    import json
    from pathlib import Path

    from book.environment import quiet_tensorflow

    parser = argparse.ArgumentParser(prog="python -m book.textgen.parallel_lm",
                                     description="try the candidate configurations on validation")
    parser.add_argument("--minutes", type=float, default=1.5)
    parser.add_argument("--json", required=True)
    args = parser.parse_args()
    quiet_tensorflow()
    found = tune(args.minutes)
    record = {"command": f"python -m book.textgen.parallel_lm --minutes {args.minutes:g} --json {args.json}",
              "minutes": args.minutes, "rows": found}
    Path(args.json).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
