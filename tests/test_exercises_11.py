"""Chapter 11 exercises: the reference answers pass, plausible wrong answers fail with a pointed message."""

from __future__ import annotations

import numpy as np
from helpers import assert_accepted, assert_rejected

from book.data.parity import parity_task
from book.grading import get_exercise
from book.grading.checks import ch11 as checks_11
from book.nn import linear_scan, linear_scan_backward, odd_even_scan, parallel_scan


def hidden(exercise_id, answer, seed=1):
    """The result on hidden cases (other values and shapes), as the grader draws them."""
    return get_exercise(exercise_id).run(answer, rng=np.random.default_rng(seed))


def memorised(exercise_id, reference, cases):
    """A wrong answer special-cased to the visible inputs: the reference there, zeros elsewhere."""
    table = [(c.args, reference(*c.args)) for c in cases()]

    def zeros(out):
        if isinstance(out, tuple):
            return tuple(zeros(o) for o in out)
        if isinstance(out, list):
            return [zeros(o) for o in out]
        return 0 * np.asarray(out)

    def answer(*args):
        for known, out in table:
            if all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(args, known, strict=True)):
                return out
        return zeros(reference(*args))

    assert_accepted(exercise_id, answer)
    assert hidden(exercise_id, answer).status == "failed"


# --- 11.1 ------------------------------------------------------------------
def my_scan(a, b, h0, **slip):
    return checks_11.hillis_steele(a, b, h0, **slip), checks_11.scan_rounds(a, b)


def loop_with_steps(a, b, h0):
    """A loop over time that reports each step as a 'round'."""
    h = linear_scan(a, b, h0)
    steps = [(np.ones_like(a), h - 0) for _ in range(max(a.shape[1] - 1, 0))]
    return h, steps


def test_11_1_parallel_scan():
    assert_accepted("11.1", my_scan)
    assert hidden("11.1", my_scan).status == "passed"
    assert_rejected("11.1", loop_with_steps, "rounds", "ceil(log2 T)", "loop over the steps")
    assert_rejected("11.1", lambda a, b, h0: (parallel_scan(a, b, h0), []), "rounds", "needs")
    assert_rejected("11.1", parallel_scan, "return (h, rounds)")
    assert_rejected("11.1", lambda *a: my_scan(*a, with_h0=False), "h0 is missing")
    assert_rejected("11.1", lambda *a: my_scan(*a, swap=True), "wrong order")
    assert_rejected("11.1", lambda *a: my_scan(*a, a_first=True), "before that round")
    assert_rejected("11.1", lambda *a: my_scan(*a, short=True), "one round short")

    def stale_rounds(a, b, h0):  # right states, but the rounds keep the inputs' A
        h, rounds = my_scan(a, b, h0)
        return h, [(np.array(a), B) for _, B in rounds]

    assert_rejected("11.1", stale_rounds, "A after round", "composed")
    memorised("11.1", my_scan, checks_11._scan_cases)


# --- 11.2 ------------------------------------------------------------------
def test_11_2_signed_gradients():
    ref = checks_11.signed_grads
    assert_accepted("11.2", ref)
    assert hidden("11.2", ref).status == "passed"
    assert_rejected("11.2", lambda *a: ref(*a, shift=False), "a_{t+1} g_{t+1}")
    assert_rejected("11.2", lambda *a: ref(*a, prev=False), "h_{t-1}")
    assert_rejected("11.2", lambda *a: ref(*a, gain=False), "tanh derivative")
    assert_rejected("11.2", lambda *a: ref(*a, via_a=False), "dh0 = a_1 g_1")
    assert_rejected("11.2", lambda *a: ref(*a, carry=False), "reverse scan")
    assert_rejected("11.2", lambda *a: ref(*a)[:5], "at least 6")

    def by_book(dh, x, h0, W_a, c_a, W_b, c_b):  # the same gradients from book.nn's reverse scan
        a, h = checks_11.signed_forward(x, h0, W_a, c_a, W_b, c_b)
        da, db, dh0 = linear_scan_backward(dh, a, h, h0)
        dk = da * (1 - a**2)
        xf = x.reshape(-1, x.shape[-1])
        return (dk @ W_a.T + db @ W_b.T, dh0, xf.T @ dk.reshape(-1, a.shape[-1]), dk.sum((0, 1)),
                xf.T @ db.reshape(-1, a.shape[-1]), db.sum((0, 1)))

    assert_accepted("11.2", by_book)
    memorised("11.2", ref, checks_11._signed_cases)


# --- 11.3 ------------------------------------------------------------------
def test_11_3_debug_odd_even():
    fixed = checks_11.odd_even
    assert_accepted("11.3", fixed)
    assert_accepted("11.3", odd_even_scan)
    assert hidden("11.3", fixed).status == "passed"
    buggy = checks_11.buggy_odd_even
    assert get_exercise("11.3").run(buggy).status == "not attempted"  # the given code, unchanged
    assert hidden("11.3", buggy).status == "not attempted"
    # the given bug hides behind a coefficient that is constant in time
    rng = np.random.default_rng(0)
    a, b, h0 = np.full((2, 9, 3), 0.9), rng.normal(size=(2, 9, 3)), rng.normal(size=(2, 3))
    assert np.allclose(buggy(a, b, h0), linear_scan(a, b, h0))
    assert_rejected("11.3", lambda *a: fixed(*a, order="second"), "wrong order")
    assert_rejected("11.3", lambda *a: fixed(*a, coef="first", order="second"), "scaled by a2")
    assert_rejected("11.3", lambda *a: fixed(*a)[:, :-1], "shape")
    memorised("11.3", fixed, checks_11._odd_even_cases)


# --- 11.4 and 11.5 ---------------------------------------------------------
def test_11_4_range():
    assert_accepted("11.4", np.array([512, 538]))
    assert_accepted("11.4", [512.0, 538.0])
    assert_rejected("11.4", [512, 511], "subnormal")
    assert_rejected("11.4", [512, 537], "still above zero")
    assert_rejected("11.4", [513, 538], "just under 2^1024")
    assert_rejected("11.4", [511, 538], "still finite")
    assert_rejected("11.4", [538, 512], "first differs")
    assert_rejected("11.4", "512, 538", "text")


def test_11_5_minlstm_memory():
    assert_accepted("11.5", 18)
    assert_rejected("11.5", 37, "normalises")
    assert_rejected("11.5", 15, "not 1 - i")
    assert_rejected("11.5", 4, "carried by f'")
    assert_rejected("11.5", 17, "first T below")
    assert_rejected("11.5", "18", "text")


# --- 11.6 ------------------------------------------------------------------
def train_parity(seed, signed=True, steps=600, H=4, lr=0.03, n=64, length=16):
    """The solution's recipe (tanh coefficients), or the same with sigmoid ones, in (0, 1)."""
    rng = np.random.default_rng(seed)
    p = {"W_a": rng.normal(scale=0.5, size=(3, H)), "c_a": np.zeros(H),
         "W_b": rng.normal(scale=0.5, size=(3, H)), "c_b": np.zeros(H),
         "w": rng.normal(scale=0.5, size=H), "c": np.zeros(())}
    m, v = ({k: np.zeros_like(a) for k, a in p.items()} for _ in range(2))

    def states(x):
        k = x @ p["W_a"] + p["c_a"]
        a = np.tanh(k) if signed else 1 / (1 + np.exp(-k))
        h0 = np.zeros((x.shape[0], H))
        return a, h0, linear_scan(a, x @ p["W_b"] + p["c_b"], h0)

    for i in range(1, steps + 1):
        x, y = parity_task(n, length, seed=int(rng.integers(1 << 30)))
        x = x.astype(float)
        a, h0, h = states(x)
        dlogit = (1 / (1 + np.exp(-(h @ p["w"] + p["c"]))) - y) / y.size
        da, db, _ = linear_scan_backward(dlogit[..., None] * p["w"], a, h, h0)
        dk = da * ((1 - a**2) if signed else a * (1 - a))
        grads = {"W_a": np.einsum("ntd,nth->dh", x, dk), "c_a": dk.sum((0, 1)),
                 "W_b": np.einsum("ntd,nth->dh", x, db), "c_b": db.sum((0, 1)),
                 "w": np.einsum("nth,nt->h", h, dlogit), "c": dlogit.sum()}
        for k in p:
            m[k] = 0.9 * m[k] + 0.1 * grads[k]
            v[k] = 0.999 * v[k] + 0.001 * grads[k] ** 2
            p[k] = p[k] - lr * m[k] / (1 - 0.9**i) / (np.sqrt(v[k] / (1 - 0.999**i)) + 1e-8)

    def predict(x):
        h = states(np.asarray(x, dtype=float))[2]
        return 1 / (1 + np.exp(-(h @ p["w"] + p["c"])))

    return predict


def test_11_6_parity_experiment():
    for seed in range(5):  # the recipe clears the threshold from every seed, visible and hidden
        predict = train_parity(seed)
        assert_accepted("11.6", predict)
        assert hidden("11.6", predict, seed).status == "passed"
    assert_rejected("11.6", train_parity(0, signed=False), "accuracy", "at least 0.9")
    assert_rejected("11.6", lambda x: np.zeros(x.shape[:2]), "accuracy", "guessing")

    def one_bit_back(x):  # the last bit read, not the parity of all of them
        return x[..., 1]

    assert_rejected("11.6", one_bit_back, "accuracy")
    assert_rejected("11.6", lambda x: np.full(x.shape[:2], np.nan), "nan")
    assert_rejected("11.6", lambda x: np.zeros((x.shape[0], 17)), "shape")
    assert_rejected("11.6", 3, "predict(x)")


# --- 11.7 ------------------------------------------------------------------
def test_11_7_choice():
    assert_accepted("11.7", "c")
    assert_accepted("11.7", " C ")
    for wrong, word in [("a", "units wait"), ("b", "ceil(combines / 64)"), ("d", "differ a lot")]:
        assert_rejected("11.7", wrong, word)
    assert_rejected("11.7", "e", "one letter")
