"""Exercises of Chapter 10 (sequence to sequence: decoding and attention): cases, answers, hints.

10.1 and 10.2 are attention functions (forward with a mask; the backward pass of a
bilinear score whose keys are also the values), 10.3 beam search over a table
model, 10.4 a teacher-forcing batch with two bugs, 10.5 an experiment graded on
strings the learner never saw, 10.6 a choice, 10.7 memory counts.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from book.data.transduction import END, PAD, START, lengths_of, reverse_task
from book.grading.core import (
    Case,
    Exercise,
    Mismatch,
    call_learner,
    choice_exercise,
    draw_shapes,
    experiment_exercise,
    function_exercise,
    register,
    type_name,
    value_exercise,
)


# --------------------------------------------------------------------------
# 10.1 scaled dot-product attention with a mask (implement)
# --------------------------------------------------------------------------
def _softmax(scores, mask, over_all=False, zero_fill=False):
    if zero_fill:  # masked scores set to 0, then a plain softmax
        scores, mask = np.where(mask, scores, 0.0), np.ones_like(mask)
    s = np.where(mask, scores, -np.inf)
    e = np.where(mask, np.exp(s - s.max(axis=1, keepdims=True)), 0.0)
    if over_all:  # normalised over every position, masked ones zeroed afterwards
        e_all = np.exp(scores - scores.max(axis=1, keepdims=True))
        return np.where(mask, e_all / e_all.sum(axis=1, keepdims=True), 0.0)
    return e / e.sum(axis=1, keepdims=True)


def _dot(q, K, V, mask, scale=None, **how):
    d = q.shape[1]
    scores = np.einsum("nsd,nd->ns", K, q) * (1 / np.sqrt(d) if scale is None else scale(d))
    a = _softmax(scores, mask, **how)
    return np.einsum("ns,nsv->nv", a, V), a


def dot_attention(q, K, V, mask):
    """Reference for 10.1: ``(context (N, dv), weights (N, S))``."""
    return _dot(q, K, V, mask)


def _masks(rng: np.random.Generator, N: int, S: int) -> np.ndarray:
    mask = rng.random((N, S)) < 0.7
    mask[np.arange(N), rng.integers(0, S, size=N)] = True  # at least one allowed
    if N > 1 and S > 1:
        mask[0] = False
        mask[0, rng.integers(0, S)] = True  # a row with one allowed position
    return mask


def _dot_cases(rng: np.random.Generator | None = None) -> list[Case]:
    shapes = [(2, 4, 3, 2), (3, 5, 4, 3), (2, 6, 8, 1)] if rng is None else draw_shapes(
        rng, 4, N=(1, 4), S=(1, 7), d=(1, 9), dv=(1, 5))
    gen = np.random.default_rng(1001) if rng is None else rng
    cases = []
    for k, (N, S, d, dv) in enumerate(shapes):
        big = k == len(shapes) - 1  # scores in the hundreds: exp overflows unless shifted
        q = gen.normal(scale=30.0 if big else 1.0, size=(N, d))
        K = gen.normal(scale=30.0 if big else 1.0, size=(N, S, d))
        mask = _masks(gen, N, S)
        K = np.where(mask[..., None], K, 40.0 * K)  # masked positions may score far higher
        label = f"N={N}, S={S}, d={d}, dv={dv}" + (", large scores" if big else "")
        cases.append(Case(label, (q, K, gen.normal(size=(N, S, dv)), mask)))
    return cases


function_exercise(
    "10.1",
    "masked scaled dot-product attention",
    2,
    reference=dot_attention,
    cases=_dot_cases,
    outputs=["context", "weights"],
    mistakes=[
        (lambda q, K, V, m: _dot(q, K, V, m, scale=lambda d: 1.0), "the scores are divided by sqrt(d)"),
        (lambda q, K, V, m: _dot(q, K, V, m, scale=lambda d: 1 / d), "divide by sqrt(d), not by d"),
        (lambda q, K, V, m: _dot(q, K, V, m, zero_fill=True),
         "a masked score set to 0 still enters the softmax: exp(0) = 1 is not a zero weight"),
        (lambda q, K, V, m: _dot(q, K, V, m, over_all=True),
         "the softmax must be over the allowed positions only: zeroing masked weights afterwards "
         "leaves weights that do not sum to 1"),
    ],
    stars=1,
    minutes=15,
)


# --------------------------------------------------------------------------
# 10.2 backward pass of bilinear attention with values = keys (implement)
# --------------------------------------------------------------------------
def _bilinear_backward(dcontext, q, K, W, mask, value_path=True, score_path=True, jacobian=True):
    qW = q @ W  # (N, dk)
    a = _softmax(np.einsum("nsk,nk->ns", K, qW), mask)
    da = np.einsum("nsk,nk->ns", K, dcontext)
    de = a * (da - np.sum(a * da, axis=1, keepdims=True)) if jacobian else a * da
    dK = np.zeros_like(K)
    if value_path:
        dK = dK + a[:, :, None] * dcontext[:, None, :]
    if score_path:
        dK = dK + de[:, :, None] * qW[:, None, :]
    u = np.einsum("ns,nsk->nk", de, K)  # (N, dk)
    return u @ W.T, dK, q.T @ u


def bilinear_attention_backward(dcontext, q, K, W, mask):
    """Reference for 10.2: ``(dq, dK, dW)`` of ``context = sum_s a_s K_s``, ``e_s = q W K_s``."""
    return _bilinear_backward(dcontext, q, K, W, mask)


def _bilinear_cases(rng: np.random.Generator | None = None) -> list[Case]:
    shapes = [(2, 4, 3, 3), (3, 5, 2, 4), (1, 3, 4, 2)] if rng is None else draw_shapes(
        rng, 4, N=(1, 4), S=(1, 6), dq=(1, 5), dk=(1, 5))
    gen = np.random.default_rng(1002) if rng is None else rng
    cases = []
    for N, S, dq, dk in shapes:
        args = (gen.normal(size=(N, dk)), gen.normal(size=(N, dq)), gen.normal(size=(N, S, dk)),
                gen.normal(scale=0.7, size=(dq, dk)), _masks(gen, N, S))
        cases.append(Case(f"N={N}, S={S}, dq={dq}, dk={dk}", args))
    return cases


function_exercise(
    "10.2",
    "the backward pass of bilinear attention",
    3,
    reference=bilinear_attention_backward,
    cases=_bilinear_cases,
    outputs=["dq", "dK", "dW"],
    mistakes=[
        (lambda *a: _bilinear_backward(*a, value_path=False),
         "K is also the values: dK needs the value path a_s * dcontext as well as the score path"),
        (lambda *a: _bilinear_backward(*a, score_path=False),
         "K also enters the scores: dK needs the score path de_s * (q W) as well as a_s * dcontext"),
        (lambda *a: _bilinear_backward(*a, jacobian=False),
         "through the softmax, de_s = a_s (da_s - sum_r a_r da_r): the sum term is missing"),
        (lambda g, q, K, W, m: tuple(x.T if x.ndim == 2 and x.shape[0] == x.shape[1] and i == 2 else x
                                     for i, x in enumerate(_bilinear_backward(g, q, K, W, m))),
         "dW is transposed: it has W's shape (dq, dk), dW = q^T (sum_s de_s K_s)"),
    ],
    stars=3,
    minutes=30,
)


# --------------------------------------------------------------------------
# 10.3 beam search over a table model (implement)
# --------------------------------------------------------------------------
def _beam(table, end, width, shrink=True, stop=True, rank="total", keep_end=True, norm=False):
    """Beam search on ``table[j, prev] -> log-probs (V,)``; prev = V before the first token."""
    T, _, V = table.shape
    alive: list[tuple[tuple[int, ...], float]] = [((), 0.0)]
    finished: list[tuple[tuple[int, ...], float]] = []
    for j in range(T):
        cands = []
        for tokens, total in alive:
            lp = table[j, tokens[-1] if tokens else V]
            cands += [((*tokens, v), total + float(lp[v]), float(lp[v])) for v in range(V)]
        cands.sort(key=lambda c: -(c[1] if rank == "total" else c[2]))  # stable
        keep = width - len(finished) if shrink else width
        alive = []
        for tokens, total, _ in cands[:keep]:
            if (stop and tokens[-1] == end) or len(tokens) == T:
                finished.append((tokens, total))
            else:
                alive.append((tokens, total))
        if not alive:
            break
    finished.sort(key=lambda f: -(f[1] / len(f[0]) if norm else f[1]))
    out = finished[:width]
    if not keep_end:
        out = [(t[:-1] if t[-1] == end else t, s) for t, s in out]
    return out


def beam_search_table(table, end, beam_width):
    """Reference for 10.3: at most ``beam_width`` pairs ``(tokens, log_prob)``, best first."""
    return _beam(table, end, beam_width)


def every_hypothesis(table, end):
    """Every finished hypothesis of a table model with its log-probability, best first."""
    T, _, V = table.shape
    out = []
    for L in range(1, T + 1):
        for seq in itertools.product(range(V), repeat=L):
            if end in seq[:-1] or (L < T and seq[-1] != end):
                continue
            prev = (V, *seq[:-1])
            out.append((seq, float(sum(table[j, p, t] for j, (p, t) in enumerate(zip(prev, seq, strict=True))))))
    return sorted(out, key=lambda h: -h[1])


def _table(gen: np.random.Generator, T: int, V: int, end: int, end_bias: float = 0.0) -> np.ndarray:
    """Log-probabilities (T, V + 1, V) of a random model; ``end_bias`` makes ``end`` likelier."""
    alpha = float(gen.choice([0.5, 1.0, 3.0]))
    p = gen.dirichlet(np.full(V, alpha), size=(T, V + 1)) + 1e-9
    p = p * np.where(np.arange(V) == end, np.exp(end_bias), 1.0)
    return np.log(p / p.sum(axis=-1, keepdims=True))


def _beam_cases(rng: np.random.Generator | None = None) -> list[tuple[str, tuple]]:
    """(label, (table, end, beam_width)); the last case is as wide as every hypothesis."""
    gen = np.random.default_rng(1003) if rng is None else rng
    if rng is None:
        specs = [(4, 3, 1, 0), (3, 4, 2, 1), (1, 2, 3, 0), (5, 3, 3, 2), (4, 3, None, 1)]
    else:
        specs = [(T, V, w, int(gen.integers(0, V))) for T, V, w in draw_shapes(gen, 4, T=(1, 6), V=(2, 4), w=(1, 5))]
        T, V = (int(x) for x in draw_shapes(gen, 1, T=(2, 4), V=(2, 4))[0])
        specs.append((T, V, None, int(gen.integers(0, V))))
    cases = []
    for k, (T, V, w, end) in enumerate(specs):
        table = _table(gen, T, V, end, end_bias=1.5 if k == 3 else 0.0)  # case 4: many end early
        if w is None:
            w = len(every_hypothesis(table, end))
        cases.append((f"T={T}, V={V}, end={end}, beam_width={w}", (table, end, w)))
    return cases


def _as_hyps(got: Any) -> list[tuple[tuple[int, ...], float]]:
    if not isinstance(got, (list, tuple)):
        raise Mismatch(f"returned a {type_name(got)}; expected a list of (tokens, log_prob) pairs")
    hyps = []
    for i, item in enumerate(got, start=1):
        try:
            tokens, lp = item
            hyps.append((tuple(int(t) for t in tokens), float(lp)))
        except (TypeError, ValueError):
            raise Mismatch(f"item {i} of the list is not a pair (tokens, log_prob)") from None
    return hyps


def _same_hyps(a, b) -> bool:
    return len(a) == len(b) and all(
        ta == tb and np.isclose(la, lb, rtol=1e-9, atol=1e-9) for (ta, la), (tb, lb) in zip(a, b, strict=True))


BEAM_MISTAKES = [
    (dict(shrink=False), "a finished hypothesis leaves the beam, which keeps beam_width - (finished so far) "
     "candidates from then on"),
    (dict(stop=False), "a hypothesis is finished as soon as its last token is end; it is not extended further"),
    (dict(rank="last"), "candidates are ranked by their total log-probability, not by their last token's"),
    (dict(keep_end=False), "the end token stays in the tokens of a hypothesis that emitted it"),
    (dict(norm=True), "hypotheses are ranked by their total log-probability, not by the mean per token"),
]


def _count(n: int) -> str:
    return f"{n} hypothesis" if n == 1 else f"{n} hypotheses"


def grade_beam(fn: Any, rng: np.random.Generator | None = None) -> str:
    """Grade ``beam_search(table, end, beam_width)`` against the reference, hypothesis by hypothesis."""
    if not callable(fn):
        raise Mismatch(f"expected a function, got {type_name(fn)}")
    for k, (label, args) in enumerate(_beam_cases(rng), start=1):
        where = f"case {k} ({label})"
        expected = beam_search_table(*args)
        try:
            got = _as_hyps(call_learner(fn, *args))
        except Mismatch as exc:
            raise Mismatch(f"{where}: {exc}") from None
        if _same_hyps(got, expected):
            continue
        hints = [h for flags, h in BEAM_MISTAKES if _same_hyps(got, _beam(*args, **flags))]
        hint = f"; {'; or '.join(hints)}" if hints else ""
        if args[2] >= len(every_hypothesis(args[0], args[1])):
            hint += "; with a beam this wide nothing is pruned: the answer is every hypothesis, best first"
        for i, (want, lp) in enumerate(expected):
            if i >= len(got):
                raise Mismatch(f"{where}: returned {_count(len(got))}; expected {len(expected)}, the next being "
                               f"{list(want)} (log p {lp:.4g}){hint}")
            if got[i][0] != want or not np.isclose(got[i][1], lp, rtol=1e-9, atol=1e-9):
                raise Mismatch(f"{where}: hypothesis {i + 1} (best first) is {list(got[i][0])} with log p "
                               f"{got[i][1]:.4g}; expected {list(want)} with log p {lp:.4g}{hint}")
        raise Mismatch(f"{where}: returned {_count(len(got))}; expected {len(expected)}{hint}")
    return ""


register(Exercise("10.3", "beam search", 3, grade_beam, hidden=True, kind="implement", stars=2, minutes=25))


# --------------------------------------------------------------------------
# 10.4 fix a teacher-forcing batch (debug)
# --------------------------------------------------------------------------
def _tf_batch(target, shift=1, with_end=True, all_weights=False, drop_end=True):
    inputs = np.full_like(target, PAD)
    inputs[:, 0] = START
    if shift == 1:
        inputs[:, 1:] = target[:, :-1]
    elif shift == 0:
        inputs[:, 1:] = target[:, 1:]
    else:  # shifted the wrong way: START overwritten
        inputs[:, :-1] = target[:, 1:]
    if drop_end:
        inputs[inputs == END] = PAD
    weights = np.ones(target.shape) if all_weights else (target != PAD if with_end else target > END)
    return inputs, np.asarray(weights, dtype=float)


def teacher_forcing_batch(target):
    """Reference for 10.4: decoder inputs and loss weights for teacher forcing."""
    return _tf_batch(target)


def _tf_batch_given(target):
    return _tf_batch(target, shift=0, with_end=False)


def _tf_cases(rng: np.random.Generator | None = None) -> list[Case]:
    specs = [(4, 2, 5, 5), (6, 1, 3, 6), (3, 3, 7, 4)] if rng is None else draw_shapes(
        rng, 4, N=(2, 7), lo=(1, 3), hi=(3, 8), symbols=(2, 9))
    seed = 1004 if rng is None else int(rng.integers(2**31))
    cases = []
    for k, (N, lo, hi, n_symbols) in enumerate(specs):
        hi = max(lo, hi)
        _, target = reverse_task(N, (lo, hi), n_symbols, "train", seed=seed + k)
        cases.append(Case(f"target {target.shape}, {lo} to {hi} letters", (target,)))
    return cases


function_exercise(
    "10.4",
    "fix a teacher-forcing batch",
    2,
    reference=teacher_forcing_batch,
    cases=_tf_cases,
    outputs=["inputs", "weights"],
    mistakes=[
        (lambda t: _tf_batch(t, shift=0), "the inputs still read the token they should predict: step j reads "
         "target[:, j - 1]"),
        (lambda t: _tf_batch(t, with_end=False), "the weights still leave out the end token: a model never "
         "scored on it does not learn to stop"),
        (lambda t: _tf_batch(t, shift=-1), "shifted the wrong way: step j reads the token before it, target[:, j - 1]"),
        (lambda t: _tf_batch(t, all_weights=True), "the padding after the end token must get weight 0"),
        (lambda t: _tf_batch(t, drop_end=False), "nothing is read after the end token: it becomes PAD in the inputs"),
    ],
    kind="debug",
    given=_tf_batch_given,
    stars=1,
    minutes=10,
)


# --------------------------------------------------------------------------
# 10.5 train a model that reverses strings (experiment)
# --------------------------------------------------------------------------
REVERSAL_LENGTHS, REVERSAL_SYMBOLS, REVERSAL_THRESHOLD = (2, 6), 8, 0.85


def evaluate_reversal(predict: Any, rng: np.random.Generator | None = None) -> str:
    """10.5: whole-string accuracy of ``predict(source) -> outputs`` on held-out test strings."""
    if not callable(predict):
        raise Mismatch(f"expected your function predict(source), got {type_name(predict)}")
    n = 500 if rng is None else int(rng.integers(400, 601))
    width = REVERSAL_LENGTHS[1] if rng is None else int(rng.integers(REVERSAL_LENGTHS[1], REVERSAL_LENGTHS[1] + 4))
    seed = 1005 if rng is None else int(rng.integers(2**31))
    source, target = reverse_task(n, REVERSAL_LENGTHS, REVERSAL_SYMBOLS, "test", seed=seed, width=width)
    try:
        out = np.asarray(call_learner(predict, source), dtype=float)
    except (TypeError, ValueError):
        raise Mismatch("predict(source) must return an array of token ids") from None
    if out.shape != target.shape:
        raise Mismatch(f"predict returned shape {out.shape} for sources of shape {source.shape}; expected "
                       f"{target.shape}, one token per output step (the letters reversed, then END)")
    L = lengths_of(source)
    upto = np.arange(target.shape[1])[None, :] <= L[:, None]  # the letters and the end token
    right = np.all((out == target) | ~upto, axis=1)
    acc, letters = float(right.mean()), float(np.mean(out[upto] == target[upto]))
    where = (f"on {n} held-out strings of {REVERSAL_LENGTHS[0]} to {REVERSAL_LENGTHS[1]} letters "
             f"padded to {width}")
    if not acc >= REVERSAL_THRESHOLD:
        raise Mismatch(f"whole-string accuracy {acc:.3f} {where} ({letters:.3f} of the tokens right); it must be "
                       f"at least {REVERSAL_THRESHOLD}")
    return f"whole-string accuracy {acc:.3f} {where} (threshold {REVERSAL_THRESHOLD})"


experiment_exercise("10.5", "train a model that reverses strings", 3, evaluate_reversal, stars=2, minutes=30)


# --------------------------------------------------------------------------
# 10.6 why attention does not extrapolate in length (interpret)
# --------------------------------------------------------------------------
choice_exercise(
    "10.6",
    "why attention fails past the training lengths",
    2,
    correct="c",
    options="abcd",
    hints={
        "a": "the first letters of a long string's reversal still come out right, so the context can still "
        "pick one letter out of 14; a blur that spoils every step would spoil those too",
        "b": "each key is a bidirectional GRU output, made next to its own letter by one of the two directions; "
        "the chapter's heat map shows the early output steps finding their letters on long inputs",
        "d": "the mask comes from the source itself, PAD or not, at any width: the weights on padding are "
        "exactly 0 on inputs of every length",
    },
    stars=2,
    minutes=5,
)


# --------------------------------------------------------------------------
# 10.7 a Transformer's key-value cache against a GRU's state (derive)
# --------------------------------------------------------------------------
# 6 layers, d = 512 (8 heads of 64), float32, 500 tokens: keys and values per layer per token.
KV = 2 * 6 * 500 * 512 * 4
GRU_STATE = 6 * 512 * 4
KV_FACTOR_TOKENS = 500  # 2 t >= 1000

value_exercise(
    "10.7",
    "the memory of a decoder that generates",
    2,
    np.array([KV, GRU_STATE, KV_FACTOR_TOKENS], dtype=float),
    mistakes=[
        (np.array([KV // 2, GRU_STATE, 1000]), "each layer caches a key AND a value for every token"),
        (np.array([8 * KV, GRU_STATE, 63]), "the 8 heads split the 512 numbers among them (8 x 64): "
         "they do not multiply the cache"),
        (np.array([KV // 6, GRU_STATE // 6, KV_FACTOR_TOKENS]), "every one of the 6 layers keeps its own "
         "keys, values and state"),
        (np.array([KV // 4, GRU_STATE // 4, KV_FACTOR_TOKENS]), "the answer is in bytes: float32 takes 4 "
         "bytes a number"),
        (np.array([KV, 2 * GRU_STATE, 1000]), "a GRU layer keeps one vector of 512 numbers, not two "
         "(that is an LSTM, with its cell)"),
    ],
    name="your [cache bytes, GRU state bytes, tokens]",
    stars=1,
    minutes=10,
)
