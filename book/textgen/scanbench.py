"""Chapter 11's timings: a training step of Keras's GRU against minGRU, and NumPy's scans, for T = 64 .. 4096.

Run as ``python -m book.textgen.scanbench --json chapters/results/linear_rnn_speed.json``
(a few minutes on 2 cores); the chapter reads and plots the file.  Each
measurement alternates the contenders over several rounds, so a slow moment
of a shared machine hits both, and keeps every round.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

LENGTHS = (64, 128, 256, 512, 1024, 2048, 4096)


def build_lm(kind: str, vocab: int, embed: int, units: int, batch: int, T: int, seed: int = 0) -> Any:
    """Embedding -> one recurrent layer of ``units`` ("gru": Keras's GRU, "mingru": :class:`MinGRU`) -> logits."""
    import keras

    from book.textgen.linrnn import MinGRU

    keras.utils.set_random_seed(seed)
    inp = keras.Input(batch_shape=(batch, T), dtype="int32")
    x = keras.layers.Embedding(vocab, embed)(inp)
    if kind == "gru":
        x = keras.layers.GRU(units, return_sequences=True)(x)
    elif kind == "mingru":
        x = MinGRU(units)(x)
    else:
        raise ValueError(f"unknown kind {kind!r} (gru or mingru)")
    model = keras.Model(inp, keras.layers.Dense(vocab)(x))
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def _rounds(fns: dict[str, Callable[[], Any]], rounds: int, reps: int) -> dict[str, list[float]]:
    """Milliseconds per call of each function, ``rounds`` alternating rounds of ``reps`` calls."""
    out: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            for _ in range(reps):
                fn()
            out[name].append(1000.0 * (time.perf_counter() - t0) / reps)
    return out


def step_times(lengths: Sequence[int] = LENGTHS, batch: int = 16, units: int = 256, embed: int = 64,
               vocab: int = 96, rounds: int = 3, reps: int = 2, warmup: int = 2) -> list[dict[str, Any]]:
    """One entry per length: ms per training step (``train_on_batch``) of the GRU and the minGRU model."""
    rng = np.random.default_rng(0)
    rows = []
    for T in lengths:
        X, Y = rng.integers(0, vocab, (batch, T)), rng.integers(0, vocab, (batch, T))
        models = {k: build_lm(k, vocab, embed, units, batch, T) for k in ("gru", "mingru")}
        for m in models.values():
            for _ in range(warmup):
                m.train_on_batch(X, Y)
        times = _rounds({k: (lambda m=m, X=X, Y=Y: m.train_on_batch(X, Y)) for k, m in models.items()},
                        rounds, reps)
        rows.append({"T": T, "gru_ms": times["gru"], "mingru_ms": times["mingru"]})
        print(f"T={T}: GRU {np.median(times['gru']):.1f} ms, minGRU {np.median(times['mingru']):.1f} ms",
              file=sys.stderr, flush=True)
    return rows


def numpy_scan_times(lengths: Sequence[int] = LENGTHS, batch: int = 8, units: int = 128,
                     rounds: int = 3, reps: int = 3) -> list[dict[str, Any]]:
    """One entry per length: ms of :func:`linear_scan` (the loop), :func:`parallel_scan` and
    :func:`odd_even_scan` in NumPy, float64, on ``batch * units`` channels."""
    from book.nn.scan import linear_scan, odd_even_scan, parallel_scan

    rng = np.random.default_rng(1)
    rows = []
    for T in lengths:
        a, b = rng.uniform(0, 1, (batch, T, units)), rng.normal(size=(batch, T, units))
        h0 = np.zeros((batch, units))
        fns = {"loop": lambda a=a, b=b, h0=h0: linear_scan(a, b, h0),
               "parallel": lambda a=a, b=b, h0=h0: parallel_scan(a, b, h0),
               "odd_even": lambda a=a, b=b, h0=h0: odd_even_scan(a, b, h0)}
        times = _rounds(fns, rounds, reps)
        rows.append({"T": T, "channels": batch * units, **{f"{k}_ms": v for k, v in times.items()}})
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m book.textgen.scanbench", description=__doc__.splitlines()[0])
    p.add_argument("--json", required=True, help="where to write the timings")
    p.add_argument("--lengths", default=",".join(map(str, LENGTHS)))
    args = p.parse_args(argv)
    lengths = [int(t) for t in args.lengths.split(",")]
    from book.environment import quiet_tensorflow

    quiet_tensorflow()
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    import keras

    from book.textgen.bench import machine

    keras.utils.set_random_seed(0)
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    record = {"command": "python -m book.textgen.scanbench " + " ".join(argv if argv is not None else sys.argv[1:]),
              "settings": {"batch": 16, "units": 256, "embed": 64, "vocab": 96, "rounds": 3, "reps": 2,
                           "numpy": "(batch, units) = (1, 16) and (8, 128)"},
              "steps": step_times(lengths),
              "numpy": numpy_scan_times(lengths, 1, 16) + numpy_scan_times(lengths, 8, 128)}
    record["machine"] = machine()
    record["load_average"] = [round(load0, 2), round(os.getloadavg()[0], 2)]
    record["seconds"] = round(time.perf_counter() - t0, 1)
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
