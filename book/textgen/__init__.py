"""A character-level text generator you can train on your own text (Chapter 8).

The tool, one module per role (none imports the command line):

=================  ==========================================================
``vocab``          :class:`Vocabulary` (characters <-> ids, id 0 unknown),
                   :class:`TextgenError`, the tool's one-line input error
``config``         :class:`ModelConfig`, :class:`TrainConfig`, our recipe
``pipeline``       :func:`split_text` (train, validation, test),
                   :func:`stream_batches`, :func:`random_windows`,
                   :func:`training_dataset` (``tf.data``),
                   :func:`eval_streams`, :func:`spread_streams`
``metrics``        nats, :func:`bits_per_char`, :func:`perplexity`,
                   :func:`unigram_nats`, :func:`cross_entropy_nats`
``sampling``       :func:`sampling_distribution` / :func:`sample_index`
                   (temperature, top-k, nucleus); :func:`find_cycle`;
                   :class:`StepGenerator` (NumPy generation with a
                   carried state)
``fastgru``        :class:`~book.textgen.fastgru.FastGRU`: Keras's GRU with a
                   faster CPU training path and weight dropout
``model``          :func:`build_model`, :func:`keras_heldout_nats`,
                   :func:`save` / :func:`load`
``training``       :func:`train`: clipping, validation, best-model
                   keeping, learning-rate halving, early stopping
``bench``          :func:`bench` (six recipes, one budget, validation
                   and test), :func:`bench_record`, :func:`step_times`
``charrnn``        the NumPy min-char-rnn trainer and sampler
``cli``            ``python -m book.textgen train | sample | bench | speed``
=================  ==========================================================

Everything a chapter uses is importable from ``book.textgen`` itself::

    from book import textgen as tg
    train_text, val_text, test_text = tg.split_text(text)
    result = tg.train(train_text, val_text, tg.ModelConfig(), tg.TrainConfig(), steps=200)
    test_nats = tg.keras_heldout_nats(result.model, result.vocab.encode(test_text))  # once, at the end

Nothing is pinned to a device: with a GPU visible, TensorFlow trains there.
"""

from book.textgen.bench import (
    RECIPES,
    bench,
    bench_record,
    format_table,
    machine,
    step_times,
    trainable_params,
)
from book.textgen.config import OURS_MODEL, OURS_TRAIN, ModelConfig, TrainConfig
from book.textgen.metrics import (
    bits_per_char,
    cross_entropy_nats,
    metrics,
    perplexity,
    unigram_nats,
)
from book.textgen.model import (
    MODEL_FILE,
    VOCAB_FILE,
    build_model,
    keras_heldout_nats,
    load,
    reset_states,
    save,
)
from book.textgen.pipeline import (
    EVAL_STREAMS,
    eval_streams,
    pass_shifts,
    random_windows,
    split_text,
    spread_streams,
    stream_batches,
    training_dataset,
)
from book.textgen.sampling import StepGenerator, find_cycle, sample_index, sampling_distribution
from book.textgen.training import Progress, TrainResult, WeightAverage, train
from book.textgen.vocab import UNK, TextgenError, Vocabulary, describe_missing

__all__ = [
    "EVAL_STREAMS",
    "MODEL_FILE",
    "OURS_MODEL",
    "OURS_TRAIN",
    "RECIPES",
    "UNK",
    "VOCAB_FILE",
    "ModelConfig",
    "Progress",
    "StepGenerator",
    "TextgenError",
    "TrainConfig",
    "TrainResult",
    "Vocabulary",
    "WeightAverage",
    "bench",
    "bench_record",
    "bits_per_char",
    "build_model",
    "cross_entropy_nats",
    "describe_missing",
    "eval_streams",
    "find_cycle",
    "format_table",
    "keras_heldout_nats",
    "load",
    "machine",
    "metrics",
    "pass_shifts",
    "perplexity",
    "random_windows",
    "reset_states",
    "sample_index",
    "sampling_distribution",
    "save",
    "split_text",
    "spread_streams",
    "step_times",
    "stream_batches",
    "train",
    "trainable_params",
    "training_dataset",
    "unigram_nats",
]
