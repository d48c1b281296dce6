"""Exercises of Chapter 7 (LSTM, GRU, bidirectional and stacked RNNs): cases, answers, hints.

7.2 and 7.3 grade backward passes that take the step's inputs (not a cache), so
they can be called on the grader's own inputs: ``lstm_step_backward(dh_next,
dc_next, x, h_prev, c_prev, W_x, W_h, b)`` and ``gru_step_backward(dh_next, x,
h_prev, W_x, W_h, b)``.
"""

from __future__ import annotations

import numpy as np

from book.data.tasks import delayed_recall
from book.grading.core import (
    Case,
    Mismatch,
    choice_exercise,
    draw_shapes,
    experiment_exercise,
    function_exercise,
    value_exercise,
)
from book.nn import (
    count_params_bidirectional,
    count_params_gru,
    count_params_lstm,
    gru_step_backward,
    gru_step_forward,
    lstm_forward,
    lstm_step_backward,
    lstm_step_forward,
    sigmoid,
)


def _shapes(rng: np.random.Generator | None) -> list[tuple[int, int, int]]:
    return [(2, 3, 4), (1, 5, 2), (3, 2, 3)] if rng is None else draw_shapes(rng, 4, N=(1, 5), D=(1, 6), H=(1, 6))


def _lstm_cases(seed: int, upstream: bool, rng: np.random.Generator | None = None) -> list[Case]:
    """``([dh_next, dc_next,] x, h_prev, c_prev, W_x, W_h, b)`` per shape."""
    shapes = _shapes(rng)
    rng = np.random.default_rng(seed) if rng is None else rng
    cases = []
    for N, D, H in shapes:
        args = [rng.normal(size=(N, D)), rng.normal(size=(N, H)), rng.normal(size=(N, H)),
                rng.normal(scale=0.7, size=(D, 4 * H)), rng.normal(scale=0.7, size=(H, 4 * H)),
                rng.normal(scale=0.7, size=4 * H)]
        if upstream:
            args = [rng.normal(size=(N, H)), rng.normal(size=(N, H)), *args]
        cases.append(Case(f"N={N}, D={D}, H={H}", tuple(args)))
    return cases


# --------------------------------------------------------------------------
# 7.1 debug: an LSTM step with two bugs
# --------------------------------------------------------------------------
def _lstm_variant(swap_fo: bool, old_cell: bool):
    def step(x, h_prev, c_prev, W_x, W_h, b):
        H = h_prev.shape[1]
        a = x @ W_x + h_prev @ W_h + b
        i, g = sigmoid(a[:, :H]), np.tanh(a[:, 2 * H : 3 * H])
        f, o = sigmoid(a[:, H : 2 * H]), sigmoid(a[:, 3 * H :])
        if swap_fo:
            f, o = o, f
        c_next = f * c_prev + i * g
        return o * np.tanh(c_prev if old_cell else c_next), c_next, None

    return step


buggy_lstm_step = _lstm_variant(swap_fo=True, old_cell=True)  # the code the exercise shows

function_exercise(
    "7.1",
    "debug an LSTM step",
    2,
    reference=lstm_step_forward,
    cases=lambda rng=None: _lstm_cases(701, False, rng),
    outputs=["h_next", "c_next"],
    mistakes=[
        (buggy_lstm_step, "this is the given code unchanged: compare each gate's block of columns with Keras's order"),
        (_lstm_variant(True, False), "the forget and output gates still read each other's blocks: Keras's order is i, f, c, o"),
        (_lstm_variant(False, True), "the gates are right now, but h_next must show the NEW cell state: o * tanh(c_next)"),
    ],
    kind="debug",
    stars=1,
    minutes=10,
)


# --------------------------------------------------------------------------
# 7.2 LSTM step backward
# --------------------------------------------------------------------------
def lstm_backward_from_inputs(dh_next, dc_next, x, h_prev, c_prev, W_x, W_h, b):
    """Reference for 7.2: ``(dx, dh_prev, dc_prev, dW_x, dW_h, db)`` of one LSTM step."""
    _, _, cache = lstm_step_forward(x, h_prev, c_prev, W_x, W_h, b)
    return lstm_step_backward(dh_next, dc_next, cache)


def _lstm_grads(tanh_grad=True, carry=True, keep_f=True, order="ifgo"):
    """An LSTM backward pass with one known mistake switched on."""

    def backward(dh_next, dc_next, x, h_prev, c_prev, W_x, W_h, b):
        *_, i, f, g, o, tanh_c = lstm_step_forward(x, h_prev, c_prev, W_x, W_h, b)[2]
        dc = (dc_next if carry else 0.0) + dh_next * o * ((1.0 - tanh_c**2) if tanh_grad else 1.0)
        blocks = {"i": dc * g * i * (1 - i), "f": dc * c_prev * f * (1 - f), "g": dc * i * (1 - g**2),
                  "o": dh_next * tanh_c * o * (1 - o)}
        da = np.concatenate([blocks[k] for k in order], axis=1)
        return da @ W_x.T, da @ W_h.T, dc * f if keep_f else dc, x.T @ da, h_prev.T @ da, da.sum(axis=0)

    return backward


LSTM_GRADS = ["dx", "dh_prev", "dc_prev", "dW_x", "dW_h", "db"]

function_exercise(
    "7.2",
    "LSTM step backward",
    3,
    reference=lstm_backward_from_inputs,
    cases=lambda rng=None: _lstm_cases(702, True, rng),
    outputs=LSTM_GRADS,
    mistakes=[
        (_lstm_grads(tanh_grad=False), "h_next = o * tanh(c_next): the gradient reaching c_next from h_next needs the factor 1 - tanh(c_next)**2"),
        (_lstm_grads(carry=False), "dc_next, the gradient arriving along the cell state from the next step, must be added to it"),
        (_lstm_grads(keep_f=False), "c_next = f * c_prev + ...: dc_prev is the cell's gradient times f"),
        (_lstm_grads(order="ifog"), "the pre-activation gradients must be concatenated in the order of the weight blocks, i, f, c (candidate), o"),
    ],
    rtol=1e-6,
    kind="implement",
    stars=3,
    minutes=30,
)


# --------------------------------------------------------------------------
# 7.3 GRU step backward (Keras reset_after=True)
# --------------------------------------------------------------------------
def _gru_cases(rng: np.random.Generator | None = None) -> list[Case]:
    shapes = _shapes(rng)
    rng = np.random.default_rng(703) if rng is None else rng
    cases = []
    for N, D, H in shapes:
        args = (rng.normal(size=(N, H)), rng.normal(size=(N, D)), rng.normal(size=(N, H)),
                rng.normal(scale=0.7, size=(D, 3 * H)), rng.normal(scale=0.7, size=(H, 3 * H)),
                rng.normal(scale=0.7, size=(2, 3 * H)))
        cases.append(Case(f"N={N}, D={D}, H={H}", args))
    return cases


def gru_backward_from_inputs(dh_next, x, h_prev, W_x, W_h, b):
    """Reference for 7.3: ``(dx, dh_prev, dW_x, dW_h, db)`` of one GRU step."""
    return gru_step_backward(dh_next, gru_step_forward(x, h_prev, W_x, W_h, b)[1])


def _gru_grads(direct=True, sign=1.0, reset_in_dmh=True, own_b1=True, bias_in_dr=True):
    """A GRU backward pass with one known mistake switched on."""

    def backward(dh_next, x, h_prev, W_x, W_h, b):
        H = h_prev.shape[1]
        z, r, u_h, hh = gru_step_forward(x, h_prev, W_x, W_h, b)[1][4:]
        da_h = dh_next * (1.0 - z) * (1.0 - hh**2)
        da_z = sign * dh_next * (h_prev - hh) * z * (1.0 - z)
        u = u_h if bias_in_dr else h_prev @ W_h[:, 2 * H :]
        da_r = da_h * u * r * (1.0 - r)
        dmx = np.concatenate([da_z, da_r, da_h], axis=1)
        dmh = np.concatenate([da_z, da_r, da_h * r if reset_in_dmh else da_h], axis=1)
        dh_prev = (dh_next * z if direct else 0.0) + dmh @ W_h.T
        db = np.stack([dmx.sum(axis=0), (dmh if own_b1 else dmx).sum(axis=0)])
        return dmx @ W_x.T, dh_prev, x.T @ dmx, h_prev.T @ dmh, db

    return backward


function_exercise(
    "7.3",
    "GRU step backward",
    3,
    reference=gru_backward_from_inputs,
    cases=_gru_cases,
    outputs=["dx", "dh_prev", "dW_x", "dW_h", "db"],
    mistakes=[
        (_gru_grads(direct=False), "h_prev also reaches h_next directly, through z * h_prev: add dh_next * z to dh_prev"),
        (_gru_grads(sign=-1.0), "wrong sign on the update gate: dh_next/dz = h_prev - h_tilde"),
        (_gru_grads(reset_in_dmh=False), "the recurrent part of the candidate enters as r * u_h: its gradient is the candidate's times r"),
        (_gru_grads(own_b1=False), "b[1] is added to h_prev W_h, whose candidate block is multiplied by r: db[1] differs from db[0] there"),
        (_gru_grads(bias_in_dr=False), "the reset gate multiplies u_h = h_prev W_h + b[1] with the bias included (reset after)"),
    ],
    kind="implement",
    stars=3,
    minutes=30,
)


# --------------------------------------------------------------------------
# 7.4 derive: the forget-gate bias that halves the cell-state gradient over 50 steps
# --------------------------------------------------------------------------
STEPS_7_4, FACTOR_7_4 = 50, 0.5
_f = FACTOR_7_4 ** (1.0 / STEPS_7_4)

value_exercise(
    "7.4",
    "the forget-gate bias for a 50-step memory",
    2,
    float(np.log(_f / (1.0 - _f))),
    mistakes=[
        (_f, "that is the forget gate f itself; the answer is the bias b_f with sigmoid(b_f) = f"),
        (float(np.log(0.99 / 0.01)), "f**50 = 0.5 is not f = 1 - 0.5/50: take the 50th root"),
        (float(-np.log(_f)), "sigmoid(b) = f gives b = log(f / (1 - f)), not -log(f)"),
    ],
    rtol=1e-3,
    name="b_f",
    stars=2,
    minutes=10,
)


# --------------------------------------------------------------------------
# 7.5 derive: the parameters of a stacked model
# --------------------------------------------------------------------------
def _stack_count(bi_factor=2, lstm_in=64, reset_after=True, dense=True):
    gru = count_params_gru(12, 32, reset_after)
    gru = count_params_bidirectional(gru) if bi_factor == 2 else gru
    return gru + count_params_lstm(lstm_in, 16) + (16 * 5 + 5 if dense else 0)


value_exercise(
    "7.5",
    "parameters of a stacked bidirectional model",
    2,
    _stack_count(),
    mistakes=[
        (_stack_count(lstm_in=32), "with merge_mode='concat' the LSTM reads 2 x 32 = 64 features per step, not 32"),
        (_stack_count(reset_after=False), "Keras's GRU defaults to reset_after=True: 3H more biases per direction"),
        (_stack_count(bi_factor=1, lstm_in=64), "Bidirectional holds two independent GRUs: count the GRU twice"),
        (_stack_count(dense=False), "the Dense layer has 16 x 5 weights and 5 biases too"),
    ],
    rtol=0,
    atol=0.5,
    name="the parameter count",
    stars=2,
    minutes=10,
)


# --------------------------------------------------------------------------
# 7.6 interpret: what changes when the last input changes
# --------------------------------------------------------------------------
choice_exercise(
    "7.6",
    "a bidirectional layer when x_T changes",
    1,
    correct="d",
    options="abcd",
    hints={
        "a": "the backward direction starts at x_T, so ask what its state holds when it reaches step 1",
        "b": "the forward direction at step t < T has read x_1, ..., x_t: has it seen x_T yet?",
        "c": "the forward state at step t summarises x_1, ..., x_t, the backward one x_T, ..., x_t: which of them contain x_T?",
    },
    stars=1,
    minutes=5,
)


# --------------------------------------------------------------------------
# 7.7 experiment: delayed recall at lag 10 on held-out sequences
# --------------------------------------------------------------------------
LAG_7_7, N_TEST_7_7, THRESHOLD_7_7 = 10, 1000, 0.9


def evaluate_recall(weights, rng: np.random.Generator | None = None) -> str:
    """Accuracy of an LSTM + Dense given by its weights, run here on delayed recall at lag 10."""
    if not isinstance(weights, (tuple, list)) or len(weights) != 5:
        raise Mismatch("hand over the tuple (W_x, W_h, b, W_out, b_out): the LSTM's three arrays, then the Dense layer's two")
    try:
        W_x, W_h, b, W_out, b_out = (np.asarray(w, dtype=np.float64) for w in weights)
    except (TypeError, ValueError):
        raise Mismatch("the five weights must be arrays of numbers") from None
    H = W_h.shape[0] if W_h.ndim == 2 else -1
    want = [(9, 4 * H), (H, 4 * H), (4 * H,), (H, 8), (8,)]
    got = [w.shape for w in (W_x, W_h, b, W_out, b_out)]
    if H < 1 or H > 256 or got != want:
        raise Mismatch(f"weight shapes {got}; an LSTM(H) on 9 features and a Dense(8) need {want} (H at most 256)")
    if not all(np.all(np.isfinite(w)) for w in (W_x, W_h, b, W_out, b_out)):
        raise Mismatch("the weights contain NaN or inf")
    seed = 7070 if rng is None else int(rng.integers(10_000, 2**31))
    x, y = delayed_recall(N_TEST_7_7, LAG_7_7, seed=seed)
    zeros = np.zeros((len(y), H))
    h, _ = lstm_forward(x.astype(np.float64), zeros, zeros, W_x, W_h, b)
    accuracy = float(np.mean((h[:, -1] @ W_out + b_out).argmax(axis=1) == y))
    measured = f"accuracy {accuracy:.2f} on {len(y)} held-out sequences at lag {LAG_7_7}"
    if accuracy < THRESHOLD_7_7:
        raise Mismatch(f"{measured}, below the threshold {THRESHOLD_7_7} (chance is 0.125)")
    return measured


experiment_exercise("7.7", "delayed recall at lag 10", 3, evaluate_recall, stars=2, minutes=20)
