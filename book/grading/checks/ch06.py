"""Exercises of Chapter 6 (the four sequence types): cases, answers, hints."""

from __future__ import annotations

from typing import Any

import numpy as np

from book.grading.core import (
    Case,
    Exercise,
    Mismatch,
    check_function_cases,
    choice_exercise,
    draw_shapes,
    function_exercise,
    register,
)
from book.nn import count_params_simple_rnn, rnn_step_forward


# --------------------------------------------------------------------------
# 6.1 output shapes
# --------------------------------------------------------------------------
def output_shape(kind: str, N: int, T: int, D: int, H: int) -> tuple[int, ...]:
    """Reference for 6.1: output shape of SimpleRNN(H) ("last"/"sequences") or Dense(H) ("dense") on (N, T, D)."""
    if kind == "last":
        return (N, H)
    if kind in ("sequences", "dense"):
        return (N, T, H)
    raise ValueError(f"unknown kind {kind!r}")


def _shape_cases(rng: np.random.Generator | None = None) -> list[Case]:
    shapes = [(32, 10, 3, 16), (1, 7, 5, 2)] if rng is None else draw_shapes(rng, 3, N=(1, 64), T=(2, 40), D=(1, 20), H=(1, 50))
    return [
        Case(f"kind={k!r}, N={N}, T={T}, D={D}, H={H}", (k, N, T, D, H))
        for N, T, D, H in shapes
        for k in ("last", "sequences", "dense")
    ]


def _as_shape(out: Any) -> Any:
    if isinstance(out, (tuple, list)):
        try:
            return np.asarray([int(v) for v in out], dtype=np.float64)
        except (TypeError, ValueError):
            raise Mismatch(f"expected a tuple of integers, got {out!r}") from None
    if out is None:
        return None
    raise Mismatch(f"expected a tuple such as (N, T, H), got a {type(out).__name__}")


def _shape_mistake(wrong):
    return lambda *args: _as_shape(wrong(*args))


_SHAPE_MISTAKES = [
    (
        lambda k, N, T, D, H: (N, H) if k in ("sequences", "last") else (N, T, H),
        "return_sequences=True returns every step's state, (N, T, H)",
    ),
    (
        lambda k, N, T, D, H: (N, T, H) if k in ("sequences", "last") else (N, T, H),
        "by default a recurrent layer returns only the final state, (N, H)",
    ),
    (
        lambda k, N, T, D, H: (N, H) if k in ("last", "dense") else (N, T, H),
        "a Dense layer on 3-D input acts on the last axis at every step: (N, T, H)",
    ),
    (
        lambda k, N, T, D, H: (N, T, D) if k != "last" else (N, D),
        "the output width is the number of units H, not the input width D",
    ),
]


def _grade_shape(fn: Any, rng: np.random.Generator | None = None) -> str:
    if not callable(fn):
        raise Mismatch(f"expected a function, got {type(fn).__name__}")

    def wrapped(*args):
        return _as_shape(fn(*args))

    return check_function_cases(
        wrapped,
        _shape_mistake(output_shape),
        _shape_cases(rng),
        ["shape"],
        [(_shape_mistake(w), hint) for w, hint in _SHAPE_MISTAKES],
    )


register(Exercise("6.1", "output shapes of recurrent and dense layers", 2, _grade_shape, hidden=True, kind="implement", stars=2, minutes=15))


# --------------------------------------------------------------------------
# 6.2 which construction
# --------------------------------------------------------------------------
choice_exercise(
    "6.2",
    "which construction translates 12 words into 9",
    1,
    correct="b",
    options="abcd",
    hints={
        "a": "return_sequences=True gives one output per input step: 12, aligned with the input",
        "c": "RepeatVector makes one-to-many: it starts from a single vector, not a sequence",
        "d": "return_sequences=False gives one vector for the whole sentence, not a sequence of words",
    },
    stars=1,
    minutes=5,
)


# --------------------------------------------------------------------------
# 6.3 masked recurrence
# --------------------------------------------------------------------------
def masked_rnn_forward(x, mask, h0, W_xh, W_hh, b_h):
    """Reference for 6.3: all states (N, T, H); a masked step (mask False) keeps the previous state."""
    N, T, _ = x.shape
    h = np.empty((N, T, h0.shape[1]))
    h_t = h0
    for t in range(T):
        h_new, _ = rnn_step_forward(x[:, t], h_t, W_xh, W_hh, b_h)
        h_t = np.where(mask[:, t, None], h_new, h_t)
        h[:, t] = h_t
    return h


def _mask_cases(rng: np.random.Generator | None = None) -> list[Case]:
    settings = (
        [(3, 5, 2, 4, "post"), (2, 6, 3, 3, "pre"), (4, 4, 2, 2, "mixed")]
        if rng is None
        else [(*s, kind) for s, kind in zip(draw_shapes(rng, 3, N=(1, 5), T=(2, 8), D=(1, 4), H=(1, 5)),
                                            ("post", "pre", "mixed"), strict=True)]
    )
    rng = np.random.default_rng(601) if rng is None else rng
    cases = []
    for N, T, D, H, kind in settings:
        lengths = rng.integers(1, T + 1, size=N)
        lengths[0] = T - 1  # at least one padded step
        steps = np.arange(T)[None, :]
        if kind == "post":
            mask = steps < lengths[:, None]
        elif kind == "pre":
            mask = steps >= (T - lengths)[:, None]
        else:
            mask = rng.random((N, T)) < 0.6
            mask[0, 1] = False
        x = rng.normal(size=(N, T, D)) * mask[..., None]  # padded steps hold zeros
        cases.append(
            Case(
                f"N={N}, T={T}, D={D}, H={H}, {kind} padding",
                (
                    x,
                    mask,
                    rng.normal(size=(N, H)),
                    rng.normal(scale=0.6, size=(D, H)),
                    rng.normal(scale=0.6, size=(H, H)),
                    rng.normal(scale=0.5, size=H),
                ),
            )
        )
    return cases


def _mask_ignored(x, mask, h0, W_xh, W_hh, b_h):
    return masked_rnn_forward(x, np.ones_like(mask), h0, W_xh, W_hh, b_h)


def _mask_zeroes_state(x, mask, h0, W_xh, W_hh, b_h):
    h, h_t = [], h0
    for t in range(x.shape[1]):
        h_new, _ = rnn_step_forward(x[:, t], h_t, W_xh, W_hh, b_h)
        h_t = np.where(mask[:, t, None], h_new, 0.0)
        h.append(h_t)
    return np.stack(h, axis=1)


def _mask_inverted(x, mask, h0, W_xh, W_hh, b_h):
    return masked_rnn_forward(x, ~mask, h0, W_xh, W_hh, b_h)


def _mask_zeroes_output(x, mask, h0, W_xh, W_hh, b_h):
    h = _mask_ignored(x, mask, h0, W_xh, W_hh, b_h)
    return h * mask[..., None]


function_exercise(
    "6.3",
    "a masked recurrence",
    3,
    reference=masked_rnn_forward,
    cases=_mask_cases,
    outputs=["h"],
    mistakes=[
        (_mask_ignored, "the mask is ignored: padded steps still update the state"),
        (_mask_zeroes_state, "at a masked step the state must be carried over, not reset to zero"),
        (_mask_inverted, "the mask is inverted: True marks the real steps"),
        (_mask_zeroes_output, "zeroing the output at padded steps is not enough: the state itself must skip them"),
    ],
    stars=2,
    minutes=15,
)


# --------------------------------------------------------------------------
# 6.4 parameters of an encoder-decoder
# --------------------------------------------------------------------------
def seq2seq_params(D: int, H: int, D_dec: int, K: int) -> int:
    """Reference for 6.4: SimpleRNN(H) encoder on D, SimpleRNN(H) decoder on D_dec, Dense(K)."""
    return count_params_simple_rnn(D, H) + count_params_simple_rnn(D_dec, H) + H * K + K


def _s2s_cases(rng: np.random.Generator | None = None) -> list[Case]:
    sizes = (
        [(4, 8, 3, 4), (10, 32, 10, 7), (1, 1, 2, 3)]
        if rng is None
        else draw_shapes(rng, 4, D=(1, 60), H=(1, 128), D_dec=(1, 60), K=(1, 40))
    )
    return [Case(f"D={D}, H={H}, D_dec={E}, K={K}", (D, H, E, K)) for D, H, E, K in sizes]


function_exercise(
    "6.4",
    "parameters of an encoder-decoder",
    2,
    reference=seq2seq_params,
    cases=_s2s_cases,
    outputs=["count"],
    mistakes=[
        (lambda D, H, E, K: (D * H + H * H) + (E * H + H * H) + H * K + K, "each recurrent layer has a bias of H"),
        (lambda D, H, E, K: 2 * count_params_simple_rnn(D, H) + H * K + K, "the decoder reads D_dec features, not D"),
        (lambda D, H, E, K: seq2seq_params(D, H, E, K) - K, "the Dense layer has a bias of K"),
        (lambda D, H, E, K: seq2seq_params(D, H, E, K) + H * H, "handing the state over adds no parameters"),
        (lambda D, H, E, K: count_params_simple_rnn(D, H) + H * K + K, "the decoder is a second recurrent layer with its own weights"),
    ],
    stars=2,
    minutes=15,
)
