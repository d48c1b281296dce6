"""Exercises of Chapter 3 (backpropagation through time): cases, answers, hints.

3.1 grades a backward step together with the learner's forward step, whose
cache it consumes: ``check("3.1", rnn_step_backward, rnn_step_forward)``
(without one, the reference forward step is used).  3.2 gives a BPTT with
two off-by-one errors to fix, 3.3 and 3.5 are functions, 3.4 a count, 3.6
an experiment graded on sequences the learner never saw, 3.7 a choice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from book.grading.core import (
    Case,
    Exercise,
    Mismatch,
    call_learner,
    choice_exercise,
    compare_array,
    debug_exercise,
    draw_shapes,
    experiment_exercise,
    function_exercise,
    register,
    select_outputs,
    type_name,
    value_exercise,
)
from book.nn import (
    rnn_backward,
    rnn_backward_truncated,
    rnn_forward,
    rnn_step_backward,
    rnn_step_forward,
    tbptt_chunked,
)

STEP_GRADS = ["dx", "dh_prev", "dW_xh", "dW_hh", "db_h"]
SEQ_GRADS = ["dx", "dh0", "dW_xh", "dW_hh", "db_h"]


def _params(rng: np.random.Generator, N: int, D: int, H: int) -> tuple[np.ndarray, ...]:
    return (
        rng.normal(scale=0.6, size=(D, H)),
        rng.normal(scale=0.6, size=(H, H)),
        rng.normal(scale=0.5, size=H),
    )


def _compare_all(
    label: str,
    names: Sequence[str],
    got: Sequence[Any],
    expected: Sequence[Any],
    mistakes: Sequence[tuple[Sequence[Any], str]],
) -> None:
    """Raise :class:`Mismatch` at the first output that differs, naming a matching mistake."""
    for i, name in enumerate(names):
        problem = compare_array(name, got[i], expected[i])
        if problem:
            hint = ""
            for wrong, text in mistakes:
                if compare_array(name, got[i], wrong[i]) is None:
                    hint = f"; {text}"
                    break
            raise Mismatch(f"{label}: {problem}{hint}")


def _check_forward(forward: Any, args: tuple, reference: Callable, label: str, what: str):
    """Run the learner's forward function; return its cache after checking its output."""
    if not callable(forward):
        raise Mismatch(f"the second argument must be your {what} function")
    out = call_learner(forward, *args)
    if not isinstance(out, tuple) or len(out) != 2:
        raise Mismatch(f"{label}: your {what} must return (output, cache)")
    problem = compare_array("h", out[0], reference(*args)[0])
    if problem:
        raise Mismatch(f"{label}: your {what} is wrong, fix it first ({problem})")
    return out[1]


# --------------------------------------------------------------------------
# 3.1 one step backward
# --------------------------------------------------------------------------
def _step_backward_mistakes(dh_next, x, h_prev, W_xh, W_hh, h_next):
    def grads(da, h_in=h_prev, W_h=W_hh.T, db_axis=0):
        return (da @ W_xh.T, da @ W_h, x.T @ da, h_in.T @ da, da.sum(axis=db_axis))

    gain = 1.0 - h_next**2
    return [
        (grads(dh_next), "the tanh derivative (1 - h_next**2) is missing"),
        (grads(dh_next * (1.0 - h_next)), "wrong derivative: tanh'(a) = 1 - tanh(a)**2 = 1 - h_next**2"),
        (grads(dh_next * h_next * (1.0 - h_next)), "wrong derivative: that is the sigmoid's; tanh'(a) = 1 - h_next**2"),
        (grads(dh_next * gain, W_h=W_hh), "W_hh is not transposed: dh_prev = da @ W_hh.T"),
        (grads(dh_next * gain, h_in=h_next), "dW_hh multiplies by the state that went IN to the step, h_prev"),
    ]


def _step_cases(rng: np.random.Generator | None = None) -> list[tuple[str, tuple, np.ndarray]]:
    shapes = [(2, 3, 4), (1, 2, 2), (4, 5, 3)] if rng is None else draw_shapes(rng, 4, N=(1, 5), D=(1, 6), H=(1, 6))
    rng = np.random.default_rng(301) if rng is None else rng
    cases = []
    for N, D, H in shapes:
        W_xh, W_hh, b_h = _params(rng, N, D, H)
        args = (rng.normal(size=(N, D)), rng.normal(size=(N, H)), W_xh, W_hh, b_h)
        cases.append((f"N={N}, D={D}, H={H}", args, rng.normal(size=(N, H))))
    return cases


def _grade_backward(
    backward: Any,
    forward: Any,
    cases: list[tuple[str, tuple, np.ndarray]],
    ref_forward: Callable,
    ref_backward: Callable,
    names: list[str],
    forward_name: str,
    mistakes: Callable[[tuple, np.ndarray, Any], list[tuple[tuple, str]]],
) -> str:
    """Grade a backward pass on the cache of the learner's own forward pass (or ours if none)."""
    if not callable(backward):
        raise Mismatch(f"expected a function, got {type(backward).__name__}")
    for k, (label, args, dout) in enumerate(cases, start=1):
        label = f"case {k} ({label})"
        cache = (
            ref_forward(*args)[1]
            if forward is None
            else _check_forward(forward, args, ref_forward, label, forward_name)
        )
        got = select_outputs(call_learner(backward, dout, cache), names, strict=False)
        ref_cache = ref_forward(*args)[1]
        _compare_all(label, names, got, ref_backward(dout, ref_cache), mistakes(args, dout, ref_cache))
    return ""


def grade_step_backward(backward: Any, forward: Any = None, rng: np.random.Generator | None = None) -> str:
    """Grade ``rnn_step_backward`` on the cache of the learner's ``rnn_step_forward``."""
    return _grade_backward(
        backward, forward, _step_cases(rng), rnn_step_forward, rnn_step_backward, STEP_GRADS, "rnn_step_forward",
        lambda args, dh_next, cache: _step_backward_mistakes(dh_next, *cache),
    )


register(Exercise("3.1", "one step backward", 3, grade_step_backward, hidden=True, kind="implement", stars=1, minutes=15))


# --------------------------------------------------------------------------
# 3.2 debug: BPTT with two off-by-one errors
# --------------------------------------------------------------------------
def bptt(x, h0, W_xh, W_hh, b_h, dh):
    """Reference for 3.2: ``(dx, dh0, dW_xh, dW_hh, db_h)`` of full BPTT."""
    _, cache = rnn_forward(x, h0, W_xh, W_hh, b_h)
    return rnn_backward(dh, cache)


def buggy_bptt(x, h0, W_xh, W_hh, b_h, dh, skip_first=True, gain_of_input=True):
    """The given code of 3.2, with either of its two bugs switched off."""
    T = x.shape[1]
    hs = [h0]
    for t in range(T):
        hs.append(np.tanh(x[:, t] @ W_xh + hs[t] @ W_hh + b_h))
    dx = np.zeros_like(x)
    dW_xh, dW_hh, db_h = np.zeros_like(W_xh), np.zeros_like(W_hh), np.zeros_like(b_h)
    carry = np.zeros_like(h0)
    for t in range(T - 1, 0 if skip_first else -1, -1):
        da = (dh[:, t] + carry) * (1 - hs[t if gain_of_input else t + 1] ** 2)
        dx[:, t] = da @ W_xh.T
        dW_xh += x[:, t].T @ da
        dW_hh += hs[t].T @ da
        db_h += da.sum(axis=0)
        carry = da @ W_hh.T
    return dx, carry, dW_xh, dW_hh, db_h


def _bptt_cases(rng: np.random.Generator | None = None) -> list[Case]:
    shapes = (
        [(2, 5, 3, 4), (1, 2, 2, 3), (3, 7, 2, 2)]
        if rng is None
        else draw_shapes(rng, 4, N=(1, 4), T=(2, 9), D=(1, 5), H=(1, 5))
    )
    rng = np.random.default_rng(302) if rng is None else rng
    cases = []
    for N, T, D, H in shapes:
        W_xh, W_hh, b_h = _params(rng, N, D, H)
        args = (rng.normal(size=(N, T, D)), rng.normal(size=(N, H)), W_xh, W_hh, b_h, rng.normal(size=(N, T, H)))
        cases.append(Case(f"N={N}, T={T}, D={D}, H={H}", args))
    return cases


debug_exercise(
    "3.2", "fix a BPTT with off-by-one errors", 3, bptt, buggy_bptt, _bptt_cases, SEQ_GRADS,
    mistakes=[
        (lambda *a: buggy_bptt(*a, gain_of_input=False), "the loop still stops before step t = 0, so x[:, 0], "
         "h0 and the first step's share of the weight gradients get nothing"),
        (lambda *a: buggy_bptt(*a, skip_first=False), "the tanh derivative of step t must use the state that "
         "step t produced, hs[t + 1], not the one that went into it"),
    ],
    stars=2,
    minutes=20,
)


# --------------------------------------------------------------------------
# 3.3 truncated BPTT
# --------------------------------------------------------------------------
def truncated_gradients(x, h0, W_xh, W_hh, b_h, dh, k):
    """Reference for 3.3: (dW_xh, dW_hh, db_h) of k-step truncated BPTT."""
    _, cache = rnn_forward(x, h0, W_xh, W_hh, b_h)
    return rnn_backward_truncated(dh, cache, k)[2:]


def _trunc_cases(rng: np.random.Generator | None = None) -> list[Case]:
    shapes = (
        [(2, 6, 3, 4, 2), (1, 7, 2, 3, 3), (3, 5, 2, 2, 1), (2, 4, 3, 3, 4)]
        if rng is None
        else draw_shapes(rng, 5, N=(1, 3), T=(2, 9), D=(1, 4), H=(1, 4), k=(1, 5))
    )
    rng = np.random.default_rng(303) if rng is None else rng
    cases = []
    for N, T, D, H, k in shapes:
        W_xh, W_hh, b_h = _params(rng, N, D, H)
        args = (rng.normal(size=(N, T, D)), rng.normal(size=(N, H)), W_xh, W_hh, b_h, rng.normal(size=(N, T, H)), k)
        cases.append(Case(f"N={N}, T={T}, D={D}, H={H}, k={k}", args))
    return cases


function_exercise(
    "3.3",
    "truncated BPTT",
    2,
    reference=truncated_gradients,
    cases=_trunc_cases,
    outputs=["dW_xh", "dW_hh", "db_h"],
    mistakes=[
        (lambda *a: truncated_gradients(*a[:-1], a[-1] + 1), "off by one: each loss term goes back through k steps (its own step included), not k + 1"),
        (lambda *a: truncated_gradients(*a[:-1], max(a[-1] - 1, 1)), "off by one: each loss term goes back through k steps (its own step included), not k - 1"),
        (lambda *a: tbptt_chunked(*a)[:3], "that is chunked truncation (cut every k steps); here every loss term gets k steps of its own"),
        (lambda *a: truncated_gradients(*a[:-1], 10**6), "that is the full BPTT gradient: the truncation to k steps is missing"),
    ],
    stars=2,
    minutes=20,
)


# --------------------------------------------------------------------------
# 3.4 derive: how many terms of the double sum each truncation keeps
# --------------------------------------------------------------------------
def kept_terms(T: int, k: int) -> np.ndarray:
    """Reference for 3.4: terms (t, s), s <= t, kept by k-step and by chunked truncation."""
    k_step = sum(min(t, k) for t in range(1, T + 1))
    chunked = sum(j for start in range(0, T, k) for j in range(1, min(k, T - start) + 1))
    return np.array([k_step, chunked], dtype=float)


value_exercise(
    "3.4",
    "count the terms that truncation keeps",
    2,
    expected=kept_terms(45, 10),
    mistakes=[
        (np.array([450.0, 235.0]), "the first loss terms have fewer than k steps behind them: L_t keeps min(t, k) terms"),
        (np.array([405.0, 220.0]), "the last chunk is shorter: 45 steps make four chunks of 10 and one of 5"),
        (np.array([405.0, 405.0]), "in a chunk, the loss at position j goes back j steps only, to the chunk's start"),
        (np.array([1035.0, 1035.0]), "that is every term of the double sum, T (T + 1) / 2: truncation drops some"),
    ],
    stars=2,
    minutes=10,
)


# --------------------------------------------------------------------------
# 3.5 a character model's gradient: softmax and cross-entropy at every step
# --------------------------------------------------------------------------
def _char(x, h0, W_xh, W_hh, b_h, W_hy, b_y, targets, mean=True, soft=True, k=None, last=False):
    h, cache = rnn_forward(x, h0, W_xh, W_hh, b_h)
    y = h @ W_hy + b_y
    p = np.exp(y - y.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    N, T = targets.shape
    n, t = np.meshgrid(np.arange(N), np.arange(T), indexing="ij")
    loss = -np.mean(np.log(p[n, t, targets]))
    dy = (p if soft else y.copy())
    dy[n, t, targets] -= 1.0
    dy /= N * T if mean else 1.0
    if last:
        dy[:, :-1] = 0.0
    dh = dy @ W_hy.T
    grads = rnn_backward(dh, cache) if k is None else rnn_backward_truncated(dh, cache, k)
    return (loss, *grads[2:], np.einsum("nth,ntk->hk", h, dy), dy.sum(axis=(0, 1)))


def char_gradients(x, h0, W_xh, W_hh, b_h, W_hy, b_y, targets):
    """Reference for 3.5: ``(loss, dW_xh, dW_hh, db_h, dW_hy, db_y)``, mean cross-entropy over N T."""
    return _char(x, h0, W_xh, W_hh, b_h, W_hy, b_y, targets)


def _char_cases(rng: np.random.Generator | None = None) -> list[Case]:
    shapes = (
        [(2, 4, 3, 4, 5), (1, 6, 2, 3, 3), (3, 3, 4, 2, 4)]
        if rng is None
        else draw_shapes(rng, 4, N=(1, 4), T=(2, 8), D=(1, 5), H=(1, 5), K=(2, 6))
    )
    rng = np.random.default_rng(305) if rng is None else rng
    cases = []
    for N, T, D, H, K in shapes:
        W_xh, W_hh, b_h = _params(rng, N, D, H)
        args = (rng.normal(size=(N, T, D)), rng.normal(size=(N, H)), W_xh, W_hh, b_h,
                rng.normal(scale=0.8, size=(H, K)), rng.normal(scale=0.3, size=K), rng.integers(0, K, size=(N, T)))
        cases.append(Case(f"N={N}, T={T}, D={D}, H={H}, K={K}", args))
    return cases


function_exercise(
    "3.5",
    "the gradient of a character model",
    3,
    reference=char_gradients,
    cases=_char_cases,
    outputs=["loss", "dW_xh", "dW_hh", "db_h", "dW_hy", "db_y"],
    mistakes=[
        (lambda *a: _char(*a, mean=False), "the loss is the mean over all N T positions: divide dy by N T"),
        (lambda *a: _char(*a, soft=False), "dL/dy_t is softmax(y_t) minus the one-hot target, not y_t minus it"),
        (lambda *a: _char(*a, k=1), "the gradient from later steps (dh_prev) must be carried back into every h_t"),
        (lambda *a: _char(*a, last=True), "every step has a loss term, not only the last one"),
    ],
    stars=3,
    minutes=25,
)


# --------------------------------------------------------------------------
# 3.6 experiment: train with your BPTT to echo the input from DELAY steps back
# --------------------------------------------------------------------------
DELAY, DELAY_THRESHOLD = 6, 0.2


def delay_task(rng: np.random.Generator, N: int, T: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs (N, T, 1), standard normal, and targets (N, T): y_t = x_{t-DELAY}, 0 before."""
    x = rng.normal(size=(N, T, 1))
    y = np.zeros((N, T))
    y[:, DELAY:] = x[:, :-DELAY, 0]
    return x, y


def evaluate_delay(predict: Any, rng: np.random.Generator | None = None) -> str:
    """Held-out MSE of ``predict(x) -> (N, T)`` on new sequences, from step DELAY on."""
    if not callable(predict):
        raise Mismatch(f"expected your function predict(x), got {type_name(predict)}")
    T = 30 if rng is None else int(rng.integers(24, 41))
    x, y = delay_task(np.random.default_rng(3060) if rng is None else rng, 400, T)
    got = call_learner(predict, x)
    try:
        got = np.asarray(got, dtype=float).reshape(y.shape)
    except (TypeError, ValueError):
        raise Mismatch(f"predict(x) must return an array of shape {y.shape} for x of shape {x.shape}") from None
    mse = float(np.mean((got - y)[:, DELAY:] ** 2))
    where = f"on 400 new sequences of length {T}"
    if not np.isfinite(mse) or mse >= DELAY_THRESHOLD:
        raise Mismatch(f"held-out MSE {mse:.2g} {where}; it must be below {DELAY_THRESHOLD} "
                       "(predicting 0 scores about 1)")
    return f"held-out MSE {mse:.2g} {where} (threshold {DELAY_THRESHOLD})"


experiment_exercise("3.6", "learn a delay of six steps", 3, evaluate_delay, stars=3, minutes=30)


choice_exercise(
    "3.7",
    "what a truncated gradient teaches",
    2,
    correct="a",
    options="abcd",
    hints={
        "b": "the read-out at step t reads h_t directly, and that gradient needs no path through time: "
        "whatever the state holds can be used",
        "c": "the dropped terms are not random: the same terms are left out at every update, so the error "
        "does not average out over batches",
        "d": "with a spectral radius below 1 the far terms are small, not zero, and truncation leaves them out "
        "all the same",
    },
    stars=2,
    minutes=5,
)
