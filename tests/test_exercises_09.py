"""Chapter 9 exercises: the reference answers pass, plausible wrong answers fail with a pointed message."""

from __future__ import annotations

import json

import numpy as np
from helpers import ROOT, assert_accepted, assert_rejected, grade_one

from book.grading.checks import ch09 as checks_09


def _hidden(exercise_id, answer):
    from book.grading import get_exercise

    return get_exercise(exercise_id).run(answer, rng=np.random.default_rng(7))


def test_9_1_block_windows():
    def loop(s, n, K, lo, hi):
        js = [j for j in range(max(lo, n), hi - K + 1)]
        return np.array([s[j - n : j] for j in js]), np.array([s[j : j + K] for j in js])

    assert_accepted("9.1", checks_09.block_windows)
    assert_accepted("9.1", loop)
    given = grade_one("9.1", checks_09._starts_in_block)
    assert given.status == "not attempted" and given.points == 0
    assert_rejected("9.1", checks_09._first_target_in_block, "leak past hi")
    assert_rejected("9.1", checks_09._inputs_in_block, "reach back before lo")
    assert_rejected("9.1", checks_09._one_short, "one window short")
    assert_rejected("9.1", lambda s, n, K, lo, hi: loop(s, n, K, lo, hi)[0], "tuple")
    # special-cased to the visible blocks: fails on hidden ones
    visible = {(len(c.args[0]), *c.args[1:]) for c in checks_09._block_cases()}

    def cheat(s, n, K, lo, hi):
        return loop(s, n, K, lo, hi) if (len(s), n, K, lo, hi) in visible else loop(s, n, K, lo, hi + 1)

    assert_accepted("9.1", cheat)
    assert _hidden("9.1", cheat).status == "failed"
    assert _hidden("9.1", checks_09.block_windows).status == "passed"


def test_9_2_seasonal_naive():
    def loop(X, K, m):
        n = X.shape[1]
        out = np.empty((len(X), K))
        for h in range(1, K + 1):
            j = h
            while j > 0:
                j -= m  # step back whole seasons until the value is observed
            out[:, h - 1] = X[:, n - 1 + j]
        return out

    assert_accepted("9.2", checks_09.seasonal_naive)
    assert_accepted("9.2", loop)
    assert_rejected("9.2", lambda X, K, m: np.repeat(X[:, -1:], K, axis=1), "persistence")
    assert_rejected("9.2", lambda X, K, m: loop(X, K, m + 1), "season length", "off by one")
    assert_rejected("9.2", lambda X, K, m: loop(X, K, m - 1), "season length", "off by one")
    assert_rejected("9.2", lambda X, K, m: X[:, np.arange(K) % m], "oldest season")
    assert_rejected("9.2", lambda X, K, m: X[:, X.shape[1] - m + np.arange(K)], "IndexError")
    assert _hidden("9.2", checks_09.seasonal_naive).status == "passed"


def test_9_3_split_and_scale():
    def split(s, f1, f2, stats="train", rng=None):
        s = np.asarray(s, dtype=float)
        if rng is not None:
            s = s[rng.permutation(len(s))]
        a, b = int(f1 * len(s)), int((f1 + f2) * len(s))
        ref = {"train": s[:a], "all": s}[stats]
        return tuple((blk - ref.mean()) / ref.std() for blk in (s[:a], s[a:b], s[b:]))

    assert_accepted("9.3", checks_09.split_and_scale)
    assert_accepted("9.3", split)
    assert_rejected("9.3", lambda s, f1, f2: split(s, f1, f2, stats="all"), "leakage", "whole series")
    assert_rejected("9.3", checks_09._own_statistics, "its own statistics")
    assert_rejected(
        "9.3", lambda s, f1, f2: split(s, f1, f2, rng=np.random.default_rng(0)), "shuffle", "time order"
    )
    assert_rejected("9.3", lambda s, f1, f2: split(s[::-1], f1, f2), "time order")
    assert_rejected("9.3", lambda s, f1, f2: split(s, f1, f2)[:2], "returned 2 values")
    assert _hidden("9.3", split).status == "passed"
    assert _hidden("9.3", lambda s, f1, f2: split(s, f1, f2, stats="all")).status == "failed"


def test_9_4_fit_ar():
    def normal_equations(X, Y):
        A = np.hstack([X, np.ones((len(X), 1))])
        coef = np.linalg.solve(A.T @ A, A.T @ Y)
        return coef[:-1], coef[-1]

    assert_accepted("9.4", checks_09.fit_ar)
    assert_accepted("9.4", normal_equations)
    assert_rejected("9.4", lambda X, Y: (np.linalg.lstsq(X, Y, rcond=None)[0], np.zeros(Y.shape[1])), "intercept")
    assert_rejected("9.4", checks_09._intercept_afterwards, "fit W and b together")
    assert_rejected("9.4", checks_09._first_horizon_only, "own column")
    assert_rejected("9.4", lambda X, Y: (normal_equations(X, Y)[0].T, normal_equations(X, Y)[1]), "shape")
    assert _hidden("9.4", normal_equations).status == "passed"


def test_9_5_ar1_ratio():
    h = np.arange(1, 6)
    assert_accepted("9.5", np.sqrt((1 + 0.8**h) / 2))
    assert_rejected("9.5", (1 + 0.8**h) / 2, "mean squared errors")
    assert_rejected("9.5", np.sqrt(2 / (1 + 0.8**h)), "upside down")
    assert_rejected("9.5", np.sqrt(1 - 0.8 ** (2 * h)), "series' own spread")
    assert_rejected("9.5", np.sqrt((1 + 0.8**h) / 2)[:4], "shape")
    assert_rejected("9.5", "0.95", "text")


def _ar_forecaster(n, seed=0):
    s = checks_09.simulate(2000, seed)
    W, b = checks_09.fit_ar(*checks_09.block_windows(s, n, 7, 0, len(s)))
    return lambda X: np.asarray(X)[:, -n:] @ W + b


def test_9_6_experiment():
    good = _ar_forecaster(28)
    assert_accepted("9.6", good)
    assert _hidden("9.6", good).status == "passed"
    mean = checks_09.simulate(2000, 0).mean()
    assert_rejected("9.6", lambda X: np.full((len(X), 7), mean), "ratio", "needs at most 0.85")
    assert_rejected("9.6", lambda X: np.repeat(np.asarray(X)[:, -1:], 7, axis=1), "ratio 1.7")
    assert_rejected("9.6", lambda X: checks_09.seasonal_naive(X, 7, 7), "ratio 1.000")
    assert_rejected("9.6", lambda X: good(X)[:, :6], "shape")
    assert_rejected("9.6", lambda X: np.full((len(X), 7), np.nan), "nan")
    assert_rejected("9.6", 3.0, "expected a function")


def test_9_6_notebook_simulates_as_the_grader():
    """The solution (and so exercise) notebook's simulate() draws the grader's series."""
    nb = json.loads((ROOT / "solutions" / "09_applications.ipynb").read_text())
    source = next("".join(c["source"]) for c in nb["cells"] if "def simulate(" in "".join(c["source"]))
    code = source.split("series = simulate")[0]
    space = {"np": np}
    exec(code, space)  # noqa: S102 - the book's own notebook
    for seed in (0, 5):
        assert np.array_equal(space["simulate"](300, seed), checks_09.simulate(300, seed))


def test_9_7_choice():
    assert_accepted("9.7", "b")
    assert_rejected("9.7", "a", "independent")
    assert_rejected("9.7", "d", "overlapping")
    assert_rejected("9.7", "e", "one letter")
