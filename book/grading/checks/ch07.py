"""Exercises of Chapter 7 (LSTM, GRU, bidirectional and stacked RNNs): cases, answers, hints."""

from __future__ import annotations

import numpy as np

from book.grading.core import Case, choice_exercise, draw_shapes, function_exercise
from book.nn import (
    count_params_bidirectional,
    count_params_gru,
    count_params_lstm,
    count_params_simple_rnn,
    gru_step_forward,
    lstm_step_forward,
    sigmoid,
)


def _cases(seed: int, gates: int, bias_shape, rng: np.random.Generator | None = None) -> list[Case]:
    shapes = [(2, 3, 4), (1, 5, 2), (4, 2, 6)] if rng is None else draw_shapes(rng, 4, N=(1, 5), D=(1, 6), H=(1, 7))
    rng = np.random.default_rng(seed) if rng is None else rng
    cases = []
    for N, D, H in shapes:
        args = [rng.normal(size=(N, D)), rng.normal(size=(N, H))]
        if gates == 4:
            args.append(rng.normal(size=(N, H)))  # c_prev
        args += [
            rng.normal(scale=0.7, size=(D, gates * H)),
            rng.normal(scale=0.7, size=(H, gates * H)),
            rng.normal(scale=0.7, size=bias_shape(H)),
        ]
        cases.append(Case(f"N={N}, D={D}, H={H}", tuple(args)))
    return cases


# --------------------------------------------------------------------------
# 7.1 LSTM step
# --------------------------------------------------------------------------
def _lstm_blocks(x, h_prev, W_x, W_h, b):
    H = h_prev.shape[1]
    a = x @ W_x + h_prev @ W_h + b
    return [a[:, k * H : (k + 1) * H] for k in range(4)]


def _lstm_order(order):
    """An LSTM that slices the four blocks in the given order of names (i, f, c, o)."""

    def step(x, h_prev, c_prev, W_x, W_h, b):
        blocks = dict(zip(order, _lstm_blocks(x, h_prev, W_x, W_h, b), strict=True))
        i, f, o = sigmoid(blocks["i"]), sigmoid(blocks["f"]), sigmoid(blocks["o"])
        c = f * c_prev + i * np.tanh(blocks["c"])
        return o * np.tanh(c), c, None

    return step


def _lstm_no_forget(x, h_prev, c_prev, W_x, W_h, b):
    a_i, _, a_g, a_o = _lstm_blocks(x, h_prev, W_x, W_h, b)
    c = c_prev + sigmoid(a_i) * np.tanh(a_g)
    return sigmoid(a_o) * np.tanh(c), c, None


def _lstm_no_tanh_out(x, h_prev, c_prev, W_x, W_h, b):
    _, c, _ = lstm_step_forward(x, h_prev, c_prev, W_x, W_h, b)
    a_o = _lstm_blocks(x, h_prev, W_x, W_h, b)[3]
    return sigmoid(a_o) * c, c, None


def _lstm_sigmoid_candidate(x, h_prev, c_prev, W_x, W_h, b):
    a_i, a_f, a_g, a_o = _lstm_blocks(x, h_prev, W_x, W_h, b)
    c = sigmoid(a_f) * c_prev + sigmoid(a_i) * sigmoid(a_g)
    return sigmoid(a_o) * np.tanh(c), c, None


def _lstm_no_bias(x, h_prev, c_prev, W_x, W_h, b):
    return lstm_step_forward(x, h_prev, c_prev, W_x, W_h, 0 * b)


function_exercise(
    "7.1",
    "one LSTM step",
    3,
    reference=lstm_step_forward,
    cases=lambda rng=None: _cases(701, 4, lambda H: (4 * H,), rng),
    outputs=["h_next", "c_next"],
    mistakes=[
        (_lstm_order("ifoc"), "wrong gate order: Keras stores the blocks as i, f, c (candidate), o"),
        (_lstm_order("fico"), "wrong gate order: the input gate i comes first, then the forget gate f"),
        (_lstm_order("icfo"), "wrong gate order: Keras stores the blocks as i, f, c (candidate), o"),
        (_lstm_no_forget, "the forget gate is missing: c_next = f * c_prev + i * g"),
        (_lstm_no_tanh_out, "h_next = o * tanh(c_next): the tanh on the cell state is missing"),
        (_lstm_sigmoid_candidate, "the candidate g uses tanh, not a sigmoid"),
        (_lstm_no_bias, "the bias b is missing"),
    ],
    stars=2,
    minutes=15,
)


# --------------------------------------------------------------------------
# 7.2 GRU step (Keras reset_after=True)
# --------------------------------------------------------------------------
def _gru_parts(x, h_prev, W_x, W_h, b):
    H = h_prev.shape[1]
    mx, mh = x @ W_x + b[0], h_prev @ W_h + b[1]
    z = sigmoid(mx[:, :H] + mh[:, :H])
    r = sigmoid(mx[:, H : 2 * H] + mh[:, H : 2 * H])
    return H, mx, mh, z, r


def _gru_swapped_z(x, h_prev, W_x, W_h, b):
    H, mx, mh, z, r = _gru_parts(x, h_prev, W_x, W_h, b)
    hh = np.tanh(mx[:, 2 * H :] + r * mh[:, 2 * H :])
    return (1 - z) * h_prev + z * hh, None


def _gru_reset_before(x, h_prev, W_x, W_h, b):
    H, mx, mh, z, r = _gru_parts(x, h_prev, W_x, W_h, b)
    hh = np.tanh(mx[:, 2 * H :] + (r * h_prev) @ W_h[:, 2 * H :] + b[1, 2 * H :])
    return z * h_prev + (1 - z) * hh, None


def _gru_bias_outside_reset(x, h_prev, W_x, W_h, b):
    H, mx, mh, z, r = _gru_parts(x, h_prev, W_x, W_h, b)
    hh = np.tanh(mx[:, 2 * H :] + r * (h_prev @ W_h[:, 2 * H :]) + b[1, 2 * H :])
    return z * h_prev + (1 - z) * hh, None


def _gru_no_recurrent_bias(x, h_prev, W_x, W_h, b):
    return gru_step_forward(x, h_prev, W_x, W_h, np.stack([b[0], 0 * b[1]]))


def _gru_rz_swapped(x, h_prev, W_x, W_h, b):
    H = h_prev.shape[1]
    perm = np.r_[H : 2 * H, 0:H, 2 * H : 3 * H]
    return gru_step_forward(x, h_prev, W_x[:, perm], W_h[:, perm], b[:, perm])


function_exercise(
    "7.2",
    "one GRU step (Keras, reset_after=True)",
    3,
    reference=gru_step_forward,
    cases=lambda rng=None: _cases(702, 3, lambda H: (2, 3 * H), rng),
    outputs=["h_next"],
    mistakes=[
        (_gru_swapped_z, "z and 1 - z are swapped: Keras keeps z * h_prev and writes (1 - z) * h_tilde"),
        (_gru_reset_before, "the reset gate is applied before the matrix product (the paper's form); Keras resets after it"),
        (_gru_bias_outside_reset, "the recurrent bias b[1] of the candidate belongs inside the reset product: r * (h_prev W_h + b[1])"),
        (_gru_no_recurrent_bias, "the recurrent bias b[1] is missing"),
        (_gru_rz_swapped, "wrong gate order: Keras stores the blocks as z, r, h"),
    ],
    stars=2,
    minutes=15,
)


# --------------------------------------------------------------------------
# 7.3 parameter counts
# --------------------------------------------------------------------------
def count_params(cell: str, D: int, H: int, bidirectional: bool = False, reset_after: bool = True) -> int:
    """Reference for 7.3: parameters of a Keras recurrent layer (biases included)."""
    if cell == "simple":
        n = count_params_simple_rnn(D, H)
    elif cell == "lstm":
        n = count_params_lstm(D, H)
    elif cell == "gru":
        n = count_params_gru(D, H, reset_after)
    else:
        raise ValueError(f"unknown cell {cell!r}")
    return count_params_bidirectional(n) if bidirectional else n


def _count_cases(rng: np.random.Generator | None = None) -> list[Case]:
    cases = []
    for D, H in [(10, 16), (3, 5)] if rng is None else draw_shapes(rng, 2, D=(1, 100), H=(1, 128)):
        for cell in ("simple", "lstm", "gru"):
            for bi in (False, True):
                for ra in ((True, False) if cell == "gru" else (True,)):
                    cases.append(Case(f"{cell}, D={D}, H={H}, bidirectional={bi}, reset_after={ra}", (cell, D, H, bi, ra)))
    return cases


def _variant(gates_lstm=4, gates_gru=3, extra=lambda H, ra: 3 * H if ra else 0, bias=True, bi_factor=2):
    def count(cell, D, H, bidirectional=False, reset_after=True):
        block = D * H + H * H + (H if bias else 0)
        n = {"simple": block, "lstm": gates_lstm * block, "gru": gates_gru * block + extra(H, reset_after)}[cell]
        return bi_factor * n if bidirectional else n

    return count


function_exercise(
    "7.3",
    "parameter counts of recurrent layers",
    2,
    reference=count_params,
    cases=_count_cases,
    outputs=["count"],
    mistakes=[
        (_variant(extra=lambda H, ra: 0), "reset_after=True has a second bias row: 3H more parameters"),
        (_variant(extra=lambda H, ra: 0 if ra else 3 * H), "it is reset_after=True (Keras's default) that has the extra 3H biases"),
        (_variant(extra=lambda H, ra: H if ra else 0), "the second bias row has 3H entries (one per gate block), not H"),
        (_variant(gates_lstm=3), "an LSTM has four blocks (i, f, c, o), not three"),
        (_variant(bi_factor=1), "a Bidirectional layer holds two independent copies: double the count"),
        (_variant(bias=False, extra=lambda H, ra: 0), "the biases are missing"),
    ],
    stars=2,
    minutes=15,
)


# --------------------------------------------------------------------------
# 7.4 reading a bidirectional layer
# --------------------------------------------------------------------------
choice_exercise(
    "7.4",
    "what a bidirectional layer sees",
    1,
    correct="b",
    options="abcd",
    hints={
        "a": "the backward half at step 1 has already read x_T, ..., x_1",
        "c": "the first H features are the forward direction, which has read x_1, ..., x_t",
        "d": "merge modes have no parameters; the layer always has twice the wrapped layer's",
    },
    stars=1,
    minutes=5,
)
