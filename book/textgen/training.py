"""Training a character model: validation, best-model keeping, learning-rate halving, early stopping.

:func:`train` sees the training text and the validation text only; every
choice it makes (which weights to keep, when to halve the learning rate,
when to stop) is made on the validation text.  The test text of
:func:`book.textgen.split_text` is for the caller to measure once, after
training (``python -m book.textgen train`` and ``bench`` do).
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from book.textgen.config import ModelConfig, TrainConfig
from book.textgen.metrics import bits_per_char, cross_entropy_nats
from book.textgen.model import build_model, reset_states
from book.textgen.pipeline import eval_streams, spread_streams, training_dataset
from book.textgen.vocab import Vocabulary

Array = np.ndarray


@dataclass
class TrainResult:
    """The best model (stateless, by validation loss) and how training went.

    ``val_nats``: the kept model's cross-entropy on the validation text;
    ``train_nats``: the same model, dropout off, on a sample of the training
    text as long as the validation text (:func:`spread_streams`), so the two
    compare how well the model fits text it trained on with text it did not.
    ``history`` has one dict per evaluation: ``step``, ``seconds`` (of
    training, evaluation not counted), ``train_bpc`` and ``val_bpc``
    (measured as above, with the weights of that moment) and ``loss_bpc``,
    Keras's running mean of the training loss over the steps since the
    previous evaluation, with dropout on: the number ``fit`` reports, which
    is neither a measurement of one set of weights nor one without dropout.
    """

    model: Any
    vocab: Vocabulary
    model_config: ModelConfig
    val_nats: float
    train_nats: float
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
    train_text: str, validation_text: str, model_config: ModelConfig, config: TrainConfig,
    steps: int | None = None, seconds: float | None = None, vocab: Vocabulary | None = None,
    progress: bool = False, stream: Any = None,
) -> TrainResult:
    """Train a character model; keep the weights with the lowest validation loss.

    Exactly one of ``steps`` (reproducible: a fixed number of batches) and
    ``seconds`` (a budget of training time; evaluation is not counted) is
    given.  Every ``config.eval_every`` steps the validation cross-entropy
    is measured (with dropout off), and so is the cross-entropy on a sample
    of the training text of the same length; the weights with the best
    validation loss are kept; after ``patience`` evaluations without
    improvement the learning rate halves, and after ``max_halvings`` such
    halvings training stops early (the validation loss has stopped
    improving).  The test text is never passed in: measure it on the
    returned model, once.
    """
    import keras
    import tensorflow as tf

    if (steps is None) == (seconds is None):
        raise ValueError("give exactly one of steps and seconds")
    keras.utils.set_random_seed(config.seed)
    vocab = vocab or Vocabulary.from_text(train_text)
    train_ids, val_ids = vocab.encode(train_text), vocab.encode(validation_text)
    B, T = config.batch_size, config.seq_len
    ds, per_pass = training_dataset(train_ids, config)
    X_val, Y_val = eval_streams(val_ids)  # raises if too short
    X_fit, Y_fit = spread_streams(train_ids, X_val.shape[1], len(X_val))

    model = build_model(vocab.size, model_config, B, T, stateful=config.contiguous, fast_gru=config.fast_gru)
    evaluator = build_model(vocab.size, replace(model_config, weight_dropout=0.0))  # plain Keras layers
    eval_logits = tf.function(lambda x: evaluator(x, training=False))

    def evaluate() -> tuple[float, float]:
        """(validation nats, training-sample nats) of the evaluator's weights, dropout off."""
        if X_fit.shape == X_val.shape:  # one call for both: the loop over the characters dominates
            logits = eval_logits(np.concatenate([X_val, X_fit])).numpy()
            return cross_entropy_nats(logits[: len(X_val)], Y_val), cross_entropy_nats(logits[len(X_val):], Y_fit)
        return (cross_entropy_nats(eval_logits(X_val).numpy(), Y_val),
                cross_entropy_nats(eval_logits(X_fit).numpy(), Y_fit))
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
    state = {"best": math.inf, "best_fit": math.nan, "weights": None, "bad": 0, "halvings": 0, "step": 0,
             "eval_time": 0.0, "t0": 0.0, "history": [], "train_loss": math.nan}

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
            nats, fit_nats = evaluate()
            improved = nats < state["best"] - 1e-4
            if improved:
                state["best"], state["best_fit"], state["weights"], state["bad"] = (
                    nats, fit_nats, evaluator.get_weights(), 0)
            else:
                state["bad"] += 1
                if state["bad"] >= config.patience:
                    state["bad"] = 0
                    state["halvings"] += 1  # the learning rate halves (see on_train_batch_begin)
                    if state["halvings"] > config.max_halvings:
                        self.model.stop_training = True
            state["eval_time"] += time.perf_counter() - t
            state["history"].append({"step": state["step"], "seconds": self.elapsed(),
                                     "loss_bpc": bits_per_char(state["train_loss"]),
                                     "train_bpc": bits_per_char(fit_nats), "val_bpc": bits_per_char(nats)})
            if bar:
                done = state["step"] if steps is not None else self.elapsed()
                bar.update(done, f"step {state['step']}  train {bits_per_char(fit_nats):.3f} bpc  "
                                 f"validation {bits_per_char(nats):.3f} bpc (best {bits_per_char(state['best']):.3f})")

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
        model=evaluator, vocab=vocab, model_config=model_config, val_nats=state["best"],
        train_nats=state["best_fit"],
        steps=state["step"], train_seconds=train_seconds,
        chars_per_second=state["step"] * B * T / max(train_seconds, 1e-9), history=state["history"],
    )
