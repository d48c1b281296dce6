"""Exercises of Chapter 8 (the character-level text generator): cases, answers, hints."""

from __future__ import annotations

import functools
import math

import numpy as np

from book.grading.core import (
    Case,
    Exercise,
    Mismatch,
    call_learner,
    choice_exercise,
    compare_array,
    draw_shapes,
    experiment_exercise,
    function_exercise,
    register,
    value_exercise,
)
from book.textgen import UNK
from book.textgen import sampling_distribution as _reference_distribution
from book.textgen.charrnn import softmax_cross_entropy_backward, softmax_cross_entropy_forward

# --------------------------------------------------------------------------
# 8.1 derive: bits per character and perplexity of a mixture of positions
# --------------------------------------------------------------------------
# The model gives the right next character probability 1/2 at 3/4 of the
# positions and 1/16 at the other 1/4.
_BPC = 0.75 * 1.0 + 0.25 * 4.0
_MEAN_P = 0.75 * 0.5 + 0.25 / 16

value_exercise(
    "8.1",
    "bits per character and perplexity",
    2,
    np.array([_BPC, 2.0**_BPC]),
    mistakes=[
        (np.array([-math.log2(_MEAN_P), 1 / _MEAN_P]), "average the log-probabilities, not the probabilities"),
        (np.array([_BPC, 0.75 * 2 + 0.25 * 16]), "perplexity is 2**bpc, the geometric mean of 1/p, not its arithmetic mean"),
        (np.array([_BPC * math.log(2.0), 2.0**_BPC]), "the first number is in nats; bits use base-2 logarithms"),
        (np.array([_BPC, math.exp(_BPC)]), "perplexity is 2**bpc (or exp of the loss in nats), not exp(bpc)"),
    ],
    rtol=1e-3,
    name="(bpc, perplexity)",
    stars=2,
    minutes=10,
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
    minutes=20,
)


# --------------------------------------------------------------------------
# 8.3 debug: contiguous batches for a stateful model
# --------------------------------------------------------------------------
def _stream_cases(rng: np.random.Generator | None = None) -> list[Case]:
    if rng is None:
        sizes = [(25, 2, 4), (24, 2, 3), (40, 3, 5), (13, 4, 3)]
    else:  # hidden: lengths at, just past and well past a multiple of batch_size * seq_len
        sizes = []
        for B, S in draw_shapes(rng, 3, B=(2, 5), S=(2, 6)):
            K = int(rng.integers(1, 5))
            sizes += [(K * B * S + int(rng.integers(0, 2)), B, S), (K * B * S + int(rng.integers(2, B * S + 1)), B, S)]
    rng = np.random.default_rng(803) if rng is None else rng
    return [Case(f"len(ids)={n}, batch_size={B}, seq_len={S}", (rng.integers(0, 50, size=n), B, S)) for n, B, S in sizes]


def _stream_variant(layout=True, room=True, shift=1):
    def batches(ids, batch_size, seq_len):
        ids = np.asarray(ids)
        K = (len(ids) - (1 if room else 0)) // (batch_size * seq_len)
        L = K * seq_len
        x, y = ids[: batch_size * L], ids[shift : batch_size * L + shift]
        if layout:
            return tuple(v.reshape(batch_size, K, seq_len).transpose(1, 0, 2) for v in (x, y))
        return x.reshape(K, batch_size, seq_len), y.reshape(K, batch_size, seq_len)

    return batches


stream_batches = _stream_variant()
buggy_stream_batches = _stream_variant(layout=False, room=False)  # the code the exercise shows

function_exercise(
    "8.3",
    "debug contiguous batches",
    2,
    reference=stream_batches,
    cases=_stream_cases,
    outputs=["X", "Y"],
    mistakes=[
        (_stream_variant(layout=False), "row b of batch k + 1 must continue row b of batch k: cut the text into batch_size streams first, then slice each stream"),
        (_stream_variant(shift=0), "the targets are the inputs shifted by one character"),
    ],
    rtol=0,
    atol=0.5,
    kind="debug",
    stars=2,
    minutes=15,
)


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


register(Exercise("8.4", "encoding with an unknown-character symbol", 2, _grade_encode, hidden=True, kind="implement", stars=1, minutes=10))


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


# --------------------------------------------------------------------------
# 8.6 interpret: how many characters top-p keeps after a temperature
# --------------------------------------------------------------------------
choice_exercise(
    "8.6",
    "top-p after a temperature",
    1,
    correct="c",
    options="abcd",
    hints={
        "a": "the temperature flattens the distribution first: the most likely character alone then holds well under 0.8",
        "b": "0.55 + 0.3 reaches 0.8 only at temperature 1; top-p cuts the distribution after the logits are divided by 2",
        "d": "the nucleus stops at the first character that takes the running total to top_p or beyond",
    },
    stars=1,
    minutes=5,
)


# --------------------------------------------------------------------------
# 8.7 experiment: held-out bits per character of a small model
# --------------------------------------------------------------------------
SNIPPETS_8_7, LENGTH_8_7, THRESHOLD_8_7 = 48, 128, 2.6


@functools.lru_cache(maxsize=1)
def corpus_8_7() -> tuple[list[str], np.ndarray, np.ndarray]:
    """The vocabulary of the training piece of python-docs, its ids, and the test piece's ids."""
    from book.data import load_corpus

    text = load_corpus("python-docs")
    train, test = text[: int(round(len(text) * 0.8))], text[int(round(len(text) * 0.9)) :]
    chars = [UNK, *sorted(set(train) - {UNK})]
    return chars, encode(train, chars), encode(test, chars)


def _bits_per_char(logits: np.ndarray, snippets: np.ndarray) -> float:
    z = logits[:, :-1] - logits[:, :-1].max(axis=-1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    return float(-np.take_along_axis(log_p, snippets[:, 1:, None], axis=-1).mean() / math.log(2.0))


def evaluate_bpc(next_char_logits, rng: np.random.Generator | None = None) -> str:
    """Bits per character of ``next_char_logits(ids)`` on snippets of the test piece."""
    if not callable(next_char_logits):
        raise Mismatch(f"expected a function next_char_logits(ids), got {type(next_char_logits).__name__}")
    chars, _, test_ids = corpus_8_7()
    rng = np.random.default_rng(8070) if rng is None else rng
    starts = rng.integers(0, len(test_ids) - LENGTH_8_7, size=SNIPPETS_8_7)
    snippets = np.stack([test_ids[s : s + LENGTH_8_7] for s in starts])
    want = (SNIPPETS_8_7, LENGTH_8_7, len(chars))
    logits = np.asarray(call_learner(next_char_logits, snippets), dtype=np.float64)
    if logits.shape != want:
        raise Mismatch(f"next_char_logits(ids) returned shape {logits.shape}; expected {want} (N, T, V)")
    if not np.all(np.isfinite(logits)):
        raise Mismatch("next_char_logits(ids) returned NaN or inf")
    cut = int(rng.integers(LENGTH_8_7 // 4, 3 * LENGTH_8_7 // 4))
    changed = snippets.copy()
    changed[:, cut:] = rng.integers(1, len(chars), size=changed[:, cut:].shape)
    again = np.asarray(call_learner(next_char_logits, changed), dtype=np.float64)
    if again.shape != want or not np.allclose(again[:, :cut], logits[:, :cut], rtol=1e-4, atol=1e-4):
        raise Mismatch(
            f"changing the characters from position {cut} on changed your logits before it: the logits at "
            "position t may depend only on ids[:, :t + 1], the characters read so far"
        )
    bpc = _bits_per_char(logits, snippets)
    measured = f"{bpc:.2f} bits per character on {SNIPPETS_8_7} held-out snippets of {LENGTH_8_7} characters"
    if bpc > THRESHOLD_8_7:
        raise Mismatch(
            f"{measured}, above the threshold {THRESHOLD_8_7} (the unigram scores about 4.7, a count model of the last character about 3.3)"
        )
    return measured


experiment_exercise("8.7", "a small model under 2.6 bits per character", 3, evaluate_bpc, stars=2, minutes=25)
