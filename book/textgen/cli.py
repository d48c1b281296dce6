"""``python -m book.textgen``: train, sample, bench and speed.

Every bad input (missing, empty or binary file, a corpus too short for one
batch, a prompt with characters the vocabulary lacks, an unknown option, a
folder that holds no model) gets one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np

from book.data import CORPORA, DataError, load_corpus
from book.textgen.bench import RECIPES, bench, bench_record, format_table, machine, step_times
from book.textgen.config import OURS_MODEL, OURS_TRAIN, ModelConfig
from book.textgen.metrics import bits_per_char, perplexity
from book.textgen.model import MODEL_FILE, VOCAB_FILE, keras_heldout_nats, load, save
from book.textgen.pipeline import eval_streams, split_text, stream_batches
from book.textgen.sampling import StepGenerator
from book.textgen.training import train
from book.textgen.vocab import TextgenError, Vocabulary


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
    t.add_argument("--corpus", required=True, help=f"a corpus name ({', '.join(sorted(CORPORA))}) or a path to a UTF-8 text file")
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
                   help="train GRUs with book.textgen.fastgru.FastGRU on a CPU (default: on)")
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
    sp.add_argument("--json", metavar="PATH",
                    help="also record the timings in this JSON file (one entry per --threads/--onednn setting)")
    _engine_options(sp)
    b = sub.add_parser("bench", help="train six recipes for the same budget and print one table")
    b.add_argument("--minutes", type=_positive(float, "--minutes"), default=5.0)
    b.add_argument("--corpus", default="python-docs")
    b.add_argument("--recipes", default="sources,tutorial,numpy,ours,mingru,transformer",
                   help="comma-separated subset of sources,tutorial,numpy,ours (Chapter 8), mingru,transformer (Chapter 11)")
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--json", metavar="PATH", help="also write the rows, budget, corpus, seed and machine here")
    _engine_options(b)
    return p


def _quiet_tf(onednn: bool | None = None) -> None:
    """Import TensorFlow for the command line, without its start-up messages.

    ``onednn`` turns TensorFlow's oneDNN CPU kernels on or off (``None``: as
    the environment says, off by default).  They change the order of sums, so
    the notebooks keep them off for outputs that are the same on every CPU;
    ``train``, ``bench`` and ``speed`` turn them on (``speed --no-onednn``
    measures the difference; the appendix to Chapter 8 prints it).  With them on, TensorFlow
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

    Must run before TensorFlow executes anything.  The default, half the
    cores per operation with two operations side by side, is meant for small
    recurrent matrices that gain little from being split across cores while
    the forward and backward graphs have independent operations to overlap;
    ``speed --threads N`` measures a setting (the appendix to Chapter 8
    prints the measurements).
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
    train_text, val_text, test_text = split_text(text)
    mc = ModelConfig(cell=args.cell, units=args.units, layers=args.layers, embed=args.embed, dropout=args.dropout,
                     locked_dropout=args.locked_dropout, weight_dropout=weight_dropout)
    tc = replace(OURS_TRAIN, batch_size=args.batch_size, seq_len=args.seq_len, learning_rate=args.lr,
                 weight_decay=args.weight_decay, shift_passes=args.shift_passes, fast_gru=args.fast_gru,
                 average=args.average, eval_every=args.eval_every, seed=args.seed)
    vocab = Vocabulary.from_text(train_text)
    # validate the sizes before TensorFlow loads
    stream_batches(vocab.encode(train_text[: args.batch_size * args.seq_len + 1]), args.batch_size, args.seq_len)
    eval_streams(vocab.encode(val_text))
    test_ids = vocab.encode(test_text)
    eval_streams(test_ids)
    _quiet_tf(args.onednn)
    set_threads(args.threads)
    if args.steps is not None:
        res = train(train_text, val_text, mc, tc, steps=args.steps, vocab=vocab, progress=True)
    else:
        res = train(train_text, val_text, mc, tc, seconds=60.0 * (args.minutes or 5.0), vocab=vocab, progress=True)
    test_nats = keras_heldout_nats(res.model, test_ids)  # once, on the kept model, after training
    info = {"corpus": str(args.corpus) if args.corpus in CORPORA else Path(args.corpus).name,
            "model": asdict(mc), "train": asdict(tc), "steps": res.steps,
            "split": {"train": len(train_text), "validation": len(val_text), "test": len(test_text)},
            "train_bpc": round(bits_per_char(res.train_nats), 4), "val_bpc": round(bits_per_char(res.val_nats), 4),
            "test_bpc": round(bits_per_char(test_nats), 4)}
    save(args.out, res.model, vocab, info)
    print(f"validation {bits_per_char(res.val_nats):.3f} bits/char (perplexity {perplexity(res.val_nats):.2f}), "
          f"the kept model, after {res.steps} steps, {res.train_seconds:.0f} s")
    print(f"test {bits_per_char(test_nats):.3f} bits/char (perplexity {perplexity(test_nats):.2f}), "
          f"measured once; saved to {args.out}")
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


def _write_json(path: str | Path, record: Any) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")


def cmd_bench(args: argparse.Namespace) -> int:
    recipes = [r.strip() for r in args.recipes.split(",") if r.strip()]
    bad = [r for r in recipes if r not in RECIPES]
    if bad or not recipes:
        raise UsageError(f"--recipes: unknown recipe {', '.join(bad) or '(none)'} (use sources, tutorial, numpy, ours, mingru, transformer)")
    load_corpus(args.corpus)
    _quiet_tf(args.onednn)
    set_threads(args.threads)
    rows = bench(args.minutes, args.corpus, args.seed, recipes=recipes)
    print(format_table(rows, args.minutes))
    if args.json:
        record = bench_record(rows, args.minutes, args.corpus, args.seed)
        record["command"] = "python -m book.textgen " + shlex.join(args.argv)
        _write_json(args.json, record)
    return 0


def cmd_speed(args: argparse.Namespace) -> int:
    if args.json and Path(args.json).exists():  # check before the minutes of timing
        try:
            old = json.loads(Path(args.json).read_text(encoding="utf-8"))
            runs = [r for r in old["runs"] if (r["threads"], r["onednn"]) != (args.threads, args.onednn)]
        except (ValueError, KeyError, TypeError):
            raise TextgenError(f"{args.json}: not a file that 'speed --json' wrote") from None
    else:
        runs = []
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
    if args.json:
        runs.append({"threads": args.threads, "onednn": args.onednn, "steps": args.steps, "rounds": args.rounds,
                     "batch": [B, T], "units": OURS_MODEL.units, "keras_ms": times["keras"],
                     "fast_ms": times["fast"], "command": "python -m book.textgen " + shlex.join(args.argv)})
        _write_json(args.json, {"machine": {k: v for k, v in machine().items() if k not in ("threads_per_op", "onednn")},
                                "runs": runs})
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = make_parser()
    try:
        argv = list(sys.argv[1:] if argv is None else argv)
        args = parser.parse_args(argv)
        args.argv = argv
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
