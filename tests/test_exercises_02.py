"""Chapter 2 exercises: the reference answers pass, plausible wrong answers fail with a pointed message."""

from __future__ import annotations

import numpy as np
from helpers import assert_accepted, assert_rejected

from book.grading import get_exercise
from book.grading.checks import ch02 as checks_02
from book.nn import rnn_forward


def hidden(exercise_id, answer, seed=1):
    return get_exercise(exercise_id).run(answer, rng=np.random.default_rng(seed))


def memorised(exercise_id, reference, cases):
    """A wrong answer special-cased to the visible inputs: right there, zeros elsewhere; fails hidden."""
    table = [(c.args, reference(*c.args)) for c in cases()]

    def answer(*args):
        for known, out in table:
            if all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(args, known, strict=True)):
                return out
        out = reference(*args)
        return tuple(0 * np.asarray(o) for o in out) if isinstance(out, tuple) else 0 * np.asarray(out)

    assert_accepted(exercise_id, answer)
    assert hidden(exercise_id, answer).status == "failed"


def _loop(x, starts, h0, Wx, Wh, b, after=False, to_zero=False):
    h, out = h0, []
    for t in range(x.shape[1]):
        reset = starts[:, t, None]
        base = 0 * h0 if to_zero else h0
        if not after:
            h = np.where(reset, base, h)
        h = np.tanh(x[:, t] @ Wx + h @ Wh + b)
        if after:
            h = np.where(reset, base, h)
        out.append(h)
    return np.stack(out, axis=1)


def test_2_1_resets():
    assert_accepted("2.1", checks_02.rnn_forward_resets)
    assert_accepted("2.1", lambda *a: (_loop(*a), None))  # a trailing cache is fine
    assert hidden("2.1", checks_02.rnn_forward_resets).status == "passed"
    no_starts = lambda x, s, h0, Wx, Wh, b: rnn_forward(x, h0, Wx, Wh, b)[0]  # noqa: E731
    assert_rejected("2.1", no_starts, "ignored")
    assert_rejected("2.1", lambda *a: _loop(*a, after=True), "AFTER the step")
    assert_rejected("2.1", lambda *a: _loop(*a, to_zero=True), "not from zeros")
    assert_rejected("2.1", lambda *a: _loop(*a).transpose(1, 0, 2), "shape")
    memorised("2.1", checks_02.rnn_forward_resets, checks_02._reset_cases)


def test_2_1_resets_agree_with_separate_documents():
    rng = np.random.default_rng(5)
    x, h0 = rng.normal(size=(1, 7, 2)), rng.normal(size=(1, 3))
    Wx, Wh, b = rng.normal(size=(2, 3)), rng.normal(scale=0.5, size=(3, 3)), rng.normal(size=3)
    starts = np.zeros((1, 7), bool)
    starts[0, 4] = True  # two documents: steps 0-3 and 4-6
    joined = checks_02.rnn_forward_resets(x, starts, h0, Wx, Wh, b)
    apart = np.concatenate([rnn_forward(x[:, :4], h0, Wx, Wh, b)[0], rnn_forward(x[:, 4:], h0, Wx, Wh, b)[0]], axis=1)
    assert np.allclose(joined, apart)


def _graph(T, L):
    """The stacked graph listed from its definition: (nodes, edges)."""
    nodes = [("h", k, 0) for k in range(1, L + 1)]
    edges = []
    for t in range(1, T + 1):
        nodes += [("x", 0, t), ("y", 0, t)] + [("h", k, t) for k in range(1, L + 1)]
        edges += [(("x", 0, t), ("h", 1, t)), (("h", L, t), ("y", 0, t))]
        edges += [(("h", k, t - 1), ("h", k, t)) for k in range(1, L + 1)]
        edges += [(("h", k, t), ("h", k + 1, t)) for k in range(1, L)]
    return nodes, edges


def test_2_2_stacked_graph():
    for T, L in [(1, 1), (4, 2), (9, 5)]:
        nodes, edges = _graph(T, L)
        assert checks_02.stacked_size(T, L) == (len(nodes), len(edges))
    assert checks_02.stacked_size(5, 1) == (3 * 5 + 1, 3 * 5)  # one layer: the chapter's count
    assert_accepted("2.2", checks_02.stacked_size)
    assert hidden("2.2", checks_02.stacked_size).status == "passed"
    assert_rejected("2.2", lambda T, L: (1 + T * (L + 2), T * (2 * L + 1)), "own initial state")
    assert_rejected("2.2", lambda T, L: (L + T * (L + 2), T * (L + 2)), "recurrent edge")
    assert_rejected("2.2", lambda T, L: (L * (3 * T + 1), L * 3 * T), "stacked")
    assert_rejected("2.2", lambda T, L: (3 * T + 1, 3 * T), "expected 18, got 13")
    assert_rejected("2.2", lambda T, L: L + T * (L + 2), "tuple")
    memorised("2.2", checks_02.stacked_size, checks_02._stacked_cases)


def test_2_3_debug_aliasing():
    assert_accepted("2.3", checks_02.forward_with_outputs)
    assert hidden("2.3", checks_02.forward_with_outputs).status == "passed"

    def as_given(x, h0, W_xh, W_hh, b_h, W_hy, b_y):  # the stub, verbatim
        states = []
        h = h0.copy()
        for t in range(x.shape[1]):
            h[:] = np.tanh(x[:, t] @ W_xh + h @ W_hh + b_h)
            states.append(h)
        h_all = np.stack(states, axis=1)
        return h_all, h_all @ W_hy + b_y

    assert get_exercise("2.3").run(as_given).status == "not attempted"
    assert hidden("2.3", as_given).status == "not attempted"

    def copies_before(x, h0, W_xh, W_hh, b_h, W_hy, b_y):  # copies, but before the update
        states, h = [], h0.copy()
        for t in range(x.shape[1]):
            states.append(h.copy())
            h = np.tanh(x[:, t] @ W_xh + h @ W_hh + b_h)
        h_all = np.stack(states, axis=1)
        return h_all, h_all @ W_hy + b_y

    assert_rejected("2.3", copies_before, "off by one")

    def output_tanh(*args):
        h, y = checks_02.forward_with_outputs(*args)
        return h, np.tanh(y)

    assert_rejected("2.3", output_tanh, "y first differs")
    assert_rejected("2.3", lambda *a: checks_02.forward_with_outputs(*a)[0], "tuple")


def test_2_4_choice():
    assert_accepted("2.4", "b")
    assert_rejected("2.4", "a", "not the weights")
    assert_rejected("2.4", "c", "kept")
    assert_rejected("2.4", "d", "one step adds")


# --- 2.5: readouts fitted in the test stand in for the learner's notebook ----------------
def reservoir(seed=0, H=50, rho=0.9, delay=checks_02.DELAY, recurrent=True):
    rng = np.random.default_rng(seed)
    W_in = rng.normal(scale=0.5, size=(1, H))
    W = rng.normal(size=(H, H))
    W_rec = rho * W / np.max(np.abs(np.linalg.eigvals(W))) if recurrent else np.zeros((H, H))

    def states(u):
        return rnn_forward(u[..., None], np.zeros((len(u), H)), W_in, W_rec, np.zeros(H))[0]

    u = rng.uniform(-1, 1, size=(20, 200))
    h = states(u)[:, 10:].reshape(-1, H)
    design = np.column_stack([h, np.ones(len(h))])
    w = np.linalg.lstsq(design, u[:, 10 - delay : 200 - delay].reshape(-1), rcond=None)[0]
    return lambda u: states(u) @ w[:-1] + w[-1]


def test_2_5_experiment():
    for seed in range(5):  # the recipe clears the threshold from every seed, visible and hidden
        predict = reservoir(seed)
        assert_accepted("2.5", predict)
        assert hidden("2.5", predict, seed).status == "passed"
    assert_accepted("2.5", lambda u: reservoir(0)(u)[..., None])  # (N, T, 1) is fine
    assert_rejected("2.5", lambda u: np.zeros_like(u), "R^2", "threshold")
    assert_rejected("2.5", reservoir(0, recurrent=False), "R^2")  # no recurrence, no memory
    assert_rejected("2.5", reservoir(0, delay=0), "current input")  # fitted to the wrong target
    assert_rejected("2.5", lambda u: u[:, :-1], "shape")
    assert_rejected("2.5", lambda u: np.full(u.shape, np.nan), "NaN")


def test_2_6_paths():
    # count the paths from x_1 to y_T by dynamic programming over the stacked graph
    T, L = checks_02.PATHS_T, checks_02.PATHS_L
    ways = np.zeros((L + 1, T + 1), dtype=int)
    ways[1, 1] = 1  # x_1 -> h^1_1
    for t in range(1, T + 1):
        for layer in range(1, L + 1):
            ways[layer, t] += (ways[layer, t - 1] if t > 1 else 0) + (ways[layer - 1, t] if layer > 1 else 0)
    assert ways[L, T] == 55
    assert_accepted("2.6", 55)
    assert_rejected("2.6", 10, "two layers")
    assert_rejected("2.6", 66, "T - 1")
    assert_rejected("2.6", 45, "any order")
    assert_rejected("2.6", 1, "climb")
