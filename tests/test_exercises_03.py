"""Chapter 3 exercises: the reference answers pass, plausible wrong answers fail with a pointed message."""

from __future__ import annotations

import numpy as np
from helpers import assert_accepted, assert_rejected

from book.grading import get_exercise
from book.grading.checks import ch03 as checks_03
from book.nn import (
    rnn_backward,
    rnn_backward_truncated,
    rnn_forward,
    rnn_step_backward,
    rnn_step_forward,
    tbptt_chunked,
)


def hidden(exercise_id, answer, seed=1):
    """The result on hidden cases (other values and shapes), as the grader draws them."""
    return get_exercise(exercise_id).run(answer, rng=np.random.default_rng(seed))


def memorised(exercise_id, reference, cases):
    """A wrong answer special-cased to the visible inputs: the reference there, zeros elsewhere."""
    table = [(c.args, reference(*c.args)) for c in cases()]

    def answer(*args):
        for known, out in table:
            if all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(args, known, strict=True)):
                return out
        out = reference(*args)
        return tuple(0 * np.asarray(o) for o in out) if isinstance(out, tuple) else 0 * np.asarray(out)

    assert_accepted(exercise_id, answer)
    assert hidden(exercise_id, answer).status == "failed"


# --- a learner's own forward functions, with their own cache layouts -------
def my_step_forward(x, h_prev, W_xh, W_hh, b_h):
    h_next = np.tanh(x @ W_xh + h_prev @ W_hh + b_h)
    return h_next, {"x": x, "h_prev": h_prev, "W_xh": W_xh, "W_hh": W_hh, "h_next": h_next}


def my_step_backward(dh_next, cache, derivative=lambda h: 1 - h**2, transpose=True, h_in="h_prev"):
    da = dh_next * derivative(cache["h_next"])
    W_hh = cache["W_hh"].T if transpose else cache["W_hh"]
    return (da @ cache["W_xh"].T, da @ W_hh, cache["x"].T @ da, cache[h_in].T @ da, da.sum(0))


def test_3_1_step_backward():
    assert_accepted("3.1", rnn_step_backward)
    assert_accepted("3.1", rnn_step_backward, rnn_step_forward)
    assert_accepted("3.1", my_step_backward, my_step_forward)
    assert hidden("3.1", rnn_step_backward).status == "passed"
    assert_rejected("3.1", lambda d, c: my_step_backward(d, c, derivative=lambda h: 1), "tanh derivative", extra=(my_step_forward,))
    assert_rejected("3.1", lambda d, c: my_step_backward(d, c, derivative=lambda h: h * (1 - h)), "sigmoid", extra=(my_step_forward,))
    assert_rejected("3.1", lambda d, c: my_step_backward(d, c, derivative=lambda h: 1 - h), "derivative", extra=(my_step_forward,))
    assert_rejected("3.1", lambda d, c: my_step_backward(d, c, transpose=False), "transposed", extra=(my_step_forward,))
    assert_rejected("3.1", lambda d, c: my_step_backward(d, c, h_in="h_next"), "h_prev", extra=(my_step_forward,))
    wrong_db = lambda d, c: my_step_backward(d, c)[:4] + ((d * (1 - c["h_next"] ** 2)),)  # noqa: E731
    assert_rejected("3.1", wrong_db, "db_h", "shape", extra=(my_step_forward,))
    bad_forward = lambda x, h, Wx, Wh, b: my_step_forward(x, h, Wx, Wh, 0 * b)  # noqa: E731
    assert_rejected("3.1", my_step_backward, "rnn_step_forward is wrong", extra=(bad_forward,))
    assert_rejected("3.1", my_step_backward, "(output, cache)", extra=(lambda *a: my_step_forward(*a)[0],))


def test_3_2_debug_bptt():
    buggy = checks_03.buggy_bptt
    assert_accepted("3.2", checks_03.bptt)
    assert hidden("3.2", checks_03.bptt).status == "passed"
    assert get_exercise("3.2").run(buggy).status == "not attempted"  # the given code, unchanged
    assert hidden("3.2", buggy).status == "not attempted"
    assert_rejected("3.2", lambda *a: buggy(*a, gain_of_input=False), "stops before step t = 0")
    assert_rejected("3.2", lambda *a: buggy(*a, skip_first=False), "hs[t + 1]")
    # a third slip: dW_hh from the state step t produced instead of the one that went in
    def new_state(x, h0, Wx, Wh, b, dh):
        h, cache = rnn_forward(x, h0, Wx, Wh, b)
        out = list(rnn_backward(dh, cache))
        dx, dh0, *_ = out
        g, dW_hh = np.zeros_like(h0), np.zeros_like(Wh)
        for t in reversed(range(x.shape[1])):
            da = (dh[:, t] + g) * (1 - h[:, t] ** 2)
            dW_hh += h[:, t].T @ da
            g = da @ Wh.T
        out[3] = dW_hh
        return tuple(out)

    assert_rejected("3.2", new_state, "dW_hh first differs")
    assert_rejected("3.2", lambda *a: checks_03.bptt(*a)[:4], "at least 5")
    memorised("3.2", checks_03.bptt, checks_03._bptt_cases)


def test_3_3_truncated():
    ref = checks_03.truncated_gradients
    assert_accepted("3.3", ref)
    assert hidden("3.3", ref).status == "passed"
    assert_rejected("3.3", lambda *a: ref(*a[:-1], a[-1] + 1), "off by one", "k + 1")
    assert_rejected("3.3", lambda *a: ref(*a[:-1], max(a[-1] - 1, 1)), "off by one", "k - 1")
    assert_rejected("3.3", lambda *a: tbptt_chunked(*a)[:3], "chunked")
    assert_rejected("3.3", lambda *a: ref(*a[:-1], 10**6), "full BPTT")
    assert_rejected("3.3", lambda *a: ref(*a)[1:], "at least 3")
    memorised("3.3", ref, checks_03._trunc_cases)


def test_3_4_count():
    def by_loop(T, k):
        k_step = sum(1 for t in range(1, T + 1) for s in range(1, t + 1) if t - s < k)
        chunked = sum(1 for t in range(1, T + 1) for s in range(1, t + 1) if (s - 1) // k == (t - 1) // k)
        return np.array([k_step, chunked])

    assert_accepted("3.4", by_loop(45, 10))
    assert_accepted("3.4", [405, 235])
    assert_rejected("3.4", [450, 235], "min(t, k)")
    assert_rejected("3.4", [405, 220], "shorter")
    assert_rejected("3.4", [405, 405], "chunk's start")
    assert_rejected("3.4", [1035, 1035], "every term")
    assert_rejected("3.4", "405, 235", "text")


def test_3_5_char_gradients():
    char = checks_03._char
    assert_accepted("3.5", checks_03.char_gradients)
    assert hidden("3.5", checks_03.char_gradients).status == "passed"
    assert_rejected("3.5", lambda *a: char(*a, mean=False), "mean over all")
    assert_rejected("3.5", lambda *a: char(*a, soft=False), "softmax")
    assert_rejected("3.5", lambda *a: char(*a, k=1), "carried back")
    assert_rejected("3.5", lambda *a: char(*a, last=True), "every step")
    memorised("3.5", checks_03.char_gradients, checks_03._char_cases)


def train_delay(seed, backward="full", steps=500, H=16, lr=0.01, N=32, T=20):
    """The solution's recipe, with the book's BPTT (or a truncated or absent one)."""
    d = checks_03.DELAY
    rng = np.random.default_rng(seed)
    p = {"W_xh": rng.normal(size=(1, H)), "W_hh": rng.normal(scale=0.9 / np.sqrt(H), size=(H, H)),
         "b_h": np.zeros(H), "W_hy": rng.normal(scale=1 / np.sqrt(H), size=H), "b_y": np.zeros(())}
    m, v = ({k: np.zeros_like(a) for k, a in p.items()} for _ in range(2))
    for i in range(1, steps + 1):
        x, y = checks_03.delay_task(rng, N, T)
        h, cache = rnn_forward(x, np.zeros((N, H)), p["W_xh"], p["W_hh"], p["b_h"])
        dy = 2 * (h @ p["W_hy"] + p["b_y"] - y) / (N * (T - d))
        dy[:, :d] = 0.0
        dh = dy[..., None] * p["W_hy"]
        g = rnn_backward(dh, cache) if backward == "full" else rnn_backward_truncated(dh, cache, 1)
        if backward == "readout":
            g = [0 * a for a in g]
        grads = {"W_xh": g[2], "W_hh": g[3], "b_h": g[4], "W_hy": np.einsum("nth,nt->h", h, dy), "b_y": dy.sum()}
        for k in p:
            m[k] = 0.9 * m[k] + 0.1 * grads[k]
            v[k] = 0.999 * v[k] + 0.001 * grads[k] ** 2
            p[k] = p[k] - lr * m[k] / (1 - 0.9**i) / (np.sqrt(v[k] / (1 - 0.999**i)) + 1e-8)

    def predict(x):
        h, _ = rnn_forward(x, np.zeros((x.shape[0], H)), p["W_xh"], p["W_hh"], p["b_h"])
        return h @ p["W_hy"] + p["b_y"]

    return predict


def test_3_6_delay_experiment():
    for seed in range(5):  # the recipe clears the threshold from every seed, visible and hidden
        predict = train_delay(seed)
        assert_accepted("3.6", predict)
        assert hidden("3.6", predict, seed).status == "passed"
    assert_rejected("3.6", lambda x: np.zeros(x.shape[:2]), "held-out MSE", "below 0.2")
    assert_rejected("3.6", train_delay(0, backward="k1"), "held-out MSE")
    assert_rejected("3.6", train_delay(0, backward="readout"), "held-out MSE")
    assert_rejected("3.6", lambda x: np.roll(x[..., 0], 6, axis=1) * np.nan, "nan")
    assert_rejected("3.6", lambda x: x[:, :5, 0], "shape")
    assert_rejected("3.6", 3, "predict(x)")


def test_3_7_choice():
    assert_accepted("3.7", "a")
    for wrong, word in [("b", "read-out"), ("c", "not random"), ("d", "small, not zero")]:
        assert_rejected("3.7", wrong, word)
    assert_rejected("3.7", "e", "one letter")
