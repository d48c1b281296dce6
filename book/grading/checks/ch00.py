"""Chapter 0: a frozen set of four exercises that the grader's own tests grade.

They are the first version of Chapter 1's exercises (one RNN step, a parameter
count, the final state, a choice), kept unchanged so that tests of the grader
(tests/test_grading*.py, tests/test_grade_cli.py, tests/test_autograder.py and
the cheat notebooks in tests/cheats/) do not depend on the book's exercises,
which change.  Their notebooks are tests/fixtures/00_*.ipynb.  No page of the
book uses them.
"""

from __future__ import annotations

import numpy as np

from book.grading.core import Case, choice_exercise, draw_shapes, function_exercise
from book.nn import count_params_simple_rnn, rnn_forward, rnn_step_forward


def _step_cases(rng: np.random.Generator | None = None) -> list[Case]:
    shapes = [(2, 3, 4), (1, 5, 2), (4, 2, 6)] if rng is None else draw_shapes(rng, 4, N=(1, 5), D=(1, 6), H=(1, 7))
    rng = np.random.default_rng(101) if rng is None else rng
    cases = []
    for N, D, H in shapes:
        cases.append(
            Case(
                f"N={N}, D={D}, H={H}",
                (
                    rng.normal(size=(N, D)),
                    rng.normal(size=(N, H)),
                    rng.normal(scale=0.5, size=(D, H)),
                    rng.normal(scale=0.5, size=(H, H)),
                    rng.normal(size=H),
                ),
            )
        )
    return cases


# Plausible mistakes, each recognised and named in the feedback.
def _no_bias(x, h_prev, W_xh, W_hh, b_h):
    return np.tanh(x @ W_xh + h_prev @ W_hh), None


def _transposed_W_hh(x, h_prev, W_xh, W_hh, b_h):
    return np.tanh(x @ W_xh + h_prev @ W_hh.T + b_h), None


def _no_tanh(x, h_prev, W_xh, W_hh, b_h):
    return x @ W_xh + h_prev @ W_hh + b_h, None


def _no_recurrence(x, h_prev, W_xh, W_hh, b_h):
    return np.tanh(x @ W_xh + b_h), None


function_exercise(
    "0.1",
    "one RNN step",
    3,
    reference=rnn_step_forward,
    cases=_step_cases,
    outputs=["h_next"],
    mistakes=[
        (_no_bias, "looks like the bias b_h is missing"),
        (_transposed_W_hh, "looks like W_hh is transposed: with row vectors it is h_prev @ W_hh"),
        (_no_tanh, "looks like the tanh is missing"),
        (_no_recurrence, "looks like h_prev is ignored: the previous state must enter through W_hh"),
    ],
    stars=2,
    minutes=15,
)


def count_params(D: int, H: int, T: int, shared: bool) -> int:
    """Reference for 1.2: parameters of T unrolled steps, with or without weight sharing."""
    per_step = count_params_simple_rnn(D, H)
    return per_step if shared else T * per_step


def _count_cases(rng: np.random.Generator | None = None) -> list[Case]:
    sizes = [(8, 16, 50), (3, 5, 7), (100, 32, 1)] if rng is None else draw_shapes(rng, 4, D=(1, 300), H=(1, 200), T=(2, 90))
    return [Case(f"D={D}, H={H}, T={T}, shared={s}", (D, H, T, s)) for D, H, T in sizes for s in (True, False)]


function_exercise(
    "0.2",
    "parameter count with and without weight sharing",
    2,
    reference=count_params,
    cases=_count_cases,
    outputs=["count"],
    mistakes=[
        (lambda D, H, T, s: (D * H + H * H) * (1 if s else T), "the bias b_h has H parameters too"),
        (lambda D, H, T, s: (D * H + H) * (1 if s else T), "W_hh (H x H) is missing"),
        (lambda D, H, T, s: count_params_simple_rnn(D, H) * T, "with sharing, the count does not grow with T"),
        (lambda D, H, T, s: count_params_simple_rnn(D, H), "without sharing, every step has its own copy"),
    ],
    stars=2,
    minutes=15,
)


def final_state(x, h0, W_xh, W_hh, b_h):
    """Reference for 1.3: the hidden state after the last step, (N, H)."""
    h, _ = rnn_forward(x, h0, W_xh, W_hh, b_h)
    return h[:, -1]


def rnn_sequence_cases(
    seed: int | np.random.Generator,
    shapes: list[tuple[int, int, int, int]],
    weight_scale: float = 0.6,
    bias_scale: float = 0.3,
) -> list[Case]:
    """Cases ``(x, h0, W_xh, W_hh, b_h)`` for sequence-level RNN exercises, one per ``(N, T, D, H)``."""
    rng = np.random.default_rng(seed)  # a generator is used as it is
    return [
        Case(
            f"N={N}, T={T}, D={D}, H={H}",
            (
                rng.normal(size=(N, T, D)),
                rng.normal(size=(N, H)),
                rng.normal(scale=weight_scale, size=(D, H)),
                rng.normal(scale=weight_scale, size=(H, H)),
                rng.normal(scale=bias_scale, size=H),
            ),
        )
        for N, T, D, H in shapes
    ]


def hidden_sequence_shapes(rng: np.random.Generator) -> list[tuple[int, int, int, int]]:
    """Shapes ``(N, T, D, H)`` of hidden sequence cases."""
    return draw_shapes(rng, 4, N=(1, 4), T=(1, 11), D=(1, 5), H=(1, 6))


def _final_cases(rng: np.random.Generator | None = None) -> list[Case]:
    if rng is not None:
        return rnn_sequence_cases(rng, hidden_sequence_shapes(rng))
    return rnn_sequence_cases(103, [(2, 5, 3, 4), (3, 1, 2, 3), (1, 9, 4, 2)])


def _skips_last(x, h0, W_xh, W_hh, b_h):
    return final_state(x[:, :-1], h0, W_xh, W_hh, b_h) if x.shape[1] > 1 else h0


def _forgets(x, h0, W_xh, W_hh, b_h):
    return rnn_step_forward(x[:, -1], h0, W_xh, W_hh, b_h)[0]


def _time_reversed(x, h0, W_xh, W_hh, b_h):
    return final_state(x[:, ::-1], h0, W_xh, W_hh, b_h)


function_exercise(
    "0.3",
    "the final hidden state of a sequence",
    2,
    reference=final_state,
    cases=_final_cases,
    outputs=["h_T"],
    mistakes=[
        (_skips_last, "off by one in time: the last step x[:, T-1] was not applied"),
        (_forgets, "each step must start from the state of the step before, not from h0"),
        (_time_reversed, "the steps ran backwards in time: start at x[:, 0]"),
    ],
    stars=2,
    minutes=15,
)


choice_exercise(
    "0.4",
    "which networks have sequential memory",
    1,
    correct="c",
    options="abcd",
    hints={
        "a": "a simple RNN also carries information forward in its hidden state",
        "b": "a feed-forward network has no state: each input is mapped independently",
        "d": "the state is a fixed-size vector; old information is overwritten and decays",
    },
    stars=1,
    minutes=5,
)
