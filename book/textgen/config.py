"""What to build and how to train it: :class:`ModelConfig`, :class:`TrainConfig`, and our recipe.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ModelConfig:
    """Architecture: embedding -> ``layers`` x ``cell(units)`` (dropout between) -> dense logits."""

    cell: str = "gru"  # "gru", "lstm" or "simple"
    units: int = 256
    layers: int = 1
    embed: int = 64  # 0: one-hot input (a frozen identity embedding)
    dropout: float = 0.0
    locked_dropout: bool = False  # one dropout mask per sequence, shared by all its steps
    weight_dropout: float = 0.0  # dropout on a GRU's recurrent kernel, one mask per batch (book.textgen.fastgru)
    activation: str = "tanh"  # of a "simple" cell




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
    fast_gru: bool = True  # train GRUs as book.textgen.fastgru.FastGRU (the kept model is a plain Keras GRU)
    average: float = 0.0  # > 0: evaluate and keep a moving average of the weights with this decay
    decay: bool = True  # cosine decay of the learning rate over the steps or the time budget, to 5%
    eval_every: int = 200  # steps between evaluations on the validation text
    patience: int = 2  # evaluations without improvement before the learning rate halves
    max_halvings: int = 3  # stop early after this many halvings without improvement
    seed: int = 0




#: Our recipe: what `train` uses by default.
OURS_MODEL = ModelConfig(cell="gru", units=384, layers=1, embed=64, dropout=0.15, locked_dropout=True,
                         weight_dropout=0.25)
OURS_TRAIN = TrainConfig(batch_size=128, seq_len=50, contiguous=True, learning_rate=8e-3, clipnorm=1.0,
                         eval_every=200)
