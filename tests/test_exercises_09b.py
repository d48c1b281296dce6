"""Chapter 9b exercises: the reference answers pass, plausible wrong answers fail with a pointed message."""

from __future__ import annotations

from collections import Counter

import numpy as np
from helpers import assert_accepted, assert_rejected, grade_one

from book.grading.checks import ch09b as checks


def _hidden(exercise_id, answer):
    from book.grading import get_exercise

    return get_exercise(exercise_id).run(answer, rng=np.random.default_rng(11))


def test_9b_1_pair_shares():
    def loop(codes, V):
        out = np.zeros((len(codes), V * V))
        for k, row in enumerate(codes):
            for a, b in zip(row[:-1], row[1:], strict=True):
                out[k, a * V + b] += 1 / (len(row) - 1)
        return out

    assert_accepted("9b.1", checks.pair_shares)
    assert_accepted("9b.1", loop)
    assert_rejected("9b.1", lambda c, V: loop(np.asarray(c)[:, ::-1], V), "a * V + b")
    assert_rejected("9b.1", lambda c, V: loop(c, V) * (np.asarray(c).shape[1] - 1), "counts")
    assert_rejected("9b.1", checks._over_length, "L - 1")
    assert_rejected("9b.1", checks._wrap_around, "wraps around")
    shapes = {(c.args[0].shape, c.args[1]) for c in checks._pair_cases()}

    def cheat(c, V):
        return loop(c, V) if (np.asarray(c).shape, V) in shapes else loop(c, V) * 2

    assert_accepted("9b.1", cheat)
    assert _hidden("9b.1", cheat).status == "failed"
    assert _hidden("9b.1", loop).status == "passed"


def test_9b_2_padded():
    def per_sequence(x, lengths, W_xh, W_hh, b_h, w, c):
        out = []
        for n in range(len(x)):
            h = np.zeros(W_hh.shape[0])
            for t in range(lengths[n]):
                h = np.tanh(x[n, t] @ W_xh + h @ W_hh + b_h)
            out.append(1 / (1 + np.exp(-(h @ w + c))))
        return np.array(out)

    assert_accepted("9b.2", checks.classify_padded)
    assert_accepted("9b.2", per_sequence)
    given = grade_one("9b.2", checks._reads_padding)
    assert given.status == "not attempted" and given.points == 0
    assert_rejected("9b.2", lambda *a: checks._run(*a, lambda t, n: t <= n), "off by one")
    assert_rejected(
        "9b.2", lambda *a: checks._run(*a, lambda t, n: np.full_like(n, t < n.min(), dtype=bool)), "shortest"
    )
    assert_rejected("9b.2", lambda *a: per_sequence(*a)[:, None], "shape")
    assert _hidden("9b.2", per_sequence).status == "passed"


def test_9b_3_steps():
    assert_accepted("9b.3", 798)
    assert_rejected("9b.3", 800, "strides only")
    assert_rejected("9b.3", 3199, "first convolution")
    assert_rejected("9b.3", 799, "rounded up")


def test_9b_4_snippets():
    assert_accepted("9b.4", 6147)
    assert_rejected("9b.4", 9604, "worst case")
    assert_rejected("9b.4", 1600, "1.96")
    assert_rejected("9b.4", 1537, "half-width")
    assert_rejected("9b.4", 6146, "rounded down")


def test_9b_5_choice():
    assert_accepted("9b.5", "c")
    assert_rejected("9b.5", "a", "neighbour pair")
    assert_rejected("9b.5", "d", "own weights")
    assert_rejected("9b.5", 1, "one letter")


def _naive_bayes(n=5, alpha=0.03):
    from book.data import load_corpus, load_stdlib_source

    texts = [t[: int(0.7 * len(t))] for t in (load_corpus("python-docs"), load_stdlib_source())]
    counts = [Counter(t[i : i + n] for i in range(len(t) - n + 1)) for t in texts]
    seen = counts[0].keys() | counts[1].keys()
    totals = [sum(c.values()) + alpha * (len(seen) + 1) for c in counts]
    odds = {g: np.log((counts[1][g] + alpha) / totals[1] * totals[0] / (counts[0][g] + alpha)) for g in seen}
    unseen = np.log(totals[0] / totals[1])
    return lambda snippets: np.array(
        [sum(odds.get(s[i : i + n], unseen) for i in range(len(s) - n + 1)) > 0 for s in snippets], dtype=int
    )


def test_9b_6_experiment():
    good = _naive_bayes()
    assert_accepted("9b.6", good)
    assert _hidden("9b.6", good).status == "passed"
    assert_rejected("9b.6", _naive_bayes(n=1), "needs at least 0.83")  # single characters are not enough
    assert_rejected("9b.6", lambda s: np.zeros(len(s), dtype=int), "accuracy 0.500")
    assert_rejected("9b.6", lambda s: 1 - good(s), "needs at least")  # the labels swapped
    assert_rejected("9b.6", lambda s: np.array(["#" in t for t in s], dtype=int), "needs at least")
    assert_rejected("9b.6", lambda s: np.full(len(s), 0.7), "labels 0 (prose) or 1")
    assert_rejected("9b.6", lambda s: good(s)[:-1], "shape")
