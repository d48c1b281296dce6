"""Chapter 8 exercises: the reference answers pass, plausible wrong answers fail with a pointed message."""

from __future__ import annotations

import math

import numpy as np
from helpers import assert_accepted, assert_rejected

from book.grading.checks import ch08 as checks_08


def test_8_1_metrics():
    assert_accepted("8.1", checks_08.nats_to_bpc_and_perplexity)
    assert_accepted("8.1", lambda n: (n / np.log(2), 2 ** (n / np.log(2))))
    assert_rejected("8.1", lambda n: (n * math.log(2), math.exp(n)), "nats * ln 2")
    assert_rejected("8.1", lambda n: (n / math.log(10), math.exp(n)), "ln 10")
    assert_rejected("8.1", lambda n: (n / math.log(2), 2**n), "2**nats")
    assert_rejected("8.1", lambda n: (n / math.log(2), math.exp(n / math.log(2))), "exp(bpc)")
    assert_rejected("8.1", lambda n: n / math.log(2), "tuple")


def _softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def test_8_2_sampling_distribution():
    assert_accepted("8.2", checks_08.sampling_distribution)

    def times_t(logits, t, k, p):
        return checks_08.sampling_distribution(np.asarray(logits) * t * t, t, k, p)

    assert_rejected("8.2", times_t, "divide the logits")
    assert_rejected("8.2", lambda lg, t, k, p: checks_08.sampling_distribution(lg, t, k + 1 if k else 0, p), "off by one")
    assert_rejected("8.2", checks_08._nucleus_excludes_crossing, "includes the character")
    assert_rejected("8.2", checks_08._not_renormalised, "renormalise")

    def ignores_filters(logits, t, k, p):
        return _softmax(np.asarray(logits) / t)

    assert_rejected("8.2", ignores_filters, "case")
    assert_rejected("8.2", lambda lg, t, k, p: np.full(len(lg), np.nan), "nan")


def test_8_3_find_cycle():
    assert_accepted("8.3", checks_08.find_cycle)

    def floyd(succ, start):  # tortoise and hare: a different correct algorithm
        f = lambda s: int(succ[s])  # noqa: E731
        slow, fast = f(start), f(f(start))
        while slow != fast:
            slow, fast = f(slow), f(f(fast))
        mu, slow = 0, int(start)
        while slow != fast:
            slow, fast, mu = f(slow), f(fast), mu + 1
        lam, fast = 1, f(slow)
        while slow != fast:
            fast, lam = f(fast), lam + 1
        return mu, lam

    assert_accepted("8.3", floyd)
    assert_rejected("8.3", checks_08._cycle_counts_first_repeat, "cycle length")
    assert_rejected("8.3", checks_08._cycle_off_by_one, "off by one")
    assert_rejected("8.3", checks_08._cycle_from_start, "before the cycle")
    assert_rejected("8.3", lambda s, start: 3, "pair")
    assert_rejected("8.3", lambda s, start: 1 / 0, "ZeroDivisionError")


def test_8_4_encode():
    assert_accepted("8.4", checks_08.encode)
    assert_accepted("8.4", lambda text, chars: [chars.index(c) if c in chars else 0 for c in text])
    assert_rejected("8.4", lambda text, chars: np.array([chars.index(c) for c in text if c in chars]), "dropped")
    assert_rejected("8.4", lambda text, chars: np.array([chars.index(c) if c in chars else -1 for c in text]), "id 0")
    assert_rejected(
        "8.4", lambda text, chars: np.array([chars.index(c) - 1 if c in chars else 0 for c in text]), "off by one"
    )
    assert_rejected("8.4", lambda text, chars: np.array([chars.index(c) if c in chars else len(chars) for c in text]), "id 0")


def test_8_5_softmax_ce_backward():
    assert_accepted("8.5", checks_08.softmax_ce_backward)
    assert_rejected("8.5", checks_08._ce_no_mean, "divide by N*T")
    assert_rejected("8.5", checks_08._ce_sign, "sign")
    assert_rejected("8.5", checks_08._ce_no_onehot, "one-hot")
    assert_rejected("8.5", checks_08._ce_mean_over_vocab, "N*T*V")
    assert_rejected("8.5", lambda lg, t: checks_08.softmax_ce_backward(lg, t)[..., :-1], "shape")


def test_8_5_reference_matches_finite_differences():
    from book.nn import numerical_gradient, rel_error
    from book.textgen.charrnn import softmax_cross_entropy_forward

    rng = np.random.default_rng(0)
    logits, targets = rng.normal(size=(2, 3, 5)), rng.integers(0, 5, size=(2, 3))
    num = numerical_gradient(lambda: softmax_cross_entropy_forward(logits, targets)[0], logits)
    assert rel_error(num, checks_08.softmax_ce_backward(logits, targets)) < 1e-7
