"""Chapter 3 exercises: the reference answers pass, plausible wrong answers fail with a pointed message."""

from __future__ import annotations

import numpy as np
from helpers import assert_accepted, assert_rejected

from book.grading.checks import ch03 as checks_03
from book.nn import rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward, tbptt_chunked


# --- a learner's own forward functions, with their own cache layouts -------
def my_step_forward(x, h_prev, W_xh, W_hh, b_h):
    h_next = np.tanh(x @ W_xh + h_prev @ W_hh + b_h)
    return h_next, {"x": x, "h_prev": h_prev, "W_xh": W_xh, "W_hh": W_hh, "h_next": h_next}


def my_step_backward(dh_next, cache, derivative=lambda h: 1 - h**2, transpose=True, h_in="h_prev"):
    da = dh_next * derivative(cache["h_next"])
    W_hh = cache["W_hh"].T if transpose else cache["W_hh"]
    return (da @ cache["W_xh"].T, da @ W_hh, cache["x"].T @ da, cache[h_in].T @ da, da.sum(0))


def my_forward(x, h0, W_xh, W_hh, b_h):
    h, caches, h_t = [], [], h0
    for t in range(x.shape[1]):
        h_t, c = my_step_forward(x[:, t], h_t, W_xh, W_hh, b_h)
        h.append(h_t)
        caches.append(c)
    return np.stack(h, axis=1), caches


def my_backward(dh, caches, carry=True, accumulate=True, own=True):
    N, T, H = dh.shape
    dx = np.zeros((N, T, caches[0]["x"].shape[1]))
    dWx, dWh, db = 0, 0, 0
    g = np.zeros((N, H))
    for t in reversed(range(T)):
        up = dh[:, t] if own or t == T - 1 else 0 * dh[:, t]
        dx[:, t], g_new, a, b, c = my_step_backward(up + (g if carry else 0), caches[t])
        g = g_new
        if accumulate:
            dWx, dWh, db = dWx + a, dWh + b, db + c
        else:
            dWx, dWh, db = a, b, c
    return dx, g, dWx, dWh, db


def test_3_1_step_backward():
    assert_accepted("3.1", rnn_step_backward)
    assert_accepted("3.1", rnn_step_backward, rnn_step_forward)
    assert_accepted("3.1", my_step_backward, my_step_forward)
    assert_rejected("3.1", lambda d, c: my_step_backward(d, c, derivative=lambda h: 1), "tanh derivative", extra=(my_step_forward,))
    assert_rejected("3.1", lambda d, c: my_step_backward(d, c, derivative=lambda h: h * (1 - h)), "sigmoid", extra=(my_step_forward,))
    assert_rejected("3.1", lambda d, c: my_step_backward(d, c, derivative=lambda h: 1 - h), "derivative", extra=(my_step_forward,))
    assert_rejected("3.1", lambda d, c: my_step_backward(d, c, transpose=False), "transposed", extra=(my_step_forward,))
    assert_rejected("3.1", lambda d, c: my_step_backward(d, c, h_in="h_next"), "h_prev", extra=(my_step_forward,))
    wrong_db = lambda d, c: my_step_backward(d, c)[:4] + ((d * (1 - c["h_next"] ** 2)),)  # noqa: E731
    assert_rejected("3.1", wrong_db, "db_h", "shape", extra=(my_step_forward,))
    # a broken forward is reported as such, before the backward is looked at
    bad_forward = lambda x, h, Wx, Wh, b: my_step_forward(x, h, Wx, Wh, 0 * b)  # noqa: E731
    assert_rejected("3.1", my_step_backward, "rnn_step_forward is wrong", extra=(bad_forward,))
    assert_rejected("3.1", my_step_backward, "(output, cache)", extra=(lambda *a: my_step_forward(*a)[0],))


def test_3_2_bptt():
    assert_accepted("3.2", rnn_backward)
    assert_accepted("3.2", rnn_backward, rnn_forward)
    assert_accepted("3.2", my_backward, my_forward)
    assert_rejected("3.2", lambda d, c: my_backward(d, c, carry=False), "carried", extra=(my_forward,))
    assert_rejected("3.2", lambda d, c: my_backward(d, c, accumulate=False), "accumulated", extra=(my_forward,))
    assert_rejected("3.2", lambda d, c: my_backward(d, c, own=False), "dh[:, t]", extra=(my_forward,))
    assert_rejected("3.2", lambda d, c: my_backward(d, c)[:4], "at least 5", extra=(my_forward,))
    bad_forward = lambda x, h0, Wx, Wh, b: my_forward(x[:, ::-1], h0, Wx, Wh, b)  # noqa: E731
    assert_rejected("3.2", my_backward, "rnn_forward is wrong", extra=(bad_forward,))


def test_3_3_three_step_terms():
    assert_accepted("3.3", checks_03.three_step_terms)
    assert_rejected("3.3", checks_03._explicit_only, "implicit")
    assert_rejected("3.3", lambda *a: checks_03.three_step_terms(*a)[::-1], "reverse")
    assert_rejected("3.3", checks_03._no_inner_gain, "tanh derivative")
    assert_rejected("3.3", checks_03._new_state_in_explicit, "h_{k-1}")
    assert_rejected("3.3", lambda *a: checks_03.three_step_terms(*a).transpose(0, 2, 1), "transposed")
    assert_rejected("3.3", lambda *a: checks_03.three_step_terms(*a).sum(0), "shape")


def test_3_4_truncated():
    ref = checks_03.truncated_gradients
    assert_accepted("3.4", ref)
    assert_rejected("3.4", lambda *a: ref(*a[:-1], a[-1] + 1), "off by one", "k + 1")
    assert_rejected("3.4", lambda *a: ref(*a[:-1], max(a[-1] - 1, 1)), "off by one", "k - 1")
    assert_rejected("3.4", lambda *a: tbptt_chunked(*a)[:3], "chunked")
    assert_rejected("3.4", lambda *a: ref(*a[:-1], 10**6), "full BPTT")

    def full(x, h0, Wx, Wh, b, dh, k):
        _, cache = rnn_forward(x, h0, Wx, Wh, b)
        return rnn_backward(dh, cache)[2:]

    assert_rejected("3.4", full, "full BPTT")
    assert_rejected("3.4", lambda *a: ref(*a)[1:], "at least 3")
