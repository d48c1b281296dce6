"""Chapter 1 exercises: the reference answers pass, plausible wrong answers fail with a pointed message."""

from __future__ import annotations

import numpy as np
from helpers import assert_accepted, assert_rejected

from book.grading import get_exercise
from book.grading.checks import ch01 as checks_01


def hidden(exercise_id, answer, seed=1):
    """The result on hidden cases (other values and shapes), as the grader draws them."""
    return get_exercise(exercise_id).run(answer, rng=np.random.default_rng(seed))


def memorised(exercise_id, reference, cases):
    """A wrong answer special-cased to the visible inputs: right there, zeros elsewhere; fails hidden."""
    table = [(c.args, reference(*c.args)) for c in cases()]

    def answer(*args):
        for known, out in table:
            if all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(args, known, strict=True)):
                return out
        return 0 * np.asarray(reference(*args))

    assert_accepted(exercise_id, answer)
    assert hidden(exercise_id, answer).status == "failed"


def test_1_1_context_bounds():
    assert_accepted("1.1", [0.85, 0.85, 0.925])
    assert_accepted("1.1", np.array([17 / 20, 17 / 20, 37 / 40]))
    assert_rejected("1.1", [0.85, 0.925, 0.925], "do not tell the words apart")
    assert_rejected("1.1", [0.8, 0.9, 0.9], "four letters")
    assert_rejected("1.1", [0.85, 0.85, 1.0], "next word")
    assert_rejected("1.1", [0.85, 0.85], "shape")
    assert_rejected("1.1", "0.85", "text")


def test_1_2_stacked_params():
    import keras

    for D, H, L, K in [(8, 32, 1, 5), (3, 4, 3, 2)]:  # the reference agrees with Keras
        model = keras.Sequential(
            [keras.Input((None, D))]
            + [keras.layers.SimpleRNN(H, return_sequences=True) for _ in range(L)]
            + [keras.layers.Dense(K)]
        )
        assert model.count_params() == checks_01.stacked_params(D, H, L, K)
    assert_accepted("1.2", checks_01.stacked_params)
    assert hidden("1.2", checks_01.stacked_params).status == "passed"
    assert_rejected("1.2", lambda D, H, L, K: L * (D * H + H * H + H) + H * K + K, "D inputs")
    assert_rejected("1.2", lambda D, H, L, K: D * H + H * H + H + (L - 1) * (H * H + H) + H * K + K, "input matrix")
    assert_rejected("1.2", lambda D, H, L, K: checks_01.stacked_params(D, H, L, K) - K, "Dense", "bias")
    assert_rejected("1.2", lambda D, H, L, K: D * H + H * H + H + H * K + K, "L of them")
    memorised("1.2", checks_01.stacked_params, checks_01._stacked_cases)


def test_1_3_sigmoid_forgetting():
    assert_accepted("1.3", 11)
    assert_accepted("1.3", 11.0)
    assert_rejected("1.3", 10, "off by one")
    assert_rejected("1.3", 0, "1/4")
    assert_rejected("1.3", 6, "sigma_max = 2 multiplies")
    assert_rejected("1.3", "11", "text")


def test_1_4_choice():
    assert_accepted("1.4", "c")
    assert_accepted("1.4", " C ")
    assert_rejected("1.4", "a", "no gates")
    assert_rejected("1.4", "b", "same output for the same input")
    assert_rejected("1.4", "d", "fades")
    assert_rejected("1.4", 3, "one letter")


def test_1_5_debug_padded_states():
    assert_accepted("1.5", checks_01.last_states)
    assert hidden("1.5", checks_01.last_states).status == "passed"
    # the code as given, bug included, is not an attempt
    assert get_exercise("1.5").run(checks_01._last_states_buggy).status == "not attempted"
    assert hidden("1.5", checks_01._last_states_buggy).status == "not attempted"

    def loop_all(x, lengths, h0, Wx, Wh, b):  # the padding is run through as well
        h = h0
        for t in range(x.shape[1]):
            h = np.tanh(x[:, t] @ Wx + h @ Wh + b)
        return h

    assert_rejected("1.5", loop_all, "padded steps")

    def one_short(x, lengths, h0, Wx, Wh, b):
        return checks_01.last_states(x, lengths - 1, h0, Wx, Wh, b)

    assert_rejected("1.5", one_short, "one step short")
    assert_rejected("1.5", lambda x, lengths, h0, Wx, Wh, b: checks_01.last_states(x, lengths, h0, Wx, Wh, b)[None], "shape")
    memorised("1.5", checks_01.last_states, checks_01._padded_cases)


# --- 1.6: rules that see a fixed number of letters stand in for trained networks --------
def context_rule(context):
    """The best rule that sees the last ``context`` letters, learned from text of our own."""
    train = checks_01.make_words(200, np.random.default_rng(7))
    counts = {}
    padded = np.concatenate([np.full((len(train), context - 1), -1), train], axis=1)
    for row in padded:
        for t in range(context - 1, len(row) - 1):
            counts.setdefault(tuple(row[t - context + 1 : t + 1]), np.zeros(6))[row[t + 1]] += 1

    def predict(seqs):
        padded = np.concatenate([np.full((len(seqs), context - 1), -1), seqs], axis=1)
        out = np.zeros(seqs.shape, dtype=int)
        for n, row in enumerate(padded):
            for t in range(seqs.shape[1]):
                key = tuple(row[t : t + context])
                out[n, t] = int(np.argmax(counts[key])) if key in counts else 0
        return out

    return predict


def test_1_6_experiment():
    three = context_rule(3)
    assert_accepted("1.6", three)
    for seed in range(5):  # clears the threshold on every hidden draw
        assert hidden("1.6", three, seed).status == "passed"
    scores = lambda seqs: np.eye(6)[three(seqs)]  # noqa: E731 - scores of shape (N, T, 6) count too
    assert_accepted("1.6", scores)
    # the best per-step and two-letter rules stop at the two-letter bound
    assert_rejected("1.6", context_rule(1), "accuracy", "threshold")
    assert_rejected("1.6", context_rule(2), "last two letters", "three steps")
    assert_rejected("1.6", lambda seqs: np.full(seqs.shape, 1), "accuracy")  # a constant guess
    assert_rejected("1.6", lambda seqs: seqs[:, :-1], "shape")
    assert_rejected("1.6", 0.9, "prediction function")


def test_1_6_bound_matches_the_derivation():
    seqs = checks_01.make_words(2000, np.random.default_rng(3), words=30)
    bounds = [checks_01.best_context_accuracy(seqs, k) for k in (1, 2, 3)]
    assert np.allclose(bounds, checks_01.CONTEXT_BOUNDS, atol=0.01)  # 1.1's answer, measured


def test_1_7_choice():
    assert_accepted("1.7", "b")
    assert_rejected("1.7", "a", "sigma_max")
    assert_rejected("1.7", "c", "rho above 1")
    assert_rejected("1.7", "d", "well above 1")


def test_choice_hints_do_not_name_the_answer():
    for exercise_id, right in [("1.4", "c"), ("1.7", "b")]:
        for letter in "abcd":
            if letter != right:
                message = get_exercise(exercise_id).run(letter).message
                assert f"({right})" not in message and "correct" not in message.lower()
