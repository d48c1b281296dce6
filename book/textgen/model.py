"""The Keras character model: building it, evaluating it, saving and loading it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from book.textgen.config import ModelConfig
from book.textgen.metrics import cross_entropy_nats
from book.textgen.pipeline import EVAL_STREAMS, eval_streams
from book.textgen.vocab import TextgenError, Vocabulary

Array = np.ndarray

MODEL_FILE = "model.keras"
VOCAB_FILE = "vocabulary.json"


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
    :class:`book.textgen.fastgru.FastGRU` (same weights, faster training on a CPU,
    and ``config.weight_dropout`` on the recurrent kernel).  A model built
    with ``fast_gru=False`` and the same config has the same weights and
    computes the same function at inference (weight dropout only acts in
    training), which is how :func:`train` evaluates and keeps it.
    """
    import keras

    if config.weight_dropout and not (config.cell == "gru" and fast_gru):
        raise TextgenError("weight dropout needs a GRU trained as book.textgen.fastgru.FastGRU (cell gru, fast_gru on)")
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
            from book.textgen.fastgru import FastGRU

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
    """Mean cross-entropy (nats/char) of a stateless Keras model on contiguous held-out text (validation or test).

    The text runs as ``streams`` long rows, each from a zero state, in one
    compiled call, as :func:`book.textgen.train` measures validation.
    """
    X, Y = eval_streams(ids, streams)
    logits = model.predict(X, batch_size=len(X), verbose=0)
    return cross_entropy_nats(logits, Y)



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
