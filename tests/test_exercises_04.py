"""Chapter 4 exercises: the reference answers pass, plausible wrong answers fail with a pointed message."""

from __future__ import annotations

import numpy as np
from helpers import assert_accepted, assert_rejected

from book.grading import get_exercise
from book.grading.checks import ch04 as checks_04


def hidden(exercise_id, answer, seed=1):
    return get_exercise(exercise_id).run(answer, rng=np.random.default_rng(seed))


def memorised(exercise_id, reference, cases):
    """Special-cased to the visible inputs: the reference there, zeros elsewhere; fails on hidden cases."""
    table = [(c.args, reference(*c.args)) for c in cases()]

    def answer(*args):
        for known, out in table:
            if all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(args, known, strict=True)):
                return out
        out = reference(*args)
        return tuple(0 * o for o in out) if isinstance(out, tuple) else 0 * out

    assert_accepted(exercise_id, answer)
    assert hidden(exercise_id, answer).status == "failed"


def test_4_1_leaky_jacobian():
    leaky = checks_04._leaky
    assert_accepted("4.1", checks_04.leaky_jacobian)
    assert hidden("4.1", checks_04.leaky_jacobian).status == "passed"

    def with_diag(hp, h, W, a):
        c = (h - (1 - a) * hp) / a
        return (1 - a) * np.eye(len(h)) + a * W @ np.diag(1 - c**2)

    assert_accepted("4.1", with_diag)
    assert_rejected("4.1", lambda *a: leaky(*a, gain_of_state=True), "candidate")
    assert_rejected("4.1", lambda *a: leaky(*a, keep=False), "identity")
    assert_rejected("4.1", lambda *a: leaky(*a, transpose=True), "transposed")
    assert_rejected("4.1", lambda *a: leaky(*a, alpha_on_W=False), "weight alpha")
    assert_rejected("4.1", lambda hp, h, W, a: W * (1 - h**2)[None, :], "J first differs")
    memorised("4.1", checks_04.leaky_jacobian, checks_04._leaky_cases)


def _loop(h, W, order="right", norm=2, gain=True):
    T, H = h.shape
    P, out = np.eye(H), []
    for t in reversed(range(T)):
        J = W * (1 - h[t] ** 2)[None, :] if gain else W
        P = J @ P if order == "right" else P @ J
        out.append(np.linalg.norm(P, norm))
    return np.array(out)


def test_4_2_jacobian_norms():
    assert_accepted("4.2", checks_04.jacobian_norms_of_states)
    assert_accepted("4.2", _loop)
    assert hidden("4.2", _loop).status == "passed"
    assert_rejected("4.2", lambda h, W: _loop(h, W, order="left"), "order")
    assert_rejected("4.2", lambda h, W: _loop(h, W, norm="fro"), "frobenius")
    assert_rejected("4.2", lambda h, W: _loop(h, W, gain=False), "derivative")
    assert_rejected("4.2", lambda h, W: np.concatenate([[1.0], _loop(h, W)[:-1]]), "off by one")
    assert_rejected("4.2", lambda h, W: _loop(h, W)[:-1], "shape")
    memorised("4.2", checks_04.jacobian_norms_of_states, checks_04._norm_cases)


def test_4_3_clipping():
    def per_array(a, b, c, m):
        return tuple(g * min(1.0, m / np.linalg.norm(g)) for g in (a, b, c))

    def always(a, b, c, m):
        n = np.sqrt(np.sum(a**2) + np.sum(b**2) + np.sum(c**2))
        return a * m / n, b * m / n, c * m / n

    assert_accepted("4.3", checks_04.clip_gradients)
    assert hidden("4.3", checks_04.clip_gradients).status == "passed"
    assert_rejected("4.3", per_array, "global norm")
    assert_rejected("4.3", lambda a, b, c, m: tuple(np.clip(g, -m, m) for g in (a, b, c)), "value clipping")
    assert_rejected("4.3", always, "unchanged")
    assert_rejected("4.3", lambda a, b, c, m: (a, b, c), "dW_xh")
    memorised("4.3", checks_04.clip_gradients, checks_04._clip_cases)


def test_4_4_choice_feedback_does_not_give_the_answer_away():
    assert_accepted("4.4", "d")
    for wrong, word in [("a", "sigma_max"), ("b", "same factor"), ("c", "1/4"), ("e", "alike")]:
        assert_rejected("4.4", wrong, word)
        message = get_exercise("4.4").run(wrong).message.lower()
        assert "(d)" not in message and "gate" not in message and "z =" not in message
    assert_rejected("4.4", "f", "one letter")


def test_4_5_bound():
    sigma = np.linalg.norm(checks_04.W_BOUND, 2)
    lags = [int(np.ceil(np.log(1e-4) / np.log(sigma * g))) for g in (1, 0.25)]
    assert_accepted("4.5", np.array(lags))
    assert_accepted("4.5", [42, 6])
    assert_rejected("4.5", [12, 5], "singular value")
    assert_rejected("4.5", [41, 5], "rounds up")
    assert_rejected("4.5", [42, 42], "1/4")


def train_sum(seed, lr=0.3, max_norm=1.0, steps=300, H=16):
    """The solution's recipe: SGD on the sum of the last three inputs, norm-clipped."""
    from book.nn.dynamics import stacked_rnn_backward, stacked_rnn_forward

    rng = np.random.default_rng(seed)  # the solution's initial weights, one model on a leading axis
    W_hh = rng.normal(size=(H, H))
    W_hh *= 1.2 / np.max(np.abs(np.linalg.eigvals(W_hh)))
    p = {"W_hh": W_hh[None], "W_xh": rng.normal(size=(1, 1, H)), "b_h": np.zeros((1, H)),
         "W_hy": rng.normal(scale=1 / np.sqrt(H), size=(1, H)), "b_y": np.zeros(1)}
    data = np.random.default_rng(100 + seed)
    for _ in range(steps):
        x, y = checks_04.sum_task(data, 32, 30)
        with np.errstate(all="ignore"):
            pred, cache = stacked_rnn_forward(p, x)
            g = stacked_rnn_backward(2 * (pred - y) / 32, cache)
            norm = np.sqrt(sum(np.sum(a**2) for a in g.values()))
            scale = min(1.0, max_norm / norm) if np.isfinite(norm) else 0.0
            for k in p:
                p[k] = p[k] - lr * scale * g[k]

    def predict(x):
        with np.errstate(all="ignore"):
            return stacked_rnn_forward(p, x)[0][0]

    return predict


def test_4_6_clipping_experiment():
    for seed in range(5):
        predict = train_sum(seed)
        assert_accepted("4.6", predict)
        assert hidden("4.6", predict, seed).status == "passed"
    unclipped = [get_exercise("4.6").run(train_sum(seed, max_norm=np.inf)).status for seed in range(5)]
    assert unclipped.count("failed") >= 3  # "diverges from most seeds", as the exercise says
    assert_rejected("4.6", train_sum(2, max_norm=np.inf), "held-out MSE inf", "below 0.3")  # diverged
    assert_rejected("4.6", train_sum(0, steps=0), "held-out MSE")  # untrained
    assert_rejected("4.6", lambda x: np.zeros(len(x)), "held-out MSE", "about 3")
    assert_rejected("4.6", lambda x: x[:, -1, 0], "held-out MSE")  # only the last input
    assert_rejected("4.6", lambda x: x[:, -3:, 0], "shape")
