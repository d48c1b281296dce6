"""Exercises of Chapter 9b (classifying sequences; speech, music and video): cases, answers, hints."""

from __future__ import annotations

import functools

import numpy as np

from book.grading.core import (
    Case,
    Mismatch,
    call_learner,
    choice_exercise,
    debug_exercise,
    draw_shapes,
    experiment_exercise,
    function_exercise,
    type_name,
    value_exercise,
)


# --------------------------------------------------------------------------
# 9b.1 a bag of character pairs
# --------------------------------------------------------------------------
def pair_shares(codes, V):
    """Reference for 9b.1: (N, V * V), the share of each neighbour pair (a, b) at column a * V + b."""
    codes = np.asarray(codes)
    N, L = codes.shape
    pairs = codes[:, :-1] * V + codes[:, 1:]
    flat = (np.arange(N)[:, None] * V * V + pairs).ravel()
    return np.bincount(flat, minlength=N * V * V).reshape(N, V * V) / (L - 1)


def _pair_cases(rng: np.random.Generator | None = None) -> list[Case]:
    shapes = [(3, 6, 4), (2, 10, 3), (4, 2, 5)] if rng is None else draw_shapes(rng, 4, N=(1, 5), L=(2, 12), V=(2, 7))
    rng = np.random.default_rng(951) if rng is None else rng
    return [Case(f"N={N}, L={L}, V={V}", (rng.integers(0, V, size=(N, L)), V)) for N, L, V in shapes]


def _pairs_swapped(codes, V):
    c = np.asarray(codes)
    return pair_shares(c[:, ::-1], V)


def _pair_counts(codes, V):
    return pair_shares(codes, V) * (np.asarray(codes).shape[1] - 1)


def _over_length(codes, V):
    L = np.asarray(codes).shape[1]
    return pair_shares(codes, V) * (L - 1) / L


def _wrap_around(codes, V):
    c = np.asarray(codes)
    return pair_shares(np.concatenate([c, c[:, :1]], axis=1), V)


function_exercise(
    "9b.1",
    "a bag of character pairs",
    2,
    reference=pair_shares,
    cases=_pair_cases,
    outputs=["shares"],
    mistakes=[
        (_pairs_swapped, "the pair (a, b), a followed by b, belongs in column a * V + b; this counts it at b * V + a"),
        (_pair_counts, "these are counts; divide by the number of pairs, L - 1, so that each row sums to 1"),
        (_over_length, "a snippet of L characters has L - 1 neighbour pairs, not L"),
        (_wrap_around, "the last character has no right neighbour: no pair wraps around to the first"),
    ],
    stars=2,
    minutes=15,
)


# --------------------------------------------------------------------------
# 9b.2 debug: many-to-one on right-padded sequences
# --------------------------------------------------------------------------
def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _run(x, lengths, W_xh, W_hh, b_h, w, c, stop):
    h = np.zeros((x.shape[0], W_hh.shape[0]))
    for t in range(x.shape[1]):
        h_new = np.tanh(x[:, t] @ W_xh + h @ W_hh + b_h)
        h = np.where(stop(t, np.asarray(lengths))[:, None], h_new, h)
    return _sigmoid(h @ w + c)


def classify_padded(x, lengths, W_xh, W_hh, b_h, w, c):
    """Reference for 9b.2: P(class 1) (N,) from each sequence's state after its last real step."""
    return _run(x, lengths, W_xh, W_hh, b_h, w, c, lambda t, n: t < n)


def _reads_padding(x, lengths, W_xh, W_hh, b_h, w, c):
    """The given code of 9b.2: it runs every sequence through all T steps."""
    return _run(x, lengths, W_xh, W_hh, b_h, w, c, lambda t, n: np.ones_like(n, dtype=bool))


def _padded_cases(rng: np.random.Generator | None = None) -> list[Case]:
    shapes = [(3, 6, 2, 4), (4, 5, 3, 3), (2, 7, 1, 5)] if rng is None else draw_shapes(rng, 4, N=(2, 6), T=(3, 10), D=(1, 4), H=(1, 6))
    rng = np.random.default_rng(952) if rng is None else rng
    cases = []
    for N, T, D, H in shapes:
        lengths = rng.integers(1, T + 1, size=N)
        lengths[0] = max(1, T - 2)  # at least one sequence is padded
        x = rng.normal(size=(N, T, D)) * (np.arange(T)[None, :, None] < lengths[:, None, None])
        params = (rng.normal(scale=0.7, size=(D, H)), rng.normal(scale=0.7, size=(H, H)), rng.normal(scale=0.5, size=H))
        cases.append(Case(f"N={N}, T={T}, D={D}, H={H}, lengths={lengths.tolist()}",
                          (x, lengths, *params, rng.normal(size=H), float(rng.normal()))))
    return cases


debug_exercise(
    "9b.2",
    "many-to-one on padded sequences",
    3,
    reference=classify_padded,
    cases=_padded_cases,
    buggy=_reads_padding,
    outputs=["p"],
    mistakes=[
        (
            lambda *a: _run(*a, lambda t, n: t <= n),
            "off by one: a sequence of length n has steps 0 to n - 1; this also applies the first padding step",
        ),
        (
            lambda *a: _run(*a, lambda t, n: np.full_like(n, t < n.min(), dtype=bool)),
            "every sequence stops at the shortest length; each must stop at its own",
        ),
    ],
    stars=2,
    minutes=20,
)


# --------------------------------------------------------------------------
# 9b.3 derive: the steps a convolutional front end leaves of one second of audio
# --------------------------------------------------------------------------
value_exercise(
    "9b.3",
    "steps after a strided front end",
    1,
    expected=((16000 - 10) // 5 + 1 - 8) // 4 + 1,
    mistakes=[
        (800, "that divides by the strides only; a 'valid' window must fit inside the input, which costs kernel - 1 positions"),
        (3199, "that is after the first convolution; the second one shortens the sequence again"),
        (799, "rounded up: a window that would run past the end is not computed with 'valid' padding"),
    ],
    name="steps",
    stars=1,
    minutes=10,
)


# --------------------------------------------------------------------------
# 9b.4 derive: how many test snippets an interval of +-0.01 needs
# --------------------------------------------------------------------------
value_exercise(
    "9b.4",
    "test snippets for a narrow interval",
    1,
    expected=int(np.ceil(1.96**2 * 0.8 * 0.2 / 0.01**2)),
    mistakes=[
        (9604, "that uses p(1 - p) = 1/4, the worst case; the accuracy here is near 0.8"),
        (1600, "the factor 1.96 for a 95 % interval is missing"),
        (1537, "that is for a half-width of 0.02: the interval accuracy +- 0.01 has half-width 0.01"),
        (6146, "rounded down: with that many snippets the half-width is still just above 0.01"),
    ],
    name="snippets",
    stars=1,
    minutes=10,
)


# --------------------------------------------------------------------------
# 9b.5 interpret: which model cannot tell a snippet from its reverse
# --------------------------------------------------------------------------
choice_exercise(
    "9b.5",
    "a snippet and its reverse",
    1,
    correct="c",
    options="abcd",
    hints={
        "a": "reversing turns each neighbour pair 'xy' into 'yx', and those are counted in different columns",
        "b": "a learned filter is not symmetric in general: its response to a reversed patch of five is another number",
        "d": "each direction has its own weights, so swapping what the two read changes the joined state",
    },
    stars=1,
    minutes=5,
)


# --------------------------------------------------------------------------
# 9b.6 experiment: prose or code, on snippets the notebook never saw
# --------------------------------------------------------------------------
L_96B, PER_CLASS_96B, ACCURACY_96B = 32, 2000, 0.83


@functools.cache
def _test_parts() -> tuple[str, str]:
    """The last 20 % of each text: the notebook trains on the first 70 % and validates on the next 10 %."""
    from book.data import load_corpus, load_stdlib_source

    return tuple(text[int(0.8 * len(text)) :] for text in (load_corpus("python-docs"), load_stdlib_source()))


def held_out_snippets(rng: np.random.Generator, per_class: int = PER_CLASS_96B) -> tuple[list[str], np.ndarray]:
    """``per_class`` snippets of each class from random places of the test parts, labels 0 (prose), 1 (code)."""
    snippets = []
    for text in _test_parts():
        starts = rng.integers(0, len(text) - L_96B, size=per_class)
        snippets += [text[s : s + L_96B] for s in starts]
    return snippets, np.repeat([0, 1], per_class)


def _evaluate_classifier(predict, rng: np.random.Generator | None = None) -> str:
    if not callable(predict):
        raise Mismatch(f"expected a function predict(snippets), got {type_name(predict)}")
    snippets, labels = held_out_snippets(np.random.default_rng(9656) if rng is None else rng)
    got = call_learner(predict, snippets)
    try:
        got = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        raise Mismatch(f"predict returned a {type_name(got)}; expected an array of labels 0 or 1") from None
    if got.shape != labels.shape:
        raise Mismatch(f"predict returned shape {got.shape} for {len(labels)} snippets; expected ({len(labels)},)")
    if not np.isin(got, (0, 1)).all():
        raise Mismatch("predict must return labels 0 (prose) or 1 (code), not scores or probabilities")
    accuracy = float(np.mean(got == labels))
    text = f"accuracy {accuracy:.3f} on {len(labels)} held-out snippets of {L_96B} characters (chance 0.5)"
    if accuracy < ACCURACY_96B:
        raise Mismatch(f"{text}, needs at least {ACCURACY_96B}; a bag of single characters gets about 0.80")
    return text


experiment_exercise("9b.6", "prose or code, beyond single characters", 3, _evaluate_classifier, stars=2, minutes=30)
