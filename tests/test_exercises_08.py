"""Chapter 8 exercises: the reference answers pass, plausible wrong answers fail with a pointed message."""

from __future__ import annotations

import math

import numpy as np
from helpers import assert_accepted, assert_rejected

from book.grading import get_exercise
from book.grading.checks import ch08 as checks_08


def test_8_1_derived_bpc_and_perplexity():
    assert_accepted("8.1", (1.75, 2**1.75))
    assert_accepted("8.1", np.array([1.75, 3.364]))
    mean_p = 0.75 * 0.5 + 0.25 / 16
    assert_rejected("8.1", (-math.log2(mean_p), 1 / mean_p), "log-probabilities")
    assert_rejected("8.1", (1.75, 5.5), "geometric mean")
    assert_rejected("8.1", (1.75 * math.log(2), 2**1.75), "nats")
    assert_rejected("8.1", (1.75, math.exp(1.75)), "exp(bpc)")
    assert_rejected("8.1", 1.75, "shape")


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


def test_8_3_debug_stream_batches():
    from book.textgen import stream_batches as book_stream_batches

    assert_accepted("8.3", checks_08.stream_batches)
    assert_accepted("8.3", lambda ids, B, S: book_stream_batches(ids, B, S))
    assert_rejected("8.3", checks_08.buggy_stream_batches, "continue row b")
    assert_rejected("8.3", checks_08._stream_variant(room=False), "ValueError")
    assert_rejected("8.3", checks_08._stream_variant(shift=0), "shifted by one")

    def fitted(ids, B, S):  # right only at the visible lengths
        return checks_08.stream_batches(ids, B, S) if len(ids) in (25, 24, 40, 13) else checks_08.buggy_stream_batches(ids, B, S)

    assert get_exercise("8.3").run(fitted).status == "passed"
    assert get_exercise("8.3").run(fitted, rng=np.random.default_rng(3)).status == "failed"


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


def test_8_6_choice():
    assert_accepted("8.6", "c")
    assert_rejected("8.6", "a", "flattens")
    assert_rejected("8.6", "b", "temperature 1")
    assert_rejected("8.6", "d", "nucleus stops")


def test_8_6_answer_is_what_the_sampler_does():
    logits = np.log(np.array([0.55, 0.3, 0.1, 0.05]))
    q = checks_08.sampling_distribution(logits, 2.0, 0, 0.8)
    assert int((q > 0).sum()) == 3
    assert int((checks_08.sampling_distribution(logits, 1.0, 0, 0.8) > 0).sum()) == 2


def _ngram_model(order):
    """A count model on the training piece: unigram (order 1) or bigram (order 2), add-0.1 smoothing."""
    chars, train_ids, _ = checks_08.corpus_8_7()
    V = len(chars)
    if order == 1:
        p = np.bincount(train_ids, minlength=V) + 0.1
        return lambda ids: np.broadcast_to(np.log(p / p.sum()), (*np.shape(ids), V)).copy()
    counts = np.full((V, V), 0.1)
    np.add.at(counts, (train_ids[:-1], train_ids[1:]), 1.0)
    table = np.log(counts / counts.sum(axis=1, keepdims=True))
    return lambda ids: table[np.asarray(ids)]


def test_8_7_experiment():
    chars, _, test_ids = checks_08.corpus_8_7()
    V = len(chars)
    assert_rejected("8.7", _ngram_model(1), "above the threshold 2.6")
    assert_rejected("8.7", _ngram_model(2), "above the threshold 2.6")
    assert_rejected("8.7", lambda ids: np.zeros((*np.shape(ids), V)), "above the threshold")

    def peeks(ids):  # reads the next character: perfect, but not a language model
        ids = np.asarray(ids)
        out = np.full((*ids.shape, V), -10.0)
        nxt = np.concatenate([ids[:, 1:], ids[:, -1:]], axis=1)
        np.put_along_axis(out, nxt[..., None], 10.0, axis=-1)
        return out

    assert_rejected("8.7", peeks, "may depend only on")
    assert_rejected("8.7", lambda ids: np.zeros((*np.shape(ids), V - 1)), "shape")
    # a model that knows the test text (what training on it would give) passes, visible and hidden
    counts = np.full((V, V), 1e-3)
    np.add.at(counts, (test_ids[:-1], test_ids[1:]), 1.0)
    table = np.log(counts / counts.sum(axis=1, keepdims=True))
    cheat_trigram = _trigram_on(test_ids, V)
    assert_accepted("8.7", cheat_trigram)
    assert get_exercise("8.7").run(cheat_trigram, rng=np.random.default_rng(4)).status == "passed"
    assert table.shape == (V, V)


def _trigram_on(ids_source, V):
    counts = np.full((V, V, V), 1e-3)
    np.add.at(counts, (ids_source[:-2], ids_source[1:-1], ids_source[2:]), 1.0)
    table = np.log(counts / counts.sum(axis=-1, keepdims=True))

    def logits(ids):
        ids = np.asarray(ids)
        out = np.zeros((*ids.shape, V))
        out[:, 1:] = table[ids[:, :-1], ids[:, 1:]]
        return out

    return logits
