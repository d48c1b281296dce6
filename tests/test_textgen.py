"""book.textgen: vocabulary, batches, metrics, sampling, the carried-state generator against Keras,
training, save/load, and the command line's behaviour on good and bad input (tiny budgets only)."""

from __future__ import annotations

import io
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
from helpers import ROOT

from book import textgen as tg


# --------------------------------------------------------------------------- pure NumPy pieces
def test_vocabulary_unknown_symbol_and_round_trip():
    v = tg.Vocabulary.from_text("banana bread")
    assert v.chars[0] == tg.UNK and v.size == len(set("banana bread")) + 1
    ids = v.encode("bread!")
    assert ids.dtype == np.int32 and ids[-1] == 0  # '!' is unknown
    assert v.decode(v.encode("banana")) == "banana"
    assert v.decode(ids) == "bread" + tg.UNK
    assert v.missing("bé!") == ["!", "é"]
    with pytest.raises(tg.TextgenError, match="'é'"):
        v.encode("bé", strict=True)
    assert tg.Vocabulary.from_json(v.to_json()) == v
    with pytest.raises(tg.TextgenError):
        tg.Vocabulary.from_json('{"chars": ["a", "b"]}')


def test_split_is_three_contiguous_disjoint_pieces():
    text = "".join(chr(0x4E00 + i) for i in range(1000))  # every character distinct: overlaps would show
    tr, va, te = tg.split_text(text)
    assert (len(tr), len(va), len(te)) == (800, 100, 100)
    assert tr + va + te == text  # covers the text, in order
    assert not (set(tr) & set(va) or set(tr) & set(te) or set(va) & set(te))  # disjoint
    assert te == text[int(round(len(text) * 0.9)):]  # the test piece is the last 10 %, the old held-out text
    for n in (7, 10, 465127):
        pieces = tg.split_text("x" * n, validation=0.15, test=0.05)
        assert sum(map(len, pieces)) == n and abs(len(pieces[1]) - 0.15 * n) <= 1 and abs(len(pieces[2]) - 0.05 * n) <= 1
    assert tg.split_text("abcdefghij", validation=0.2, test=0.0) == ("abcdefgh", "ij", "")
    with pytest.raises(ValueError):
        tg.split_text(text, validation=0.6, test=0.5)


def test_spread_streams_sample_the_whole_text():
    ids = np.arange(1000)
    X, Y = tg.spread_streams(ids, 50, 8)
    assert X.shape == Y.shape == (8, 50) and np.array_equal(Y, X + 1)
    assert X[0, 0] == 0 and Y[-1, -1] == 999  # the first row starts the text, the last ends it
    assert np.all(np.diff(X[:, 0]) > 0)
    X1, _ = tg.spread_streams(ids[:20], 50, 8)  # longer than the text: clipped
    assert X1.shape == (8, 19)


def test_stream_batches_continue_each_other():
    ids = np.arange(1000)
    X, Y = tg.stream_batches(ids, batch_size=4, seq_len=7)
    assert X.shape == Y.shape == (35, 4, 7)
    assert np.array_equal(Y, X + 1)  # targets are the next characters
    assert np.array_equal(X[1:, :, 0], X[:-1, :, -1] + 1)  # row b of batch k+1 continues row b of batch k
    with pytest.raises(tg.TextgenError, match="too short for one batch"):
        tg.stream_batches(np.arange(28), batch_size=4, seq_len=7)


def test_random_windows():
    X, Y = tg.random_windows(np.arange(100), 8, 5, np.random.default_rng(0))
    assert X.shape == (8, 5) and np.array_equal(Y, X + 1)
    assert np.all(np.diff(X, axis=1) == 1)


def test_training_dataset_streams_shift_every_pass(keras_ready):
    ids = np.random.default_rng(0).integers(0, 50, 1009).astype(np.int32)
    tc = tg.TrainConfig(batch_size=4, seq_len=7, seed=3)
    ds, K = tg.training_dataset(ids, tc)
    batches = [(x.numpy(), y.numpy()) for x, y in ds.take(3 * K)]
    shifts = tg.pass_shifts(len(ids), 3, seed=3)
    assert shifts[0] == 0 and len(set(shifts.tolist())) == 3
    for p in range(3):  # pass p is stream_batches of the text rotated by shifts[p]
        X, Y = tg.stream_batches(np.roll(ids, -shifts[p]), 4, 7)
        assert K == len(X)
        for k in range(K):
            assert np.array_equal(batches[p * K + k][0], X[k]) and np.array_equal(batches[p * K + k][1], Y[k])
    assert not np.array_equal(batches[0][0], batches[K][0])  # a new pass is not the same batches again
    fixed, K2 = tg.training_dataset(ids, tg.TrainConfig(batch_size=4, seq_len=7, shift_passes=False))
    again = [x.numpy() for x, _ in fixed.take(2 * K2)]
    assert K2 == K and np.array_equal(again[0], again[K])


def test_training_dataset_random_windows_are_reproducible(keras_ready):
    ids = np.arange(500, dtype=np.int32)
    tc = tg.TrainConfig(batch_size=8, seq_len=5, contiguous=False, seed=1)
    ds, K = tg.training_dataset(ids, tc)
    (x, y), = [(a.numpy(), b.numpy()) for a, b in ds.take(1)]
    assert K == 0 and x.shape == (8, 5) and np.array_equal(y, x + 1) and np.all(np.diff(x, axis=1) == 1)
    assert x.min() >= 0 and y.max() < 500
    assert np.array_equal(next(iter(tg.training_dataset(ids, tc)[0]))[0].numpy(), x)
    with pytest.raises(tg.TextgenError, match="too short"):
        tg.training_dataset(ids[:5], tc)


def test_metrics_and_unigram_baseline_on_the_corpus():
    from book.data import load_corpus

    m = tg.metrics(math.log(4.0))
    assert math.isclose(m["bpc"], 2.0) and math.isclose(m["perplexity"], 4.0)
    tr, va, te = tg.split_text(load_corpus("python-docs"))
    v = tg.Vocabulary.from_text(tr)
    assert v.size == 104 and not v.missing(va) and not v.missing(te)
    bpc = tg.bits_per_char(tg.unigram_nats(v.encode(tr), v.encode(te), v.size))
    assert round(bpc, 2) == 4.68


def test_sampling_distribution():
    logits = np.array([2.0, 1.0, 0.5, -1.0, 0.0])
    p = tg.sampling_distribution(logits)
    assert np.isclose(p.sum(), 1) and np.allclose(p, np.exp(logits) / np.exp(logits).sum())
    assert np.array_equal(tg.sampling_distribution(logits, 0.0), [1, 0, 0, 0, 0])
    cold, hot = tg.sampling_distribution(logits, 0.5), tg.sampling_distribution(logits, 2.0)
    assert cold[0] > p[0] > hot[0]
    k2 = tg.sampling_distribution(logits, 1.0, top_k=2)
    assert np.count_nonzero(k2) == 2 and np.isclose(k2.sum(), 1)
    nucleus = tg.sampling_distribution(logits, 1.0, top_p=0.6)
    assert np.count_nonzero(nucleus) == 2  # p[0] = 0.53 < 0.6 <= p[0] + p[1]
    assert np.count_nonzero(tg.sampling_distribution(logits, 1.0, top_p=0.5)) == 1
    rng1, rng2 = np.random.default_rng(7), np.random.default_rng(7)
    draws = [tg.sample_index(logits, rng1, 1.0, 3, 0.95) for _ in range(50)]
    assert draws == [tg.sample_index(logits, rng2, 1.0, 3, 0.95) for _ in range(50)]
    assert set(draws) <= {0, 1, 2}


# --------------------------------------------------------------------------- with TensorFlow
@pytest.fixture(scope="module")
def keras_ready():
    import book

    book.setup(seed=0)
    import keras

    return keras


@pytest.mark.parametrize("cell,layers", [("gru", 2), ("lstm", 1), ("simple", 1)])
def test_step_generator_matches_keras(keras_ready, cell, layers):
    cfg = tg.ModelConfig(cell=cell, units=6, layers=layers, embed=4, dropout=0.1, activation="relu")
    model = tg.build_model(9, cfg)
    rng = np.random.default_rng(1)
    model.set_weights([w + rng.normal(scale=0.3, size=w.shape).astype("float32") for w in model.get_weights()])
    ids = rng.integers(0, 9, size=12)
    keras_logits = np.asarray(model(ids[None].astype("int32"), training=False))[0]
    gen = tg.StepGenerator(model)
    step_logits = np.stack([gen.step(int(i)) for i in ids])
    assert np.allclose(step_logits, keras_logits, atol=1e-4)
    # a window of W re-run per character equals carrying the state when W covers the whole history
    a = gen.generate(ids[:3], 6, 1.0, seed=4)
    b = gen.generate(ids[:3], 6, 1.0, seed=4, window=100)
    assert a == b


def test_one_hot_input_model(keras_ready):
    model = tg.build_model(5, tg.ModelConfig(cell="simple", units=3, embed=0, activation="relu"))
    emb = model.get_layer("embedding").get_weights()[0]
    assert np.array_equal(emb, np.eye(5)) and not model.get_layer("embedding").trainable


def test_train_save_load_and_generate(keras_ready, tmp_path):
    text = ("the cat sat on the mat. " * 60)
    tr, va, _ = tg.split_text(text)
    mc = tg.ModelConfig(cell="gru", units=16, embed=8)
    tc = tg.TrainConfig(batch_size=4, seq_len=20, learning_rate=0.02, eval_every=10, seed=0)
    res = tg.train(tr, va, mc, tc, steps=25)
    assert res.steps == 25 and [h["step"] for h in res.history] == [10, 20, 25]
    best = min(res.history, key=lambda h: h["val_bpc"])
    assert tg.bits_per_char(res.val_nats) == pytest.approx(best["val_bpc"])
    assert tg.bits_per_char(res.train_nats) == pytest.approx(best["train_bpc"])
    assert tg.bits_per_char(tg.keras_heldout_nats(res.model, res.vocab.encode(va))) == pytest.approx(
        best["val_bpc"], abs=1e-4)  # the kept model is the one that scored best on validation
    assert res.history[-1]["val_bpc"] < math.log2(res.vocab.size)
    tg.save(tmp_path / "m", res.model, res.vocab)
    model, vocab = tg.load(tmp_path / "m")
    assert vocab == res.vocab
    p = vocab.encode("the ")
    assert tg.StepGenerator(model).generate(p, 30, 0.8, seed=1) == tg.StepGenerator(res.model).generate(p, 30, 0.8, seed=1)
    # random windows and a time budget
    tc2 = tg.TrainConfig(batch_size=4, seq_len=20, contiguous=False, eval_every=5, seed=0)
    res2 = tg.train(tr, va, mc, tc2, seconds=1.0)
    assert res2.steps > 0 and np.isfinite(res2.val_nats)
    with pytest.raises(tg.TextgenError, match="too short"):
        tg.train(tr[:50], va, mc, tc, steps=1)


def test_train_evaluates_on_validation_and_training_text_only(keras_ready, monkeypatch):
    """train() never sees the test text: every evaluation it makes is on validation rows or training rows."""
    import book.textgen.training as training

    text = "".join(f"row {i}: {i * 7 % 31} and {i * 3 % 11}.\n" for i in range(400))
    tr, va, te = tg.split_text(text)
    seen = []
    real = training.cross_entropy_nats

    def spy(logits, targets):
        seen.append(np.array(targets))
        return real(logits, targets)

    monkeypatch.setattr(training, "cross_entropy_nats", spy)
    mc = tg.ModelConfig(cell="gru", units=8, embed=4)
    res = tg.train(tr, va, mc, tg.TrainConfig(batch_size=4, seq_len=16, eval_every=4, seed=0), steps=8)
    v = res.vocab
    val_rows = tg.eval_streams(v.encode(va))[1]
    fit_rows = tg.spread_streams(v.encode(tr), val_rows.shape[1], len(val_rows))[1]
    assert len(seen) == 2 * len(res.history) == 4
    for targets in seen:
        assert np.array_equal(targets, val_rows) or np.array_equal(targets, fit_rows)
    test_rows = tg.eval_streams(v.encode(te))[1]
    assert not any(t.shape == test_rows.shape and np.array_equal(t, test_rows) for t in seen)
    assert all(set(h) == {"step", "seconds", "loss_bpc", "train_bpc", "val_bpc"} for h in res.history)


def test_fast_gru_training_follows_the_keras_gru(keras_ready):
    """Same seed, same batches: training with FastGRU gives the Keras GRU's results up to float32 rounding."""
    text = "".join(f"line {i}: the value of x is {i * 7 % 13}.\n" for i in range(300))
    tr, va, _ = tg.split_text(text)
    mc = tg.ModelConfig(cell="gru", units=12, embed=6)
    runs = [tg.train(tr, va, mc, tg.TrainConfig(batch_size=5, seq_len=16, learning_rate=0.01, eval_every=6,
                                                fast_gru=fast, seed=3), steps=12) for fast in (False, True)]
    keras_run, fast_run = runs
    assert [h["val_bpc"] for h in fast_run.history] == pytest.approx(
        [h["val_bpc"] for h in keras_run.history], rel=1e-4)
    assert type(fast_run.model.get_layer("gru_0")).__name__ == "GRU"  # the kept model is a plain Keras GRU


def test_locked_dropout_shares_one_mask_across_steps(keras_ready):
    import keras

    cfg = tg.ModelConfig(cell="gru", units=4, embed=3, dropout=0.5, locked_dropout=True)
    model = tg.build_model(7, cfg, batch_size=2, seq_len=6)
    assert model.get_layer("dropout_0").noise_shape == (2, 1, 3)
    assert model.get_layer("dropout_out").noise_shape == (2, 1, 4)
    x = keras.ops.ones((2, 6, 3))
    dropped = np.asarray(model.get_layer("dropout_0")(x, training=True))
    assert (dropped == dropped[:, :1]).all() and (dropped == 0).any()
    plain = tg.build_model(7, tg.ModelConfig(cell="gru", units=4, embed=3, dropout=0.5), batch_size=2, seq_len=6)
    assert plain.get_layer("dropout_0").noise_shape is None


def test_weight_dropout_trains_a_fast_gru_and_keeps_a_plain_one(keras_ready):
    text = "".join(f"item {i} costs {i * 3 % 17} coins.\n" for i in range(200))
    tr, va, _ = tg.split_text(text)
    mc = tg.ModelConfig(cell="gru", units=8, embed=4, dropout=0.1, weight_dropout=0.3)
    res = tg.train(tr, va, mc, tg.TrainConfig(batch_size=4, seq_len=12, eval_every=5, seed=1), steps=10)
    assert type(res.model.get_layer("gru_0")).__name__ == "GRU" and math.isfinite(res.val_nats)
    assert res.model_config.weight_dropout == 0.3  # the recipe is recorded as trained
    with pytest.raises(tg.TextgenError, match="weight dropout needs"):
        tg.build_model(9, tg.ModelConfig(cell="lstm", units=4, weight_dropout=0.2), fast_gru=True)
    with pytest.raises(tg.TextgenError, match="weight dropout needs"):
        tg.build_model(9, mc)  # without the fast GRU


def test_step_times_measures_both_layers(keras_ready):
    times = tg.step_times(steps=2, warmup=1, rounds=3, model_config=tg.ModelConfig(units=8, embed=4, weight_dropout=0.2),
                          config=tg.TrainConfig(batch_size=4, seq_len=10))
    assert set(times) == {"keras", "fast"}
    assert all(len(t) == 3 and all(0 < x < 10_000 for x in t) for t in times.values())


def test_weight_average_follows_its_formula(keras_ready):
    import keras

    inp = keras.Input((2,))
    model = keras.Model(inp, keras.layers.Dense(3)(inp))
    w0 = [np.asarray(w) for w in model.get_weights()]
    avg = tg.WeightAverage(model, decay=0.9)
    expected = [w.copy() for w in w0]
    for n in range(1, 40):
        new = [w + n for w in w0]
        model.set_weights(new)
        avg.update()
        d = min(0.9, (1 + n) / (10 + n))
        expected = [d * e + (1 - d) * w for e, w in zip(expected, new, strict=True)]
    for got, want in zip(avg.get_weights(), expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5)
    assert not np.allclose(avg.get_weights()[0], model.get_weights()[0])


def test_load_rejects_folders_that_hold_no_model(keras_ready, tmp_path):
    with pytest.raises(tg.TextgenError, match="no such model folder"):
        tg.load(tmp_path / "nothing")
    with pytest.raises(tg.TextgenError, match="not a model folder"):
        tg.load(tmp_path)
    (tmp_path / tg.MODEL_FILE).write_bytes(b"junk")
    (tmp_path / tg.VOCAB_FILE).write_text(tg.Vocabulary.from_text("ab").to_json())
    with pytest.raises(tg.TextgenError, match="not a readable Keras model"):
        tg.load(tmp_path)


def test_bench_runs_every_recipe_on_a_tiny_budget(keras_ready):
    import io

    rows = tg.bench(0.01, stream=io.StringIO())
    assert [r["recipe"].split(":")[0] for r in rows] == ["sources", "tutorial", "numpy min-char-rnn", "ours"]
    for r in rows:
        assert 0 < r["trainable"] <= r["params"] and r["steps"] > 0 and r["train_cps"] > 0 and r["gen_cps"] > 0
        assert all(0 < r[k] < 20 for k in ("train_bpc", "val_bpc", "test_bpc"))
    sources = rows[0]
    assert sources["params"] - sources["trainable"] == 104 * 104  # the frozen one-hot embedding
    assert all(r["trainable"] == r["params"] for r in rows[1:])
    table = tg.format_table(rows, 0.01)
    head = table.splitlines()[1]
    assert "valid. bpc" in head and "test bpc" in head and "trainable" in head and len(table.splitlines()) == 7
    record = tg.bench_record(rows, 0.01, "python-docs", 0)
    assert json.loads(json.dumps(record))["rows"] == rows
    assert record["split"] == {"train": 372102, "validation": 46512, "test": 46513} and record["machine"]["cores"]


# --------------------------------------------------------------------------- the command line
def run_cli(*args, cwd=None):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", TF_ENABLE_ONEDNN_OPTS="0")
    return subprocess.run([sys.executable, "-m", "book.textgen", *args], capture_output=True, text=True,
                          cwd=cwd or ROOT, env=env, timeout=300)


def assert_usage_error(r, *words):
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert "Traceback" not in r.stderr and lines[0].startswith("textgen: error:")
    for w in words:
        assert w.lower() in lines[0].lower(), lines[0]


def test_cli_bad_input(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    binary = tmp_path / "blob.bin"
    binary.write_bytes(b"\x00\x01\x02binary" * 10)
    latin = tmp_path / "latin1.txt"
    latin.write_bytes("caf\xe9".encode("latin-1"))
    short = tmp_path / "short.txt"
    short.write_text("just a few words\n" * 5)
    out = str(tmp_path / "out")
    assert_usage_error(run_cli("train", "--corpus", str(tmp_path / "missing.txt"), "--out", out), "no such file")
    assert_usage_error(run_cli("train", "--corpus", str(empty), "--out", out), "empty")
    assert_usage_error(run_cli("train", "--corpus", str(binary), "--out", out), "binary")
    assert_usage_error(run_cli("train", "--corpus", str(latin), "--out", out), "utf-8")
    assert_usage_error(run_cli("train", "--corpus", str(short), "--out", out), "too short for one batch")
    assert_usage_error(run_cli("train", "--corpus", "python-docs", "--out", out, "--bogus"), "--bogus")
    assert_usage_error(run_cli("sample", "--model", str(tmp_path)), "not a model folder")
    assert_usage_error(run_cli("sample", "--model", str(tmp_path / "nope")), "no such model folder")
    assert_usage_error(run_cli("sample", "--model", str(tmp_path), "--top-p", "1.5"), "top-p")
    assert_usage_error(run_cli("frobnicate"), "frobnicate")
    assert_usage_error(run_cli(), "command")
    assert_usage_error(run_cli("bench", "--recipes", "ours,magic"), "magic")
    assert_usage_error(run_cli("speed", "--steps", "0"), "--steps")
    assert_usage_error(run_cli("train", "--corpus", "python-docs", "--out", out, "--cell", "lstm",
                               "--weight-dropout", "0.2"), "--weight-dropout needs")
    assert_usage_error(run_cli("train", "--corpus", "python-docs", "--out", out, "--threads", "0"), "--threads")
    assert_usage_error(run_cli("train", "--corpus", "python-docs", "--out", out, "--weight-decay", "-1"),
                       "--weight-decay")
    assert_usage_error(run_cli("train", "--corpus", "python-docs", "--out", out, "--weight-dropout", "1"),
                       "--weight-dropout", "[0, 1)")
    assert_usage_error(run_cli("train", "--corpus", "python-docs", "--out", out, "--dropout", "x"), "--dropout")
    assert_usage_error(run_cli("train", "--corpus", "python-docs", "--out", out, "--average", "1.5"), "--average")
    assert not (tmp_path / "out").exists()


def test_cli_train_then_sample(tmp_path):
    corpus = tmp_path / "mine.txt"
    corpus.write_text("the quick brown fox jumps over the lazy dog. " * 200, encoding="utf-8")
    out = tmp_path / "model"
    r = run_cli("train", "--corpus", str(corpus), "--out", str(out), "--steps", "6", "--units", "16",
                "--embed", "8", "--batch-size", "8", "--seq-len", "20", "--eval-every", "3", "--threads", "1",
                "--weight-decay", "0.01", "--no-shift-passes", "--dropout", "0.1", "--locked-dropout",
                "--weight-dropout", "0.2", "--average", "0.9")
    assert r.returncode == 0, r.stderr
    assert "validation" in r.stderr and "bpc" in r.stderr  # the progress lines
    last = r.stdout.strip().splitlines()
    assert len(last) == 2 and last[0].startswith("validation ") and last[1].startswith("test ")
    assert "oneDNN" not in r.stderr and "absl" not in r.stderr  # oneDNN is on, its banner is not shown
    assert (out / tg.MODEL_FILE).is_file() and (out / tg.VOCAB_FILE).is_file()
    args = ["sample", "--model", str(out), "--prompt", "the ", "--length", "40", "--temperature", "0.9",
            "--top-k", "10", "--top-p", "0.95", "--seed", "3"]
    a, b = run_cli(*args), run_cli(*args)
    assert a.returncode == 0 and a.stderr == "", a.stderr
    assert a.stdout == b.stdout and a.stdout.startswith("the ") and len(a.stdout) == 45
    lstm = run_cli("train", "--corpus", str(corpus), "--out", str(tmp_path / "lstm"), "--steps", "2", "--units", "8",
                   "--embed", "4", "--batch-size", "8", "--seq-len", "20", "--eval-every", "2", "--cell", "lstm")
    assert lstm.returncode == 0, lstm.stderr
    info = json.loads((tmp_path / "lstm" / tg.VOCAB_FILE).read_text())["info"]
    assert info["model"]["cell"] == "lstm" and info["model"]["weight_dropout"] == 0.0
    saved = json.loads((out / tg.VOCAB_FILE).read_text())["info"]
    trained = saved["model"]
    assert trained["weight_dropout"] == 0.2 and trained["locked_dropout"] is True
    assert {"train_bpc", "val_bpc", "test_bpc"} <= set(saved) and float(last[1].split()[1]) == pytest.approx(saved["test_bpc"], abs=6e-4)
    assert saved["split"] == {"train": 7200, "validation": 900, "test": 900}
    c = run_cli(*args[:-1], "4")
    assert c.returncode == 0
    bad = run_cli("sample", "--model", str(out), "--prompt", "Zebra é")
    assert_usage_error(bad, "'Z'", "'é'", "prompt")


def test_cli_bench_and_speed_write_json(tmp_path):
    path = tmp_path / "results" / "bench.json"
    r = run_cli("bench", "--minutes", "0.005", "--recipes", "sources", "--threads", "1", "--json", str(path))
    assert r.returncode == 0, r.stderr
    record = json.loads(path.read_text())
    assert record["minutes"] == 0.005 and record["corpus"] == "python-docs" and record["seed"] == 0
    assert record["machine"]["cores"] == os.cpu_count() and record["machine"]["threads_per_op"] == 1
    assert record["command"].startswith("python -m book.textgen bench --minutes 0.005")
    (row,) = record["rows"]
    assert row["recipe"].startswith("sources") and f"{row['test_bpc']:.3f}" in r.stdout
    speed = tmp_path / "speed.json"
    speed.write_text(json.dumps({"machine": {}, "runs": [{"threads": 1, "onednn": True, "old": 1},
                                                          {"threads": 2, "onednn": False, "old": 1}]}))
    r = run_cli("speed", "--steps", "1", "--rounds", "1", "--threads", "1", "--json", str(speed))
    assert r.returncode == 0, r.stderr
    runs = json.loads(speed.read_text())["runs"]
    assert [(x["threads"], x["onednn"], "old" in x) for x in runs] == [(2, False, True), (1, True, False)]
    assert len(runs[1]["keras_ms"]) == len(runs[1]["fast_ms"]) == 1
    speed.write_text("not json")
    assert_usage_error(run_cli("speed", "--json", str(speed)), "not a file")


# --------------------------------------------------------------------------- Chapter 11's parallel models
def _tiny_parallel(kind):
    from book.textgen.parallel_lm import ParallelConfig

    return ParallelConfig(kind=kind, width=16, layers=1, heads=2, context=16, batch_size=4, eval_every=3)


@pytest.mark.parametrize("kind", ["mingru", "transformer"])
def test_parallel_models_train_measure_and_generate(keras_ready, kind):
    from book.textgen import parallel_lm as plm

    text = "the quick brown fox jumps over the lazy dog. " * 40
    vocab = tg.Vocabulary.from_text(text)
    ids = vocab.encode(text)
    cfg = _tiny_parallel(kind)
    res = plm.train_parallel(ids[:1200], ids[1200:], vocab.size, cfg, steps=7, stream=io.StringIO())
    assert res.steps == 7 and [h["step"] for h in res.history] == [3, 6, 7]
    assert res.val_nats == pytest.approx(min(h["val_bpc"] for h in res.history) * math.log(2))
    nats = plm.heldout_nats(res.model, ids[1200:], cfg, vocab.size)
    assert abs(nats - res.val_nats) < 1e-4  # the kept weights are the best ones
    # every held-out character is scored exactly once: a constant model gives log V
    X, Y = tg.eval_streams(ids[1200:])
    assert 0 < plm.rows_nats(res.model, X, Y, cfg, vocab.size) < 2 * math.log(vocab.size)
    gen = plm.ParallelGenerator(res.model, cfg, vocab.size)
    out = gen.generate(vocab.encode("the "), 40, temperature=1.0, seed=3)
    assert len(out) == 40 and out == gen.generate(vocab.encode("the "), 40, temperature=1.0, seed=3)
    assert all(0 <= i < vocab.size for i in out)


def test_mingru_generator_carries_the_state_of_the_parallel_model(keras_ready):
    """Greedy generation one step at a time equals the arg-max of the whole-sequence model, position by position."""
    from book.textgen import parallel_lm as plm

    cfg = _tiny_parallel("mingru")
    model = plm.build(30, cfg, None, None)
    gen = plm.ParallelGenerator(model, cfg, 30)
    prompt = [1, 2, 3]
    out = gen.generate(prompt, 10, temperature=0.0)
    seq = prompt + out
    logits = model.predict(np.array([seq[:-1]]), verbose=0)[0]
    assert list(np.argmax(logits[len(prompt) - 1:], axis=-1)) == out


def test_transformer_windows_score_every_character_once(keras_ready):
    from book.textgen import parallel_lm as plm

    cfg = _tiny_parallel("transformer")
    model = plm.build(12, cfg, None, None)
    for w in model.weights:  # all-zero weights: uniform predictions, log V per character
        w.assign(np.zeros(w.shape))
    ids = np.arange(100) % 12
    assert abs(plm.heldout_nats(model, ids, cfg, 12) - math.log(12)) < 1e-5
    with pytest.raises(ValueError, match="shorter than one context"):
        plm.heldout_nats(model, ids[:10], cfg, 12)


def test_bench_rows_for_the_parallel_models(keras_ready, monkeypatch):
    from book.textgen import parallel_lm as plm

    monkeypatch.setattr(plm, "MINGRU_LM", _tiny_parallel("mingru"))
    monkeypatch.setattr(plm, "TRANSFORMER_LM", _tiny_parallel("transformer"))
    assert tg.bench.__module__ == "book.textgen.bench"
    rows = tg.bench(0.003, recipes=["mingru", "transformer"], stream=io.StringIO())
    assert [r["recipe"].split(":")[0] for r in rows] == ["minGRU LM", "transformer"]
    for r in rows:
        assert 0 < r["trainable"] == r["params"] and r["steps"] > 0 and r["gen_cps"] > 0
        assert all(0 < r[k] < 20 for k in ("train_bpc", "val_bpc", "test_bpc")) and r["val_curve"]
    from book.textgen.bench import DEFAULT_RECIPES, RECIPES

    assert DEFAULT_RECIPES == ("sources", "tutorial", "numpy", "ours") and RECIPES[4:] == ("mingru", "transformer")
