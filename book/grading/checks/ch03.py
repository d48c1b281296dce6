"""Exercises of Chapter 3 (backpropagation through time): cases, answers, hints.

3.1 and 3.2 grade a backward function together with the learner's forward
function, whose cache it consumes: ``check("3.1", rnn_step_backward,
rnn_step_forward)``.  Without a forward function the reference one is used.
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
    compare_array,
    draw_shapes,
    function_exercise,
    register,
    select_outputs,
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


register(Exercise("3.1", "one step backward", 3, grade_step_backward, hidden=True, kind="implement", stars=2, minutes=15))


# --------------------------------------------------------------------------
# 3.2 backpropagation through time
# --------------------------------------------------------------------------
def _seq_cases(rng: np.random.Generator | None = None) -> list[tuple[str, tuple, np.ndarray]]:
    shapes = (
        [(2, 5, 3, 4), (1, 1, 2, 3), (3, 7, 2, 2)]
        if rng is None
        else draw_shapes(rng, 4, N=(1, 4), T=(1, 9), D=(1, 5), H=(1, 5))
    )
    rng = np.random.default_rng(302) if rng is None else rng
    cases = []
    for N, T, D, H in shapes:
        W_xh, W_hh, b_h = _params(rng, N, D, H)
        args = (rng.normal(size=(N, T, D)), rng.normal(size=(N, H)), W_xh, W_hh, b_h)
        cases.append((f"N={N}, T={T}, D={D}, H={H}", args, rng.normal(size=(N, T, H))))
    return cases


def _bptt_mistakes(args: tuple, dh: np.ndarray) -> list[tuple[tuple, str]]:
    _, cache = rnn_forward(*args)
    T = dh.shape[1]
    # only the last step's upstream gradient
    last_only = np.zeros_like(dh)
    last_only[:, -1] = dh[:, -1]
    # overwriting instead of accumulating: the weights keep the gradient of step 1 only
    dx, dh0, _, _, _ = rnn_backward(dh, cache)
    carry = rnn_backward(dh[:, 1:], cache[1:])[1] if T > 1 else np.zeros_like(dh[:, 0])
    _, _, w_xh, w_hh, w_b = rnn_step_backward(dh[:, 0] + carry, cache[0])
    return [
        (rnn_backward_truncated(dh, cache, 1), "the gradient flowing back from step t+1 must be added to dh[:, t] (dh_prev carried backward)"),
        (rnn_backward(last_only, cache), "every step has its own upstream gradient: add dh[:, t] at each step, not only at the last"),
        ((dx, dh0, w_xh, w_hh, w_b), "the weight gradients must be accumulated (+=) over all steps, not overwritten"),
    ]


def grade_bptt(backward: Any, forward: Any = None, rng: np.random.Generator | None = None) -> str:
    """Grade ``rnn_backward`` on the cache of the learner's ``rnn_forward``."""
    return _grade_backward(
        backward, forward, _seq_cases(rng), rnn_forward, rnn_backward, SEQ_GRADS, "rnn_forward",
        lambda args, dh, cache: _bptt_mistakes(args, dh),
    )


register(Exercise("3.2", "backpropagation through time", 3, grade_bptt, hidden=True, kind="implement", stars=2, minutes=15))


# --------------------------------------------------------------------------
# 3.3 the three-step form: explicit and implicit parts
# --------------------------------------------------------------------------
def three_step_terms(x, h0, W_xh, W_hh, b_h, dh_last):
    """Reference for 3.3: the terms of dL/dW_hh, one per step, for L = sum(h_T * dh_last).

    Term k (k = 1..T, stored at index k-1) is dL/dh_T . dh_T/dh_k . dh_k+/dW_hh:
    the path through the use of W_hh in step k only.  Term T is the explicit
    part, the others form the implicit part.  Returns an array (T, H, H).
    """
    h, cache = rnn_forward(x, h0, W_xh, W_hh, b_h)
    T = x.shape[1]
    terms = np.zeros((T,) + W_hh.shape)
    g = dh_last  # dL/dh_k, starting at k = T
    for k in reversed(range(T)):
        _, g_prev, _, dW_hh_k, _ = rnn_step_backward(g, cache[k])
        terms[k] = dW_hh_k
        g = g_prev
    return terms


def _three_cases(rng: np.random.Generator | None = None) -> list[Case]:
    shapes = [(1, 2, 3), (2, 3, 4), (3, 2, 2)] if rng is None else draw_shapes(rng, 4, N=(1, 4), D=(1, 5), H=(1, 5))
    rng = np.random.default_rng(303) if rng is None else rng
    cases = []
    for N, D, H in shapes:
        W_xh, W_hh, b_h = _params(rng, N, D, H)
        args = (rng.normal(size=(N, 3, D)), rng.normal(size=(N, H)), W_xh, W_hh, b_h, rng.normal(size=(N, H)))
        cases.append(Case(f"N={N}, T=3, D={D}, H={H}", args))
    return cases


def _explicit_only(x, h0, W_xh, W_hh, b_h, dh):
    terms = three_step_terms(x, h0, W_xh, W_hh, b_h, dh)
    terms[:-1] = 0.0
    return terms


def _no_inner_gain(x, h0, W_xh, W_hh, b_h, dh):
    """Jacobians dh_T/dh_k taken as products of W_hh^T, without the tanh derivatives."""
    h, _ = rnn_forward(x, h0, W_xh, W_hh, b_h)
    T = x.shape[1]
    states = [h0] + [h[:, t] for t in range(T)]
    terms = np.zeros((T,) + W_hh.shape)
    g = dh
    for k in reversed(range(T)):
        da = g * (1.0 - states[k + 1] ** 2) if k == T - 1 else g
        terms[k] = states[k].T @ da
        g = da @ W_hh.T
    return terms


def _new_state_in_explicit(x, h0, W_xh, W_hh, b_h, dh):
    h, _ = rnn_forward(x, h0, W_xh, W_hh, b_h)
    T = x.shape[1]
    states = [h0] + [h[:, t] for t in range(T)]
    terms = np.zeros((T,) + W_hh.shape)
    g = dh
    for k in reversed(range(T)):
        da = g * (1.0 - states[k + 1] ** 2)
        terms[k] = states[k + 1].T @ da
        g = da @ W_hh.T
    return terms


function_exercise(
    "3.3",
    "the three-step form: explicit and implicit parts",
    2,
    reference=three_step_terms,
    cases=_three_cases,
    outputs=["terms"],
    mistakes=[
        (_explicit_only, "only the explicit part is there: terms 1 and 2 (the implicit part, through h_2 and h_1) are zero"),
        (lambda *a: three_step_terms(*a)[::-1], "the terms are in reverse order: index k-1 holds the term of step k"),
        (_no_inner_gain, "dh_3/dh_k needs the tanh derivative of every step on the way, not just W_hh"),
        (_new_state_in_explicit, "the explicit part of step k multiplies by h_{k-1}, the state that went into step k"),
        (lambda *a: three_step_terms(*a).transpose(0, 2, 1), "each term is transposed: it has the layout of W_hh, (H_in, H_out)"),
    ],
    stars=2,
    minutes=15,
)


# --------------------------------------------------------------------------
# 3.4 truncated BPTT
# --------------------------------------------------------------------------
def truncated_gradients(x, h0, W_xh, W_hh, b_h, dh, k):
    """Reference for 3.4: (dW_xh, dW_hh, db_h) of k-step truncated BPTT."""
    _, cache = rnn_forward(x, h0, W_xh, W_hh, b_h)
    return rnn_backward_truncated(dh, cache, k)[2:]


def _trunc_cases(rng: np.random.Generator | None = None) -> list[Case]:
    shapes = (
        [(2, 6, 3, 4, 2), (1, 7, 2, 3, 3), (3, 5, 2, 2, 1), (2, 4, 3, 3, 4)]
        if rng is None
        else draw_shapes(rng, 5, N=(1, 3), T=(2, 9), D=(1, 4), H=(1, 4), k=(1, 5))
    )
    rng = np.random.default_rng(304) if rng is None else rng
    cases = []
    for N, T, D, H, k in shapes:
        W_xh, W_hh, b_h = _params(rng, N, D, H)
        args = (rng.normal(size=(N, T, D)), rng.normal(size=(N, H)), W_xh, W_hh, b_h, rng.normal(size=(N, T, H)), k)
        cases.append(Case(f"N={N}, T={T}, D={D}, H={H}, k={k}", args))
    return cases


function_exercise(
    "3.4",
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
    minutes=15,
)

