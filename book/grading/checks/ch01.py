"""Exercises of Chapter 1 (sequences and the recurrent neuron): cases, answers, hints.

1.5 is a debug exercise: the exercise notebook shows a buggy function, and an
answer that still computes what the buggy one does is "not attempted".
1.6 is an experiment: the learner trains a network in the notebook and hands
over its prediction function, scored on text the grader makes.
"""

from __future__ import annotations

from typing import Any

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
    value_exercise,
)


# --------------------------------------------------------------------------
# Shared by chapters 1 and 2
# --------------------------------------------------------------------------
def rnn_sequence_cases(
    seed: int | np.random.Generator,
    shapes: list[tuple[int, int, int, int]],
    weight_scale: float = 0.6,
    bias_scale: float = 0.3,
) -> list[Case]:
    """Cases ``(x, h0, W_xh, W_hh, b_h)`` for sequence-level RNN exercises, one per ``(N, T, D, H)``."""
    rng = np.random.default_rng(seed)  # a generator is used as it is
    return [
        Case(
            f"N={N}, T={T}, D={D}, H={H}",
            (
                rng.normal(size=(N, T, D)),
                rng.normal(size=(N, H)),
                rng.normal(scale=weight_scale, size=(D, H)),
                rng.normal(scale=weight_scale, size=(H, H)),
                rng.normal(scale=bias_scale, size=H),
            ),
        )
        for N, T, D, H in shapes
    ]


def hidden_sequence_shapes(rng: np.random.Generator) -> list[tuple[int, int, int, int]]:
    """Shapes ``(N, T, D, H)`` of hidden sequence cases."""
    return draw_shapes(rng, 4, N=(1, 4), T=(1, 11), D=(1, 5), H=(1, 6))


# --------------------------------------------------------------------------
# 1.1 what context a new language needs (derive)
# --------------------------------------------------------------------------
# Words "abcd" (probability q = 0.7) and "xbce".  Per word: after a/x and after b
# the next letter is sure; after c it depends on the first letter; after d/e the
# next word starts (right with probability 0.7 at best).
CONTEXT_BOUNDS = np.array([(2 + 2 * 0.7) / 4, (2 + 2 * 0.7) / 4, (3 + 0.7) / 4])

value_exercise(
    "1.1",
    "what context a new language needs",
    2,
    CONTEXT_BOUNDS,
    mistakes=[
        (
            np.array([(2 + 2 * 0.7) / 4, (3 + 0.7) / 4, (3 + 0.7) / 4]),
            "the two letters before d or e are 'b c' in both words: they do not tell the words apart",
        ),
        (
            np.array([(1 + 2 * 0.7) / 3, (2 + 0.7) / 3, (2 + 0.7) / 3]),
            "those are the chapter's three-letter words; here each word has four letters, so four predictions",
        ),
        (
            np.array([(2 + 2 * 0.7) / 4, (2 + 2 * 0.7) / 4, 1.0]),
            "no context predicts the first letter of the next word better than 'a is likelier'",
        ),
    ],
    rtol=1e-3,
    name="your three accuracies",
    stars=2,
    minutes=15,
)


# --------------------------------------------------------------------------
# 1.2 parameters of a stacked network (implement)
# --------------------------------------------------------------------------
def stacked_params(D: int, H: int, L: int, K: int) -> int:
    """Reference for 1.2: L SimpleRNN(H) layers stacked on D inputs, then Dense(K)."""
    first = D * H + H * H + H
    higher = (L - 1) * (H * H + H * H + H)  # each reads the H states of the layer below
    return first + higher + H * K + K


def _stacked_cases(rng: np.random.Generator | None = None) -> list[Case]:
    sizes = (
        [(8, 32, 1, 5), (3, 16, 2, 4), (10, 20, 3, 1), (1, 2, 4, 3)]
        if rng is None
        else draw_shapes(rng, 5, D=(1, 300), H=(1, 200), L=(2, 6), K=(1, 50))
    )
    return [Case(f"D={D}, H={H}, L={L}, K={K}", (D, H, L, K)) for D, H, L, K in sizes]


function_exercise(
    "1.2",
    "parameters of a stacked network",
    2,
    reference=stacked_params,
    cases=_stacked_cases,
    outputs=["count"],
    mistakes=[
        (
            lambda D, H, L, K: L * (D * H + H * H + H) + H * K + K,
            "only the first layer reads the D inputs; every layer above reads the H states below it",
        ),
        (
            lambda D, H, L, K: (D * H + H * H + H) + (L - 1) * (H * H + H) + H * K + K,
            "a higher layer has an input matrix (H x H) as well as its recurrent one",
        ),
        (
            lambda D, H, L, K: stacked_params(D, H, L, K) - K,
            "the Dense layer has a bias of K numbers",
        ),
        (
            lambda D, H, L, K: stacked_params(D, H, L, K) - L * H,
            "each recurrent layer has a bias of H numbers",
        ),
        (
            lambda D, H, L, K: D * H + H * H + H + H * K + K,
            "that is one recurrent layer; there are L of them",
        ),
    ],
    stars=2,
    minutes=10,
)


# --------------------------------------------------------------------------
# 1.3 a guarantee for a sigmoid cell (derive)
# --------------------------------------------------------------------------
# Gap bound (sigma_max * gain)^(t-1) with gain 1/4 (the logistic's largest slope) and
# sigma_max = 2: 0.5^(t-1) <= 1e-3 first at t - 1 = 10.
value_exercise(
    "1.3",
    "how soon a sigmoid cell must forget",
    2,
    11,
    mistakes=[
        (10, "off by one: the bound after step t is (factor)^(t-1) times the gap at step 1"),
        (0, "the sigmoid's largest slope, 1/4, multiplies sigma_max: here the bound does guarantee forgetting"),
        (12, "0.5^10 is already below 1e-3"),
        (6, "sigma_max = 2 multiplies the slope: the factor per step is 2 x 1/4, not 1/4"),
    ],
    name="t",
    stars=2,
    minutes=10,
)


# --------------------------------------------------------------------------
# 1.4 which networks have sequential memory (interpret)
# --------------------------------------------------------------------------
choice_exercise(
    "1.4",
    "which networks have sequential memory",
    1,
    correct="c",
    options="abcd",
    hints={
        "a": "the chapter's SimpleRNN has no gates, yet it answered differently after 'a b' and after 'x b'",
        "b": "trained weights are fixed: a per-step network gives the same output for the same input,"
        " whatever came before",
        "d": "the state is H numbers squeezed through a tanh at every step; a change to an early input fades",
    },
    stars=1,
    minutes=5,
)


# --------------------------------------------------------------------------
# 1.5 final states of padded sequences (debug)
# --------------------------------------------------------------------------
def last_states(x, lengths, h0, W_xh, W_hh, b_h):
    """Reference for 1.5: each sequence's state after its own last real step, (N, H)."""
    h = h0
    for t in range(x.shape[1]):
        h_new = np.tanh(x[:, t] @ W_xh + h @ W_hh + b_h)
        h = np.where((t < lengths)[:, None], h_new, h)
    return h


def _last_states_buggy(x, lengths, h0, W_xh, W_hh, b_h):
    """The code the exercise notebook shows: one padded step too many."""
    h = h0
    for t in range(x.shape[1]):
        h_new = np.tanh(x[:, t] @ W_xh + h @ W_hh + b_h)
        h = np.where((t <= lengths)[:, None], h_new, h)
    return h


def _padded_cases(rng: np.random.Generator | None = None) -> list[Case]:
    shapes = [(3, 5, 2, 3), (4, 6, 3, 2), (2, 4, 1, 4)] if rng is None else draw_shapes(rng, 4, N=(2, 5), T=(3, 9), D=(1, 4), H=(1, 5))
    base = rnn_sequence_cases(105 if rng is None else rng, shapes)
    gen = np.random.default_rng(106) if rng is None else rng
    cases = []
    for case, (N, T, _, _) in zip(base, shapes, strict=True):
        x, h0, W_xh, W_hh, b_h = case.args
        lengths = gen.integers(1, T + 1, size=N)
        lengths[0] = max(1, T - 2)  # at least one sequence is padded
        lengths[-1] = T  # and one is not
        x = np.where(np.arange(T)[None, :, None] < lengths[:, None, None], x, 0.0)
        cases.append(Case(f"{case.label}, lengths={lengths.tolist()}", (x, lengths, h0, W_xh, W_hh, b_h)))
    return cases


def _runs_padding(x, lengths, h0, W_xh, W_hh, b_h):
    return last_states(x, np.full_like(lengths, x.shape[1]), h0, W_xh, W_hh, b_h)


def _one_short(x, lengths, h0, W_xh, W_hh, b_h):
    return last_states(x, lengths - 1, h0, W_xh, W_hh, b_h)


debug_exercise(
    "1.5",
    "final states of padded sequences",
    2,
    reference=last_states,
    buggy=_last_states_buggy,
    cases=_padded_cases,
    outputs=["h_last"],
    mistakes=[
        (_runs_padding, "the padded steps (zeros after a sequence's end) still change the state"),
        (_one_short, "one step short: a sequence of length L has real inputs at t = 0 .. L-1"),
    ],
    stars=2,
    minutes=10,
)


# --------------------------------------------------------------------------
# 1.6 train a network on the four-letter words (experiment)
# --------------------------------------------------------------------------
LETTERS = "abcdex"  # indices 0..5
WORD_A, WORD_X = [0, 1, 2, 3], [5, 1, 2, 4]  # "abcd" and "xbce"


def make_words(n: int, rng: np.random.Generator, words: int = 15, q: float = 0.7) -> np.ndarray:
    """``n`` sequences of ``words`` random words, "abcd" with probability q, else "xbce"."""
    first = rng.random((n, words)) < q
    return np.where(first[..., None], WORD_A, WORD_X).reshape(n, 4 * words)


def best_context_accuracy(seqs: np.ndarray, context: int) -> float:
    """The best accuracy on ``seqs`` of any rule that sees only the last ``context`` letters."""
    start = np.full((len(seqs), context - 1), len(LETTERS))
    padded = np.concatenate([start, seqs], axis=1)
    counts: dict[tuple, np.ndarray] = {}
    for row in padded:
        for t in range(context - 1, len(row) - 1):
            key = tuple(row[t - context + 1 : t + 1])
            counts.setdefault(key, np.zeros(len(LETTERS)))[row[t + 1]] += 1
    return sum(c.max() for c in counts.values()) / sum(c.sum() for c in counts.values())


MARGIN_1_6 = 0.03


def evaluate_words(predict: Any, rng: np.random.Generator | None = None) -> str:
    """1.6: accuracy of ``predict(seqs) -> next-letter guesses`` on held-out text."""
    if not callable(predict):
        raise Mismatch(f"expected your prediction function, got {type(predict).__name__}")
    gen = np.random.default_rng(1601) if rng is None else rng
    n, words = (300, 15) if rng is None else (int(gen.integers(200, 400)), int(gen.integers(8, 20)))
    seqs = make_words(n, gen, words)
    out = call_learner(predict, seqs)
    guess = np.asarray(out)
    if guess.ndim == 3 and guess.shape[:2] == seqs.shape and guess.shape[2] == len(LETTERS):
        guess = guess.argmax(axis=-1)  # scores for each letter: take the likeliest
    if guess.shape != seqs.shape:
        raise Mismatch(
            f"predict returned shape {guess.shape} for sequences of shape {seqs.shape}; expected one guess"
            " per position (or scores of shape (N, T, 6))"
        )
    accuracy = float(np.mean(guess[:, :-1] == seqs[:, 1:]))
    bound = best_context_accuracy(seqs, 2)
    need = bound + MARGIN_1_6
    where = f"{n} held-out sequences of {words} words"
    if accuracy < need:
        raise Mismatch(
            f"accuracy {accuracy:.3f} on {where}; the best any rule seeing only the last two letters can do"
            f" there is {bound:.3f}, and the threshold is {need:.3f}: the network must remember the first"
            " letter of the word for three steps"
        )
    return f"accuracy {accuracy:.3f} on {where} (two-letter bound {bound:.3f}, threshold {need:.3f})"


experiment_exercise("1.6", "a network that remembers three steps back", 3, evaluate_words, stars=2, minutes=20)


# --------------------------------------------------------------------------
# 1.7 spectral radius and the step-by-step guarantee (interpret)
# --------------------------------------------------------------------------
choice_exercise(
    "1.7",
    "what a spectral radius below one promises",
    1,
    correct="b",
    options="abcd",
    hints={
        "a": "the one-step bound uses sigma_max, which is 1.6 here: a single step may stretch the gap",
        "c": "rho below 1 makes W_hh^k shrink to zero; it is rho above 1 that lets the linear part grow",
        "d": "nothing ties sigma_max to rho from above: rho is never above sigma_max, but sigma_max can stay well above 1",
    },
    stars=2,
    minutes=5,
)
