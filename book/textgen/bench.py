"""The benchmark: recipes trained for the same budget on the same split, and step timings.

The split is :func:`book.textgen.split_text`'s: choices on validation, the kept model measured once on test.
Chapter 8's four recipes, then Chapter 11's ``mingru`` and ``transformer``
(:mod:`book.textgen.parallel_lm`): the command line runs all six by default,
:func:`bench` Chapter 8's four unless ``recipes`` names others.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from typing import Any

import numpy as np

from book.data import load_corpus
from book.textgen import charrnn
from book.textgen.config import OURS_MODEL, OURS_TRAIN, ModelConfig, TrainConfig
from book.textgen.metrics import bits_per_char, cross_entropy_nats
from book.textgen.model import build_model, keras_heldout_nats
from book.textgen.pipeline import eval_streams, split_text, spread_streams, training_dataset
from book.textgen.sampling import StepGenerator
from book.textgen.training import _fmt_time, train
from book.textgen.vocab import TextgenError, Vocabulary

Array = np.ndarray


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


def _window_nats(model: Any, pieces: Sequence[Array], window: int) -> float:
    """Mean cross-entropy (nats/char) of a fixed-window model predicting every character after the first ``window``
    of each contiguous piece of text from the ``window`` characters before it."""
    X, y = [], []
    for ids in pieces:
        idx = np.arange(len(ids) - window)
        X.append(ids[idx[:, None] + np.arange(window)])
        y.append(ids[idx + window])
    logits = model.predict(np.concatenate(X), batch_size=4096, verbose=0)
    return cross_entropy_nats(logits, np.concatenate(y))


def _train_window_model(train_ids: Array, V: int, seconds: float, seed: int) -> tuple[Any, int, int]:
    """The sources' recipe on the corpus: one-hot windows of 3, SimpleRNN(50, relu), Adam, batch 32.

    Trained for the whole budget and kept as it ends (the recipe has no
    validation): returns the model, the steps run and the window.
    """
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
    return model, steps, window


def trainable_params(model: Any) -> int:
    """The number of a Keras model's trainable parameters (a frozen embedding is not counted)."""
    return int(sum(int(np.prod(w.shape)) for w in model.trainable_weights))


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


RECIPES = ("sources", "tutorial", "numpy", "ours", "mingru", "transformer")
#: What ``bench`` runs unless told otherwise (Chapter 11 adds ``mingru`` and ``transformer``).
DEFAULT_RECIPES = RECIPES[:4]


def bench(minutes: float, corpus: str = "python-docs", seed: int = 0, stream: Any = None,
          recipes: Sequence[str] = DEFAULT_RECIPES) -> list[dict[str, Any]]:
    """Train each recipe for the same budget on the same split; return one row per recipe.

    Every recipe trains on the training text; those that choose anything
    (which weights to keep, when to halve the learning rate) choose on the
    validation text; the kept model is then measured once on the test
    text.  A row holds ``recipe``, ``trainable`` and ``params`` (trainable
    and total parameters), ``steps``, ``train_cps`` (characters predicted
    per second of training), ``train_bpc`` (the kept model on a sample of
    the training text as long as the validation text, dropout off),
    ``val_bpc``, ``test_bpc``, ``gen_cps`` (characters generated per
    second) and, for the recipes that evaluate while they train,
    ``val_curve``: ``[step, validation bpc]`` at every evaluation.
    """
    stream = stream if stream is not None else sys.stderr
    seconds = minutes * 60.0
    text = load_corpus(corpus)
    train_text, val_text, test_text = split_text(text)
    vocab = Vocabulary.from_text(train_text)
    train_ids, val_ids, test_ids = (vocab.encode(t) for t in (train_text, val_text, test_text))
    X_val, _ = eval_streams(val_ids)
    X_fit, Y_fit = spread_streams(train_ids, X_val.shape[1], len(X_val))
    V = vocab.size
    prompt = vocab.encode("The ")
    rows = []
    for name in recipes:
        stream.write(f"bench: training '{name}' for {_fmt_time(seconds)} ...\n")
        stream.flush()
        if name == "sources":
            model, steps, window = _train_window_model(train_ids, V, seconds, seed)
            fit_pieces = [np.concatenate([x, y[-1:]]) for x, y in zip(X_fit, Y_fit, strict=True)]
            gen = StepGenerator(model)
            speed = _generation_speed(lambda n, g=gen: g.generate(prompt, n, 1.0, seed=seed, window=3))
            row = {"recipe": "sources: 3-char windows, SimpleRNN(50, relu), Adam, batch 32",
                   "trainable": trainable_params(model), "params": model.count_params(), "steps": steps,
                   "train_cps": steps * 32 / seconds,  # one character predicted per window
                   "train_bpc": bits_per_char(_window_nats(model, fit_pieces, window)),
                   "val_bpc": bits_per_char(_window_nats(model, [val_ids], window)),
                   "test_bpc": bits_per_char(_window_nats(model, [test_ids], window)), "gen_cps": speed}
        elif name == "tutorial":
            mc = ModelConfig(cell="gru", units=1024, layers=1, embed=256, dropout=0.0)
            tc = TrainConfig(batch_size=64, seq_len=100, contiguous=False, learning_rate=1e-3, clipnorm=0.0,
                             eval_every=100, patience=10**6, seed=seed)
            row = _bench_keras("tutorial: Embedding 256, GRU(1024), batch 64 x 100, Adam", train_text, val_text,
                               test_ids, vocab, mc, tc, seconds, prompt, seed, stream)
        elif name == "numpy":
            cfg = charrnn.CharRNNConfig(hidden=256, seq_len=25, batch_size=1, learning_rate=0.03, seed=seed)
            res = charrnn.train(train_ids, V, cfg, seconds=seconds, validation_ids=val_ids)
            speed = _generation_speed(lambda n, r=res: charrnn.sample(r.params, prompt, n, seed=seed))
            n_params = charrnn.count_params(res.params)
            row = {"recipe": "numpy min-char-rnn: RNN(256), Adagrad 0.03, seq 25", "trainable": n_params,
                   "params": n_params, "steps": res.steps, "train_cps": res.chars_per_second,
                   "train_bpc": bits_per_char(charrnn.rows_nats(res.params, X_fit, Y_fit)),
                   "val_bpc": bits_per_char(res.val_nats),
                   "test_bpc": bits_per_char(charrnn.heldout_nats(res.params, test_ids)), "gen_cps": speed,
                   "val_curve": [[h["step"], bits_per_char(h["val_nats"])] for h in res.history]}
        elif name == "ours":
            row = _bench_keras(
                f"ours: GRU({OURS_MODEL.units}), locked dropout {OURS_MODEL.dropout}, weight dropout "
                f"{OURS_MODEL.weight_dropout}, stateful {OURS_TRAIN.batch_size} x {OURS_TRAIN.seq_len}, "
                "shifted passes, clip, cosine lr",
                train_text, val_text, test_ids, vocab, OURS_MODEL, replace(OURS_TRAIN, seed=seed), seconds, prompt,
                seed, stream)
        elif name in ("mingru", "transformer"):
            row = _bench_parallel(name, train_ids, val_ids, test_ids, V, X_fit, Y_fit, seconds, prompt, seed,
                                  stream)
        else:
            raise TextgenError(f"unknown recipe {name!r}")
        rows.append(row)
    return rows


def _bench_keras(label, train_text, val_text, test_ids, vocab, mc, tc, seconds, prompt, seed, stream) -> dict[str, Any]:
    res = train(train_text, val_text, mc, tc, seconds=seconds, vocab=vocab, progress=True, stream=stream)
    test_nats = keras_heldout_nats(res.model, test_ids)  # once, after training
    gen = StepGenerator(res.model)
    speed = _generation_speed(lambda n: gen.generate(prompt, n, 1.0, seed=seed))
    return {"recipe": label, "trainable": trainable_params(res.model), "params": res.model.count_params(),
            "steps": res.steps, "train_cps": res.chars_per_second, "train_bpc": bits_per_char(res.train_nats),
            "val_bpc": bits_per_char(res.val_nats), "test_bpc": bits_per_char(test_nats), "gen_cps": speed,
            "val_curve": [[h["step"], h["val_bpc"]] for h in res.history]}


def _bench_parallel(name, train_ids, val_ids, test_ids, V, X_fit, Y_fit, seconds, prompt, seed,
                    stream) -> dict[str, Any]:
    """A row for Chapter 11's minGRU or causal-Transformer language model (:mod:`book.textgen.parallel_lm`)."""
    from book.textgen import parallel_lm as plm

    cfg = replace(plm.MINGRU_LM if name == "mingru" else plm.TRANSFORMER_LM, seed=seed)
    res = plm.train_parallel(train_ids, val_ids, V, cfg, seconds=seconds, stream=stream)
    test_nats = plm.heldout_nats(res.model, test_ids, cfg, V)  # once, after training
    gen = plm.ParallelGenerator(res.model, cfg, V)
    speed = _generation_speed(lambda n: gen.generate(prompt, n, 1.0, seed=seed))
    if name == "mingru":
        label = (f"minGRU LM: {cfg.layers} x (minGRU({cfg.width}) + MLP), residual, windows "
                 f"{cfg.batch_size} x {cfg.context}, parallel scan")
    else:
        label = (f"transformer: {cfg.layers} x (causal attention, {cfg.heads} heads, width {cfg.width} + MLP), "
                 f"context {cfg.context}, windows {cfg.batch_size} x {cfg.context}")
    return {"recipe": label, "trainable": trainable_params(res.model), "params": res.model.count_params(),
            "steps": res.steps, "train_cps": res.chars_per_second,
            "train_bpc": bits_per_char(plm.rows_nats(res.model, X_fit, Y_fit, cfg, V)),
            "val_bpc": bits_per_char(res.val_nats), "test_bpc": bits_per_char(test_nats), "gen_cps": speed,
            "val_curve": [[h["step"], h["val_bpc"]] for h in res.history], "config": asdict(cfg)}


def step_times(steps: int = 10, corpus: str = "python-docs", model_config: ModelConfig | None = None,
               config: TrainConfig | None = None, warmup: int = 5, rounds: int = 7) -> dict[str, list[float]]:
    """Milliseconds per training step with Keras's GRU and with :class:`book.textgen.fastgru.FastGRU`, per round.

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
    text, _, _ = split_text(load_corpus(corpus))
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
    """The benchmark as a text table: one line of set-up, a header, a rule, one line per recipe."""
    w = max([len("recipe"), *(len(r["recipe"]) for r in rows)])
    head = (f"{'recipe':<{w}} {'trainable':>9} {'total':>9} {'steps':>7} {'train chars/s':>13} "
            f"{'train bpc':>9} {'valid. bpc':>10} {'test bpc':>8} {'gen chars/s':>11}")
    lines = [f"budget: {minutes:g} min of training per recipe; bits per character on the training text "
             "(a sample, dropout off), on validation (the 10% after it, for every choice) and on test "
             "(the last 10%, measured once at the end)", head, "-" * len(head)]
    for r in rows:
        lines.append(f"{r['recipe']:<{w}} {r['trainable']:>9,} {r['params']:>9,} {r['steps']:>7,} "
                     f"{r['train_cps']:>13,.0f} {r['train_bpc']:>9.3f} {r['val_bpc']:>10.3f} "
                     f"{r['test_bpc']:>8.3f} {r['gen_cps']:>11,.0f}")
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    """What the benchmark ran on, without a date: CPU cores and model, TensorFlow's threads, oneDNN, GPUs."""
    import os
    import platform

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    info: dict[str, Any] = {"cores": os.cpu_count(), "cpu": cpu,
                            "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "1") != "0"}
    if "tensorflow" in sys.modules:
        import tensorflow as tf

        info["threads_per_op"] = tf.config.threading.get_intra_op_parallelism_threads()
        info["ops_at_once"] = tf.config.threading.get_inter_op_parallelism_threads()
        info["gpus"] = len(tf.config.list_physical_devices("GPU"))
    return info


def bench_record(rows: Sequence[dict[str, Any]], minutes: float, corpus: str, seed: int) -> dict[str, Any]:
    """What ``bench --json`` writes: the budget, corpus, seed, split sizes, machine and rows."""
    train_text, val_text, test_text = split_text(load_corpus(corpus))
    return {"minutes": minutes, "corpus": corpus, "seed": seed,
            "split": {"train": len(train_text), "validation": len(val_text), "test": len(test_text)},
            "machine": machine(), "command": f"python -m book.textgen bench --minutes {minutes:g} --corpus {corpus} "
                                             f"--seed {seed}",
            "rows": [dict(r) for r in rows]}
