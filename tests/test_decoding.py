"""book.nn.decoding: greedy and beam search against exhaustive enumeration."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from book.nn.decoding import Tokens, beam_search, greedy, length_normalized

END = 0


def markov_model(V, seed, start=None, peaked=1.0):
    """A random model whose next-token distribution depends on (position, last token)."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(scale=peaked, size=(12, V + 1, V))
    table = logits - np.logaddexp.reduce(logits, axis=-1, keepdims=True)
    calls = []

    def step(state, token):
        calls.append((state, token))
        position = state
        return table[position, token].copy(), position + 1

    return step, table, calls


def all_hypotheses(table, start, end, max_len, V):
    """Every finished hypothesis and its total log-prob, by enumeration."""
    out = []
    for L in range(1, max_len + 1):
        for seq in itertools.product(range(V), repeat=L):
            if end in seq[:-1]:
                continue  # a hypothesis stops at its first end token
            if L < max_len and seq[-1] != end:
                continue  # shorter than max_len: must finish with end
            prev, total = start, 0.0
            for pos, tok in enumerate(seq):
                total += table[pos, prev, tok]
                prev = tok
            out.append((seq, total))
    return sorted(out, key=lambda h: -h[1])


@pytest.mark.parametrize("V,max_len,seed", [(2, 1, 0), (3, 3, 1), (4, 3, 2), (2, 5, 3), (5, 2, 4)])
def test_wide_beam_is_exhaustive_search(V, max_len, seed):
    step, table, _ = markov_model(V, seed)
    start = V  # the start token is not an output token here
    exact = all_hypotheses(table, start, END, max_len, V)
    found = beam_search(step, 0, start, END, beam_width=len(exact) + 3, max_len=max_len)
    assert len(found) == len(exact)  # beam wider than the number of hypotheses
    assert [tuple(t) for t, _ in found] == [s for s, _ in exact]
    np.testing.assert_allclose([p for _, p in found], [p for _, p in exact], rtol=1e-12)
    k = min(3, len(exact))
    top = beam_search(step, 0, start, END, beam_width=len(exact), max_len=max_len)[:k]
    assert [tuple(t) for t, _ in top] == [s for s, _ in exact[:k]]


@pytest.mark.parametrize("seed", range(8))
def test_width_one_is_greedy(seed):
    V, max_len = 4, 6
    step, table, _ = markov_model(V, seed)
    tokens, lp = greedy(step, 0, V, END, max_len)
    # greedy by hand
    prev, expected, total = V, [], 0.0
    for pos in range(max_len):
        tok = int(np.argmax(table[pos, prev]))
        expected.append(tok)
        total += table[pos, prev, tok]
        prev = tok
        if tok == END:
            break
    assert tokens == expected and lp == pytest.approx(total, rel=1e-12)
    (beam_tokens, beam_lp), = beam_search(step, 0, V, END, 1, max_len)
    assert beam_tokens == tokens and beam_lp == pytest.approx(lp, rel=1e-12)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("width", [2, 3, 5])
def test_beam_results_are_valid_and_sorted(seed, width):
    V, max_len = 3, 4
    step, table, _ = markov_model(V, seed)
    exact = dict(all_hypotheses(table, V, END, max_len, V))
    found = beam_search(step, 0, V, END, width, max_len)
    assert 1 <= len(found) <= width
    scores = [p for _, p in found]
    assert scores == sorted(scores, reverse=True)
    assert len({tuple(t) for t, _ in found}) == len(found)  # no duplicates
    for tokens, lp in found:
        assert lp == pytest.approx(exact[tuple(tokens)], rel=1e-12)
    assert max(exact.values()) >= found[0][1]


def test_end_emitted_first():
    table = np.log(np.array([[0.9, 0.05, 0.05]]))

    def step(state, token):
        return table[0], state

    found = beam_search(step, None, 1, 0, beam_width=2, max_len=4)
    assert found[0][0] == [0] and found[0][1] == pytest.approx(np.log(0.9))
    assert greedy(step, None, 1, 0, 4) == ([0], pytest.approx(np.log(0.9)))
    assert all(t[-1] == 0 or len(t) == 4 for t, _ in found)


def test_max_len_one_gives_single_tokens():
    lp = np.log(np.array([0.1, 0.6, 0.3]))
    found = beam_search(lambda s, t: (lp, s), None, 1, 0, beam_width=10, max_len=1)
    assert [t for t, _ in found] == [[1], [2], [0]]
    np.testing.assert_allclose([p for _, p in found], np.log([0.6, 0.3, 0.1]))


def test_decoding_starts_with_start_and_passes_states():
    step, _, calls = markov_model(3, 0)
    beam_search(step, 0, 3, END, beam_width=2, max_len=3)
    assert calls[0] == (0, 3)
    assert all(token != 3 and token != END for _, token in calls[1:])
    calls.clear()
    greedy(step, 0, 3, END, 3)
    assert calls[0] == (0, 3) and [s for s, _ in calls] == list(range(len(calls)))


def test_length_normalisation_changes_only_the_ranking():
    # end is likely early, a long path is likely per token
    def step(state, token):
        if state == 0:
            return np.log([0.4, 0.6]), 1
        return np.log([0.1, 0.9]), state + 1

    plain = beam_search(step, 0, 1, 0, beam_width=4, max_len=5)
    normed = beam_search(step, 0, 1, 0, beam_width=4, max_len=5, length_norm=1.0)
    assert plain[0][0] == [0]
    assert len(normed[0][0]) == 5
    assert sorted(plain, key=lambda h: h[1]) == sorted(normed, key=lambda h: h[1])
    scores = [length_normalized(p, len(t), 1.0) for t, p in normed]
    assert scores == sorted(scores, reverse=True)
    assert length_normalized(-6.0, 3, 0.0) == -6.0 and length_normalized(-6.0, 3) == -2.0


def test_ties_go_to_the_smaller_token():
    lp = np.log(np.full(4, 0.25))
    assert greedy(lambda s, t: (lp, s), None, 3, 1, 3)[0] == [0, 0, 0]
    found = beam_search(lambda s, t: (lp, s), None, 3, 1, beam_width=1, max_len=3)
    assert found[0][0] == [0, 0, 0]


def test_tokens_compare_with_lists_and_tuples():
    t = Tokens((3, 1))
    assert t == [3, 1] and t == (3, 1) and [3, 1] == t and t != [1, 3]
    assert {t: 1}[(3, 1)] == 1 and isinstance(t[0], int)


def test_input_errors():
    lp = np.log(np.full(3, 1 / 3))

    def step(s, t):
        return lp, s

    with pytest.raises(ValueError, match="beam_width"):
        beam_search(step, None, 1, 0, 0, 3)
    with pytest.raises(ValueError, match="max_len"):
        beam_search(step, None, 1, 0, 2, 0)
    with pytest.raises(TypeError, match="beam_width"):
        beam_search(step, None, 1, 0, 2.0, 3)
    with pytest.raises(ValueError, match="end = 5"):
        beam_search(step, None, 1, 5, 2, 3)
    with pytest.raises(ValueError, match="shape"):
        beam_search(lambda s, t: (np.zeros((2, 3)), s), None, 1, 0, 2, 3)
    with pytest.raises(ValueError, match="log_probs, new_state"):
        greedy(lambda s, t: lp, None, 1, 0, 3)
    with pytest.raises(ValueError, match="length_norm"):
        beam_search(step, None, 1, 0, 2, 3, length_norm=-1.0)
    with pytest.raises(ValueError, match="nan"):
        greedy(lambda s, t: (np.array([np.nan, 0.0]), s), None, 1, 0, 3)
