"""Chapter 10 exercises: the reference answers pass, plausible wrong answers fail with a pointed message."""

from __future__ import annotations

import numpy as np
from helpers import assert_accepted, assert_rejected

from book.data.transduction import END, PAD, decoder_inputs, lengths_of, reverse_task
from book.grading import get_exercise
from book.grading.checks import ch10
from book.nn import beam_search, dot_attention_forward
from book.nn.gradcheck import numerical_gradient, rel_error


def hidden(exercise_id, answer, seed=1):
    """The result on hidden cases (other values and shapes), as the grader draws them."""
    return get_exercise(exercise_id).run(answer, rng=np.random.default_rng(seed))


def memorised(exercise_id, reference, cases):
    """A wrong answer special-cased to the visible inputs: the reference there, zeros elsewhere."""
    table = [(c.args, reference(*c.args)) for c in cases()]

    def answer(*args):
        for known, out in table:
            if all(np.shape(a) == np.shape(b) and np.array_equal(a, b) for a, b in zip(args, known, strict=True)):
                return out
        return tuple(0 * np.asarray(o) for o in reference(*args))

    assert_accepted(exercise_id, answer)
    assert hidden(exercise_id, answer).status == "failed"


# --------------------------------------------------------------------------
def test_10_1_dot_attention():
    ref = ch10.dot_attention
    assert_accepted("10.1", ref)
    assert_accepted("10.1", lambda q, K, V, m: dot_attention_forward(q, K, V, m)[:2])
    for seed in range(3):
        assert hidden("10.1", ref, seed).status == "passed"
    assert_rejected("10.1", lambda q, K, V, m: ch10._dot(q, K, V, m, scale=lambda d: 1.0), "sqrt(d)")
    assert_rejected("10.1", lambda q, K, V, m: ch10._dot(q, K, V, m, scale=lambda d: 1 / d), "not by d")
    assert_rejected("10.1", lambda q, K, V, m: ch10._dot(q, K, V, m, zero_fill=True), "exp(0) = 1")
    assert_rejected("10.1", lambda q, K, V, m: ch10._dot(q, K, V, m, over_all=True), "allowed positions only")

    def unshifted(q, K, V, m):  # no max subtracted: the large scores overflow
        with np.errstate(all="ignore"):
            e = np.where(m, np.exp(np.einsum("nsd,nd->ns", K, q) / np.sqrt(q.shape[1])), 0.0)
            a = e / e.sum(axis=1, keepdims=True)
        return np.einsum("ns,nsv->nv", a, V), a

    assert_rejected("10.1", unshifted, "large scores", "nan")

    def global_max(q, K, V, m):  # the max taken over masked positions too: allowed weights underflow
        s = np.einsum("nsd,nd->ns", K, q) / np.sqrt(q.shape[1])
        e = np.exp(s - s.max(axis=1, keepdims=True)) * m
        with np.errstate(all="ignore"):
            a = e / e.sum(axis=1, keepdims=True)
        return np.einsum("ns,nsv->nv", a, V), a

    assert hidden("10.1", global_max).status == "failed" or get_exercise("10.1").run(global_max).status == "failed"
    assert_rejected("10.1", lambda *a: ref(*a)[0], "expected a tuple")
    memorised("10.1", ref, ch10._dot_cases)


# --------------------------------------------------------------------------
def test_10_2_reference_matches_finite_differences():
    for rng in (None, np.random.default_rng(4)):
        for case in ch10._bilinear_cases(rng):
            g, q, K, W, m = case.args

            def forward(q=q, K=K, W=W, m=m):
                a = ch10._softmax(np.einsum("nsk,nk->ns", K, q @ W), m)
                return np.einsum("ns,nsk->nk", a, K)

            for x, dx in zip([q, K, W], ch10.bilinear_attention_backward(*case.args), strict=True):
                assert rel_error(dx, numerical_gradient(forward, x, g)) < 1e-6, case.label


def test_10_2_bilinear_backward():
    ref = ch10.bilinear_attention_backward
    b = ch10._bilinear_backward
    assert_accepted("10.2", ref)
    for seed in range(3):
        assert hidden("10.2", ref, seed).status == "passed"
    assert_rejected("10.2", lambda *a: b(*a, value_path=False), "value path")
    assert_rejected("10.2", lambda *a: b(*a, score_path=False), "score path")
    assert_rejected("10.2", lambda *a: b(*a, jacobian=False), "sum term")
    assert_rejected("10.2", lambda *a: (*ref(*a)[:2], ref(*a)[2].T), "dW", "transposed")
    assert_rejected("10.2", lambda *a: ref(*a)[:2], "at least 3")
    memorised("10.2", ref, ch10._bilinear_cases)


# --------------------------------------------------------------------------
def test_10_3_reference_is_the_books_beam_and_exact_when_wide():
    for rng in [None] + [np.random.default_rng(s) for s in range(10)]:
        for label, (table, end, width) in ch10._beam_cases(rng):
            T, _, V = table.shape
            book = beam_search(lambda j, tok: (table[j, tok], j + 1), 0, V, end, width, T)  # noqa: B023
            mine = ch10.beam_search_table(table, end, width)
            assert ch10._same_hyps([(tuple(t), lp) for t, lp in book], mine), label
            every = ch10.every_hypothesis(table, end)
            if width >= len(every):
                assert ch10._same_hyps(every, mine), label
            if width == 1:  # greedy
                tokens, prev = [], V
                for j in range(T):
                    tokens.append(int(np.argmax(table[j, prev])))
                    prev = tokens[-1]
                    if prev == end:
                        break
                assert mine[0][0] == tuple(tokens)


def test_10_3_beam_search():
    ref = ch10.beam_search_table
    assert_accepted("10.3", ref)
    assert_accepted("10.3", lambda t, e, w: [(list(tok), np.float64(lp)) for tok, lp in ref(t, e, w)])
    for seed in range(5):
        assert hidden("10.3", ref, seed).status == "passed"
    for flags, word in [
        (dict(shrink=False), "leaves the beam"),
        (dict(stop=False), "as soon as its last token is end"),
        (dict(rank="last"), "not by their last token"),
        (dict(keep_end=False), "end token stays"),
        (dict(norm=True), "not by the mean"),
    ]:
        assert_rejected("10.3", lambda t, e, w, f=flags: ch10._beam(t, e, w, **f), word)
    assert_rejected("10.3", lambda t, e, w: ref(t, e, w)[:1], "returned 1 hypothesis; expected 2")
    assert_rejected("10.3", lambda t, e, w: ref(t, e, w)[::-1], "hypothesis 1 (best first)")
    assert_rejected("10.3", lambda t, e, w: {"best": ref(t, e, w)}, "list of (tokens, log_prob)")
    # special-cased to the visible tables
    visible = [(args, ref(*args)) for _, args in ch10._beam_cases()]

    def memorised_beam(t, e, w):
        for (t0, e0, w0), out in visible:
            if t.shape == t0.shape and np.array_equal(t, t0) and (e, w) == (e0, w0):
                return out
        return [((e,), 0.0)]

    assert_accepted("10.3", memorised_beam)
    assert hidden("10.3", memorised_beam).status == "failed"


# --------------------------------------------------------------------------
def test_10_4_debug_teacher_forcing():
    ref = ch10.teacher_forcing_batch
    assert_accepted("10.4", ref)
    assert_accepted("10.4", lambda t: (decoder_inputs(t), (t != PAD).astype(float)))
    assert hidden("10.4", ref).status == "passed"
    given = ch10._tf_batch_given
    assert get_exercise("10.4").run(given).status == "not attempted"
    assert hidden("10.4", given).status == "not attempted"
    assert_rejected("10.4", lambda t: ch10._tf_batch(t, shift=0), "step j reads")
    assert_rejected("10.4", lambda t: ch10._tf_batch(t, with_end=False), "learn to stop")
    assert_rejected("10.4", lambda t: ch10._tf_batch(t, shift=-1), "wrong way")
    assert_rejected("10.4", lambda t: ch10._tf_batch(t, all_weights=True), "weight 0")
    assert_rejected("10.4", lambda t: ch10._tf_batch(t, drop_end=False), "becomes PAD")
    memorised("10.4", ref, ch10._tf_cases)


# --------------------------------------------------------------------------
def reverser(max_length=99, skip_end=False):
    """A perfect reverser of strings up to ``max_length`` letters (longer ones come out unreversed)."""

    def predict(source):
        source = np.asarray(source)
        out = np.full((len(source), source.shape[1] + 1), PAD)
        for i, L in enumerate(lengths_of(source)):
            letters = source[i, :L][::-1] if L <= max_length else source[i, :L]
            out[i, :L] = letters
            out[i, L] = PAD if skip_end else END
        return out

    return predict


def test_10_5_experiment():
    assert_accepted("10.5", reverser())
    for seed in range(5):
        assert hidden("10.5", reverser(), seed).status == "passed"
    assert_rejected("10.5", reverser(max_length=4), "whole-string accuracy", "at least 0.85")
    assert_rejected("10.5", reverser(skip_end=True), "whole-string accuracy")
    assert_rejected("10.5", lambda s: np.concatenate([s, np.full((len(s), 1), END)], 1), "accuracy")  # a copier
    assert_rejected("10.5", lambda s: np.full((len(s), s.shape[1] + 1), 3), "accuracy")  # a constant guess
    assert_rejected("10.5", lambda s: s, "shape")
    assert_rejected("10.5", 0.9, "predict(source)")
    # the test strings are the grader's own: none of them is a training string of the solution
    src_train, _ = reverse_task(3000, (2, 6), 8, "train", seed=0)
    test, _ = reverse_task(500, ch10.REVERSAL_LENGTHS, 8, "test", seed=1005)
    seen = {tuple(r[r != PAD]) for r in src_train}
    assert not any(tuple(r[r != PAD]) in seen for r in test)


# --------------------------------------------------------------------------
def test_10_6_choice():
    assert_accepted("10.6", "c")
    for wrong, word in [("a", "first letters"), ("b", "bidirectional"), ("d", "exactly 0")]:
        assert_rejected("10.6", wrong, word)
    assert_rejected("10.6", "e", "one letter")


def test_10_7_memory():
    assert_accepted("10.7", np.array([12_288_000, 12_288, 500]))
    assert_rejected("10.7", [6_144_000, 12_288, 1000], "key AND a value")
    assert_rejected("10.7", [8 * 12_288_000, 12_288, 63], "heads")
    assert_rejected("10.7", [3_072_000, 3072, 500], "bytes")
    assert_rejected("10.7", [12_288_000, 24_576, 1000], "LSTM")
    assert_rejected("10.7", [12_288_000, 12_288, 501], "first differs")
