"""Chapter 7 exercises: the reference answers pass, plausible wrong answers fail with a pointed message."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import assert_accepted, assert_rejected, grade_one

from book.grading import get_exercise
from book.grading.checks import ch07 as checks_07
from book.nn import count_params_gru, count_params_lstm, lstm_step_forward


def test_7_1_debug_lstm_step():
    assert_accepted("7.1", lstm_step_forward)
    assert_rejected("7.1", checks_07.buggy_lstm_step, "given code unchanged")
    assert_rejected("7.1", checks_07._lstm_variant(True, False), "forget and output")
    assert_rejected("7.1", checks_07._lstm_variant(False, True), "new cell state")
    assert_rejected("7.1", lambda *a: lstm_step_forward(*a)[:1], "expected at least 2")


def test_7_2_lstm_backward():
    assert_accepted("7.2", checks_07.lstm_backward_from_inputs)
    assert_accepted("7.2", checks_07._lstm_grads())
    assert_rejected("7.2", checks_07._lstm_grads(tanh_grad=False), "1 - tanh(c_next)**2")
    assert_rejected("7.2", checks_07._lstm_grads(carry=False), "dc_next")
    assert_rejected("7.2", checks_07._lstm_grads(keep_f=False), "times f")
    assert_rejected("7.2", checks_07._lstm_grads(order="ifog"), "order of the weight blocks")
    assert_rejected("7.2", lambda *a: checks_07.lstm_backward_from_inputs(*a)[:5], "expected at least 6")


def test_7_3_gru_backward():
    assert_accepted("7.3", checks_07.gru_backward_from_inputs)
    assert_accepted("7.3", checks_07._gru_grads())
    assert_rejected("7.3", checks_07._gru_grads(direct=False), "dh_next * z")
    assert_rejected("7.3", checks_07._gru_grads(sign=-1.0), "sign")
    assert_rejected("7.3", checks_07._gru_grads(reset_in_dmh=False), "times r")
    assert_rejected("7.3", checks_07._gru_grads(own_b1=False), "db[1]")
    assert_rejected("7.3", checks_07._gru_grads(bias_in_dr=False), "bias included")


def test_backward_references_match_finite_differences():
    from book.nn import numerical_gradient, rel_error

    for case in checks_07._lstm_cases(1, True)[:1] + checks_07._gru_cases()[:1]:
        args = [np.array(a, dtype=float) for a in case.args]
        lstm = len(args) == 8
        n_up = 2 if lstm else 1
        ref = checks_07.lstm_backward_from_inputs if lstm else checks_07.gru_backward_from_inputs
        fwd = (lambda *a: lstm_step_forward(*a)[:2]) if lstm else (lambda *a: checks_07.gru_step_forward(*a)[:1])
        grads = ref(*args)
        def loss(fwd=fwd, args=args, n_up=n_up):
            return sum(np.sum(o * u) for o, u in zip(fwd(*args[n_up:]), args[:n_up], strict=True))

        for k, x in enumerate(args[n_up:]):
            assert rel_error(grads[k], numerical_gradient(loss, x)) < 1e-7


def test_hidden_cases_catch_answers_fitted_to_the_visible_ones():
    for ex_id, ref in [("7.2", checks_07.lstm_backward_from_inputs), ("7.3", checks_07.gru_backward_from_inputs)]:
        def fitted(*args, ref=ref):
            out = ref(*args)
            H = args[0].shape[1]
            return out if (args[0].shape[0], H) in {(2, 4), (1, 2), (3, 3)} else tuple(0 * o for o in out)

        assert grade_one(ex_id, fitted).status == "passed"
        hidden = get_exercise(ex_id).run(fitted, rng=np.random.default_rng(5))
        assert hidden.status == "failed"


def test_7_4_forget_bias():
    f = 0.5 ** (1 / 50)
    assert_accepted("7.4", float(np.log(f / (1 - f))))
    assert_accepted("7.4", 4.27)
    assert_rejected("7.4", f, "forget gate f itself")
    assert_rejected("7.4", float(np.log(0.99 / 0.01)), "50th root")
    assert_rejected("7.4", 3.0, "expected")


def test_7_5_stacked_count():
    gru = 2 * count_params_gru(12, 32)
    assert_accepted("7.5", gru + count_params_lstm(64, 16) + 85)
    assert_rejected("7.5", gru + count_params_lstm(32, 16) + 85, "64 features")
    assert_rejected("7.5", 2 * count_params_gru(12, 32, False) + count_params_lstm(64, 16) + 85, "reset_after")
    assert_rejected("7.5", gru // 2 + count_params_lstm(64, 16) + 85, "twice")
    assert_rejected("7.5", gru + count_params_lstm(64, 16), "Dense")


def test_7_6_choice():
    assert_accepted("7.6", "d")
    assert_accepted("7.6", " D")
    assert_rejected("7.6", "a", "backward direction")
    assert_rejected("7.6", "b", "forward direction")
    assert_rejected("7.6", "c", "which of them")


def _recall_weights(H=16):
    """An LSTM built by hand that stores the step-0 symbol: input gate open only on the flag."""
    W_x, W_h, b = np.zeros((9, 4 * H)), np.zeros((H, 4 * H)), np.zeros(4 * H)
    for s in range(8):
        W_x[s, 2 * H + s] = 3.0  # candidate: the symbol's channel
    W_x[8, :H] = 20.0  # input gate: open at the flag
    b[:H] = -10.0  # ... and shut otherwise
    b[H : 2 * H] = 20.0  # forget gate: keep everything
    b[3 * H :] = 20.0  # output gate: show the cell
    W_out = np.zeros((H, 8))
    W_out[np.arange(8), np.arange(8)] = 1.0
    return W_x, W_h, b, W_out, np.zeros(8)


def test_7_7_experiment():
    assert_accepted("7.7", _recall_weights())
    assert get_exercise("7.7").run(_recall_weights(), rng=np.random.default_rng(1)).status == "passed"
    rng = np.random.default_rng(0)
    untrained = tuple(rng.normal(scale=0.3, size=w.shape) for w in _recall_weights())
    assert_rejected("7.7", untrained, "below the threshold 0.9")
    constant = (*_recall_weights()[:3], np.zeros((16, 8)), np.eye(8)[3])
    assert_rejected("7.7", constant, "below the threshold")
    no_memory = list(_recall_weights())
    no_memory[2] = no_memory[2].copy()
    no_memory[2][16:32] = -20.0  # forget gate shut: the symbol is lost after one step
    assert_rejected("7.7", tuple(no_memory), "below the threshold")
    assert_rejected("7.7", _recall_weights()[:3], "tuple")
    assert_rejected("7.7", (*_recall_weights()[:4], np.zeros(5)), "shapes")


@pytest.mark.parametrize("seed", [2, 3])
def test_7_7_hidden_sequences_differ(seed):
    message = get_exercise("7.7").run(_recall_weights(), rng=np.random.default_rng(seed)).message
    assert "accuracy 1.00" in message
