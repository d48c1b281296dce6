"""Exercises of Chapter 8 (the character-level text generator): cases, answers, hints."""

from __future__ import annotations

import math

import numpy as np

from book.grading.core import (
    Case,
    Exercise,
    Mismatch,
    call_learner,
    compare_array,
    draw_shapes,
    function_exercise,
    register,
)
from book.textgen import UNK
from book.textgen import sampling_distribution as _reference_distribution
from book.textgen.charrnn import softmax_cross_entropy_backward, softmax_cross_entropy_forward


# --------------------------------------------------------------------------
# 8.1 bits per character and perplexity from nats
# --------------------------------------------------------------------------
def nats_to_bpc_and_perplexity(nats):
    """Reference for 8.1: ``(nats / ln 2, exp(nats))``."""
    return float(nats) / math.log(2.0), math.exp(float(nats))


def _metric_cases(rng: np.random.Generator | None = None) -> list[Case]:
    values = (1.0, 0.5, 2.3, 4.1, 1.386) if rng is None else tuple(round(float(v), 4) for v in rng.uniform(0.05, 6.0, 5))
    return [Case(f"nats={v}", (v,)) for v in values]


function_exercise(
    "8.1",
    "bits per character and perplexity",
    2,
    reference=nats_to_bpc_and_perplexity,
    cases=_metric_cases,
    outputs=["bpc", "perplexity"],
    rtol=1e-9,
    mistakes=[
        (lambda n: (n * math.log(2.0), math.exp(n)), "bits = nats / ln 2, not nats * ln 2"),
        (lambda n: (n / math.log(10.0), math.exp(n)), "bits are base-2 logarithms: divide by ln 2, not ln 10"),
        (lambda n: (n / math.log(2.0), 2.0**n), "perplexity is exp(nats) (or 2**bpc), not 2**nats"),
        (lambda n: (n / math.log(2.0), math.exp(n / math.log(2.0))), "perplexity is exp(nats) = 2**bpc, not exp(bpc)"),
        (lambda n: (n / math.log(2.0), math.log(n)), "perplexity is the exponential of the loss, not its logarithm"),
    ],
    stars=2,
    minutes=15,
)


# --------------------------------------------------------------------------
# 8.2 the sampling distribution: temperature, top-k, top-p
# --------------------------------------------------------------------------
def sampling_distribution(logits, temperature, top_k, top_p):
    """Reference for 8.2 (the same as :func:`book.textgen.sampling_distribution` for temperature > 0)."""
    return _reference_distribution(logits, temperature, top_k, top_p)


def _sampling_cases(rng: np.random.Generator | None = None) -> list[Case]:
    V = 8 if rng is None else int(rng.integers(5, 14))
    settings = [(1.0, 0, 1.0), (0.5, 0, 1.0), (2.0, 0, 1.0), (1.0, 3, 1.0), (1.0, 0, 0.8), (0.7, 4, 0.9),
                (1.0, 0, 0.5), (1.3, 2, 1.0)]
    if rng is not None:  # hidden: each filter alone and together, other settings
        settings = [
            (round(float(rng.uniform(0.4, 2.5)), 2), k, p)
            for k, p in [(0, 1.0), (0, 1.0), (int(rng.integers(1, V)), 1.0), (0, round(float(rng.uniform(0.3, 0.95)), 2)),
                         (int(rng.integers(2, V)), round(float(rng.uniform(0.5, 0.95)), 2))]
        ]
    rng = np.random.default_rng(802) if rng is None else rng
    cases = []
    for t, k, p in settings:
        logits = rng.normal(scale=1.5, size=V)
        cases.append(Case(f"temperature={t}, top_k={k}, top_p={p}", (logits, t, k, p)))
    return cases


def _softmax(z):
    e = np.exp(z - np.max(z))
    return e / e.sum()


def _times_temperature(logits, t, k, p):
    return _reference_distribution(np.asarray(logits) * t * t, t, k, p)  # softmax(logits * t)


def _top_k_off_by_one(logits, t, k, p):
    return _reference_distribution(logits, t, k + 1 if k else 0, p)


def _nucleus_excludes_crossing(logits, t, k, p):
    probs = _softmax(np.asarray(logits, dtype=float) / t)
    order = np.argsort(-probs, kind="stable")
    keep = np.ones(probs.size, bool)
    if k:
        keep[order[k:]] = False
    if p < 1.0:
        mass = probs * keep
        cum = np.cumsum(mass[order]) / mass.sum()
        n = max(1, int(np.sum(cum < p)))  # stops before the character that crosses p
        keep[order[n:]] = False
    q = np.where(keep, probs, 0.0)
    return q / q.sum()


def _not_renormalised(logits, t, k, p):
    probs = _softmax(np.asarray(logits, dtype=float) / t)
    q = _reference_distribution(logits, t, k, p)
    return np.where(q > 0, probs, 0.0)


def _top_p_before_top_k(logits, t, k, p):
    q = _reference_distribution(logits, t, 0, p)
    return _reference_distribution(np.where(q > 0, np.asarray(logits, float), -np.inf), t, k, 1.0) if k else q


function_exercise(
    "8.2",
    "temperature, top-k and top-p",
    3,
    reference=sampling_distribution,
    cases=_sampling_cases,
    outputs=["probabilities"],
    mistakes=[
        (_times_temperature, "divide the logits by the temperature; multiplying inverts its effect"),
        (_top_k_off_by_one, "top-k keeps exactly k characters (off by one)"),
        (_nucleus_excludes_crossing, "the nucleus includes the character whose probability takes the total to top_p or beyond"),
        (_not_renormalised, "after cutting, renormalise the kept probabilities so they add up to 1"),
    ],
    stars=2,
    minutes=15,
)


# --------------------------------------------------------------------------
# 8.3 the cycle a deterministic generator falls into
# --------------------------------------------------------------------------
def find_cycle(successor, start):
    """Reference for 8.3: ``(mu, lam)``: the first state on the cycle is reached after ``mu`` steps; the cycle has ``lam`` states."""
    seen = {}
    state, t = int(start), 0
    while state not in seen:
        seen[state] = t
        state, t = int(successor[state]), t + 1
    mu = seen[state]
    return mu, t - mu


def _cycle_cases(rng: np.random.Generator | None = None) -> list[Case]:
    if rng is not None:  # hidden: a tail and a cycle of drawn lengths, then random maps
        mu, lam = (int(v) for v in rng.integers(1, 9, size=2))
        order = rng.permutation(mu + lam + 3)
        succ = rng.integers(0, mu + lam + 3, size=mu + lam + 3)
        for i in range(mu + lam - 1):
            succ[order[i]] = order[i + 1]
        succ[order[mu + lam - 1]] = order[mu]
        cases = [Case(f"a {lam}-cycle entered after {mu} steps", (succ, int(order[0])))]
        for S in rng.integers(10, 400, size=3):
            succ = rng.integers(0, S, size=S)
            cases.append(Case(f"random map on {S} states", (succ, int(rng.integers(S)))))
        return cases
    rng = np.random.default_rng(803)
    cases = [
        Case("a 5-cycle entered after 2 steps", (np.array([1, 2, 3, 4, 5, 6, 2]), 0)),
        Case("a fixed point", (np.array([1, 1, 0]), 0)),
        Case("start on the cycle", (np.array([1, 2, 0, 0]), 0)),
    ]
    for S in (20, 50, 200):
        succ = rng.integers(0, S, size=S)
        cases.append(Case(f"random map on {S} states", (succ, int(rng.integers(S)))))
    return cases


def _cycle_counts_first_repeat(succ, start):
    mu, lam = find_cycle(succ, start)
    return mu, mu + lam


def _cycle_off_by_one(succ, start):
    mu, lam = find_cycle(succ, start)
    return mu + 1, lam


def _cycle_from_start(succ, start):
    mu, lam = find_cycle(succ, start)
    return 0, lam


def _grade_cycle(fn, rng: np.random.Generator | None = None) -> str:
    if not callable(fn):
        raise Mismatch(f"expected a function, got {type(fn).__name__}")
    mistakes = [
        (_cycle_counts_first_repeat, "the second number is the cycle length, not the step of the first repeat (mu + lambda)"),
        (_cycle_off_by_one, "off by one: mu is the number of steps before the first state on the cycle (0 if start is on it)"),
        (_cycle_from_start, "the start may lie before the cycle: mu counts the steps until the cycle is entered"),
    ]
    for k, case in enumerate(_cycle_cases(rng), start=1):
        expected = find_cycle(*case.args)
        got = call_learner(fn, *case.args)
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise Mismatch(f"case {k} ({case.label}): return a pair (mu, lam), got {got!r:.60}")
        try:
            got_pair = (int(got[0]), int(got[1]))
        except (TypeError, ValueError):
            raise Mismatch(f"case {k} ({case.label}): mu and lam must be integers, got {got!r:.60}") from None
        if got_pair != expected:
            hint = next((h for w, h in mistakes if w(*case.args) == got_pair), "")
            raise Mismatch(
                f"case {k} ({case.label}): got (mu, lam) = {got_pair}, expected {expected}" + (f"; {hint}" if hint else "")
            )
    return ""


register(Exercise("8.3", "the cycle of a deterministic generator", 2, _grade_cycle, hidden=True, kind="implement", stars=2, minutes=15))


# --------------------------------------------------------------------------
# 8.4 encoding with an unknown-character symbol
# --------------------------------------------------------------------------
def encode(text, chars):
    """Reference for 8.4: ids of ``text`` in ``chars`` (``chars[0]`` is the unknown symbol)."""
    index = {c: i for i, c in enumerate(chars)}
    return np.array([index.get(c, 0) for c in text], dtype=np.int64)


def _encode_cases(rng: np.random.Generator | None = None) -> list[Case]:
    if rng is not None:  # hidden: another vocabulary, texts with and without unknown characters
        letters = list("abcdefghijklmnopqrstuvwxyz .,;!?")
        chars = [UNK, *sorted(rng.choice(letters, size=int(rng.integers(5, 15)), replace=False))]
        others = [c for c in letters + list("XYZ0123") if c not in chars]
        known = "".join(rng.choice(chars[1:], size=int(rng.integers(3, 20))))
        mixed = "".join(rng.choice(chars[1:] + others, size=int(rng.integers(5, 30))))
        return [
            Case("known characters only", (known, chars)),
            Case("unknown characters", (mixed + others[0], chars)),
            Case("all unknown", ("".join(rng.choice(others, size=4)), chars)),
        ]
    chars = [UNK, *sorted("abcdefghij ,.")]
    return [
        Case("known characters only", ("a bad cafe.", chars)),
        Case("unknown characters", ("a jolly big face!", chars)),
        Case("all unknown", ("XYZ", chars)),
        Case("repeated characters", ("ee, ee, jjj", [UNK, *sorted("ej, ")])),
    ]


def _grade_encode(fn, rng: np.random.Generator | None = None) -> str:
    if not callable(fn):
        raise Mismatch(f"expected a function, got {type(fn).__name__}")
    for k, case in enumerate(_encode_cases(rng), start=1):
        text, chars = case.args
        expected = encode(text, chars)
        got = call_learner(fn, *case.args)
        try:
            got_arr = np.asarray(got)
        except Exception:  # pragma: no cover
            raise Mismatch(f"case {k} ({case.label}): return an array of ids") from None
        if got_arr.ndim != 1 or got_arr.shape[0] != len(text):
            dropped = sum(c not in chars for c in text)
            hint = (
                "; unknown characters must become id 0, not be dropped"
                if dropped and got_arr.ndim == 1 and got_arr.shape[0] == len(text) - dropped
                else ""
            )
            raise Mismatch(f"case {k} ({case.label}): ids have shape {got_arr.shape}, expected ({len(text)},){hint}")
        if not np.issubdtype(got_arr.dtype, np.integer):
            if not (np.issubdtype(got_arr.dtype, np.floating) and np.all(got_arr == np.round(got_arr))):
                raise Mismatch(f"case {k} ({case.label}): ids must be integers, got dtype {got_arr.dtype}")
        problem = compare_array("ids", got_arr, expected, rtol=0, atol=0.5)
        if problem:
            unknown = np.array([c not in chars for c in text])
            hint = ""
            if unknown.any() and np.all(got_arr[~unknown] == expected[~unknown]):
                hint = f"; unknown characters must map to id 0 (the symbol {UNK!r}), you gave {sorted(set(got_arr[unknown].tolist()))}"
            elif np.all(got_arr[~unknown] == expected[~unknown] - 1):
                hint = "; off by one: id 0 is the unknown symbol, so chars[i] has id i"
            raise Mismatch(f"case {k} ({case.label}): {problem}{hint}")
    return ""


register(Exercise("8.4", "encoding with an unknown-character symbol", 2, _grade_encode, hidden=True, kind="implement", stars=2, minutes=15))


# --------------------------------------------------------------------------
# 8.5 softmax cross-entropy backward
# --------------------------------------------------------------------------
def softmax_ce_backward(logits, targets):
    """Reference for 8.5: gradient of the mean cross-entropy with respect to the logits (N, T, V)."""
    _, cache = softmax_cross_entropy_forward(logits, targets)
    return softmax_cross_entropy_backward(cache)


def _ce_cases(rng: np.random.Generator | None = None) -> list[Case]:
    shapes = [(2, 3, 5), (1, 4, 7), (3, 2, 4)] if rng is None else draw_shapes(rng, 3, N=(1, 4), T=(1, 6), V=(2, 12))
    rng = np.random.default_rng(805) if rng is None else rng
    cases = []
    for N, T, V in shapes:
        cases.append(Case(f"N={N}, T={T}, V={V}", (rng.normal(scale=2.0, size=(N, T, V)), rng.integers(0, V, size=(N, T)))))
    return cases


def _ce_no_mean(logits, targets):
    return softmax_ce_backward(logits, targets) * targets.size


def _ce_sign(logits, targets):
    return -softmax_ce_backward(logits, targets)


def _ce_no_onehot(logits, targets):
    z = logits - logits.max(-1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(-1, keepdims=True)
    return p / targets.size


def _ce_mean_over_vocab(logits, targets):
    return softmax_ce_backward(logits, targets) * targets.size / logits.size


function_exercise(
    "8.5",
    "softmax cross-entropy backward",
    3,
    reference=softmax_ce_backward,
    cases=_ce_cases,
    outputs=["dlogits"],
    mistakes=[
        (_ce_no_mean, "the loss is the mean over the N*T positions: divide by N*T"),
        (_ce_sign, "wrong sign: the gradient is softmax minus one-hot"),
        (_ce_no_onehot, "subtract 1 at the target of every position (softmax minus one-hot)"),
        (_ce_mean_over_vocab, "divide by the number of positions N*T, not by N*T*V"),
    ],
    stars=2,
    minutes=15,
)
