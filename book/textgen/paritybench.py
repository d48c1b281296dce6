"""Chapter 11's state-tracking experiment: parity of a bit stream, trained on one length, tested on longer ones.

Run as ``python -m book.textgen.paritybench --json chapters/results/linear_rnn_parity.json``
(a few minutes on 2 cores); the chapter reads the file.  Five recurrent
layers of the same width, each under the same read-out and training:

* ``gru``: Keras's GRU (nonlinear in its state);
* ``mingru``: :class:`book.textgen.linrnn.MinGRU`, ``a_t = 1 - z_t`` in (0, 1);
* ``linear``: :class:`book.textgen.linrnn.LinearRecurrence`, ``a_t`` in (0, 1);
* ``mingru_signed`` and ``linear_signed``: the same two with ``a_t = tanh(.)`` in (-1, 1).

Every model reads the start symbol and ``train_length`` bits and predicts
the parity so far at every step (:mod:`book.data.parity`); it is scored on
the parity of the whole sequence, at the last step, on fresh sequences of
the training length and of longer ones.  Each kind's learning rate is
chosen first, on validation: one pilot seed per rate, scored on fresh
sequences of the training length only (:func:`choose_rates`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

KINDS = ("gru", "mingru", "linear", "mingru_signed", "linear_signed")


@dataclass
class ParityConfig:
    """The experiment's settings (picked on pilot runs with other seeds and other data)."""

    units: int = 16
    train_length: int = 16
    test_lengths: tuple[int, ...] = (16, 32, 64, 256)
    steps: int = 600
    batch_size: int = 64
    rates: tuple[float, ...] = (0.003, 0.01, 0.03)  # the choices, made on validation
    test_size: int = 1000
    seeds: tuple[int, ...] = (10, 11, 12, 13, 14)
    pilot_seed: int = 0


def build(kind: str, units: int, learning_rate: float, seed: int) -> Any:
    """Inputs (N, T, 3) -> recurrent layer -> Dense(units, relu) -> a parity logit at every step."""
    import keras

    from book.textgen.linrnn import LinearRecurrence, MinGRU

    keras.utils.set_random_seed(seed)
    inp = keras.Input((None, 3))
    layers = {"gru": lambda: keras.layers.GRU(units, return_sequences=True),
              "mingru": lambda: MinGRU(units), "linear": lambda: LinearRecurrence(units),
              "mingru_signed": lambda: MinGRU(units, signed=True),
              "linear_signed": lambda: LinearRecurrence(units, signed=True)}
    if kind not in layers:
        raise ValueError(f"unknown kind {kind!r} (one of {', '.join(KINDS)})")
    x = layers[kind]()(inp)
    x = keras.layers.Dense(units, activation="relu")(x)
    model = keras.Model(inp, keras.layers.Dense(1)(x))
    model.compile(optimizer=keras.optimizers.Adam(learning_rate, clipnorm=1.0),
                  loss=keras.losses.BinaryCrossentropy(from_logits=True))
    return model


def _fit(kind: str, cfg: ParityConfig, rate: float, seed: int, x: Any, y: Any) -> tuple[Any, float]:
    model = build(kind, cfg.units, rate, seed)
    hist = model.fit(x, y[..., None].astype("float32"), batch_size=cfg.batch_size, epochs=1, verbose=0,
                     shuffle=False)
    return model, float(hist.history["loss"][-1])


def _last_step(model: Any, x: Any, y: Any) -> tuple[float, float]:
    """(accuracy, mean cross-entropy in nats) of the parity of the whole sequence, at its last step."""
    logits = model.predict(x, batch_size=len(x), verbose=0)[:, -1, 0].astype(np.float64)
    target = y[:, -1] == 1
    nats = np.mean(np.logaddexp(0.0, np.where(target, -logits, logits)))
    return float(np.mean((logits > 0) == target)), float(nats)


def choose_rates(cfg: ParityConfig, kinds: Sequence[str] = KINDS) -> dict[str, Any]:
    """Each kind's learning rate: the best last-step accuracy (then cross-entropy) on validation sequences
    of the training length, for one pilot seed and pilot data; returns ``{"rates": {kind: rate}, "scores": ...}``."""
    from book.data.parity import parity_task

    x, y = parity_task(cfg.steps * cfg.batch_size, cfg.train_length, seed=500)
    x_val, y_val = parity_task(cfg.test_size, cfg.train_length, seed=600)
    chosen, scores = {}, {}
    for kind in kinds:
        scores[kind] = {}
        for rate in cfg.rates:
            model, _ = _fit(kind, cfg, rate, cfg.pilot_seed, x, y)
            scores[kind][str(rate)] = _last_step(model, x_val, y_val)
            print(f"pilot {kind} lr {rate}: {scores[kind][str(rate)]}", file=sys.stderr, flush=True)
        chosen[kind] = min(cfg.rates, key=lambda r: (-scores[kind][str(r)][0], scores[kind][str(r)][1]))
    return {"rates": chosen, "scores": scores}


def run(cfg: ParityConfig, rates: dict[str, float], kinds: Sequence[str] = KINDS) -> list[dict[str, Any]]:
    """One row per (kind, seed): last-step accuracy at every test length, the final training loss, seconds."""
    from book.data.parity import count_overlap, parity_task

    rows = []
    for seed in cfg.seeds:
        x_train, y_train = parity_task(cfg.steps * cfg.batch_size, cfg.train_length, seed=1000 + seed)
        tests = {n: parity_task(cfg.test_size, n, seed=2000 + 10 * seed + k) for k, n in enumerate(cfg.test_lengths)}
        seen = {row.tobytes() for row in x_train}
        for n, (x, y) in tests.items():  # sequences of the training length may repeat training ones: drop those
            fresh = np.array([row.tobytes() not in seen for row in x])
            tests[n] = (x[fresh], y[fresh])
        overlap = sum(count_overlap(x_train, x) for x, _ in tests.values())
        for kind in kinds:
            t0 = time.perf_counter()
            model, loss = _fit(kind, cfg, rates[kind], seed, x_train, y_train)
            acc = {str(n): _last_step(model, x, y)[0] for n, (x, y) in tests.items()}
            rows.append({"kind": kind, "seed": seed, "rate": rates[kind], "accuracy": acc, "train_loss": loss,
                         "test_sizes": {str(n): len(x) for n, (x, _) in tests.items()},
                         "test_overlap": overlap, "seconds": round(time.perf_counter() - t0, 1)})
            print(f"{kind} seed {seed}: {acc}", file=sys.stderr, flush=True)
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m book.textgen.paritybench", description=__doc__.splitlines()[0])
    p.add_argument("--json", required=True, help="where to write the results")
    args = p.parse_args(argv)
    from book.environment import quiet_tensorflow

    quiet_tensorflow()
    from book.textgen.bench import machine

    cfg = ParityConfig()
    load0, t0 = os.getloadavg()[0], time.perf_counter()
    pilot = choose_rates(cfg)
    rows = run(cfg, pilot["rates"])
    record = {"command": "python -m book.textgen.paritybench " + " ".join(argv if argv is not None else sys.argv[1:]),
              "config": asdict(cfg), "validation": pilot, "rows": rows, "machine": machine(),
              "load_average": [round(load0, 2), round(os.getloadavg()[0], 2)],
              "seconds": round(time.perf_counter() - t0, 1)}
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
