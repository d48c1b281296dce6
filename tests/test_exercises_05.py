"""Chapter 5 exercises: the reference answers pass, plausible wrong answers fail with a pointed message."""

from __future__ import annotations

import numpy as np
from helpers import assert_accepted, assert_rejected

from book.grading import get_exercise
from book.grading.checks import ch05 as checks_05


def assert_hidden_rejects(exercise_id: str, answer) -> None:
    """An answer right on the visible cases only: accepted there, rejected on hidden ones."""
    assert_accepted(exercise_id, answer)
    for seed in range(3):
        result = get_exercise(exercise_id).run(answer, rng=np.random.default_rng(seed))
        assert result.status == "failed", f"{exercise_id}: hidden cases missed a special-cased answer"


def _leaky(x, hp, S, Wx, Wh, b, alpha, carry=True, gain_of_h=False):
    z = np.tanh(x @ Wx + hp @ Wh + b)
    h = (1 - alpha) * hp + alpha * z
    gain = 1 - (h if gain_of_h else z) ** 2
    through = gain[:, :, None] * (np.eye(h.shape[1]) + np.einsum("ji,njk->nik", Wh, S))
    return h, (1 - alpha) * S * carry + alpha * through


def test_5_1_leaky_sensitivity():
    assert_accepted("5.1", checks_05.leaky_step_bias)
    assert_accepted("5.1", _leaky)
    assert_rejected("5.1", lambda *a: _leaky(*a, carry=False), "(1 - alpha) S_{t-1}")
    assert_rejected("5.1", lambda *a: _leaky(*a, gain_of_h=True), "tanh(a_t)")
    assert_rejected("5.1", lambda *a: checks_05.leaky_step_bias(*a, leak_S=False), "plain tanh unit")
    assert_rejected("5.1", lambda *a: checks_05.leaky_step_bias(*a, spec="ij,njk->nik"), "transposed")
    assert_rejected("5.1", lambda *a: _leaky(*a)[1], "tuple")
    # right only for the visible step sizes
    assert_hidden_rejects("5.1", lambda *a: _leaky(*a) if a[-1] in (0.3, 0.7, 0.5) else _leaky(*a[:-1], 0.5))


def test_5_2_debugged_gradient():
    grad = checks_05.rtrl_bias_gradient
    assert_accepted("5.2", grad)
    assert_rejected("5.2", lambda *a: grad(*a, late=True, spec="ij,njk->nik"), "both bugs")
    assert_rejected("5.2", lambda *a: grad(*a, late=True), "off by one")
    assert_rejected("5.2", lambda *a: grad(*a, spec="ij,njk->nik"), "transposed")
    assert_rejected("5.2", lambda *a: grad(*a)[None], "shape")
    # the bias gradient agrees with BPTT's
    from book.nn import rnn_backward, rnn_forward

    for case in checks_05._grad_cases():
        x, h0, W_xh, W_hh, b_h, dh = case.args
        _, cache = rnn_forward(x, h0, W_xh, W_hh, b_h)
        assert np.allclose(grad(*case.args), rnn_backward(dh, cache)[4])


def test_5_3_element_wise_count():
    assert_accepted("5.3", 500)
    assert_accepted("5.3", 500.0)
    assert_rejected("5.3", 50_000, "zero for good")
    assert_rejected("5.3", 1_040_000, "full W_hh")
    assert_rejected("5.3", 400, "w have sensitivities")
    assert_rejected("5.3", "500", "text")


def test_5_4_crossover_length():
    from book.nn.rtrl import bptt_cache_size, sensitivity_size

    for D, H in [(4, 16), (2, 2), (3, 7)]:
        T = checks_05.crossover_length(D, H)
        assert bptt_cache_size(T, D, H) > sensitivity_size(D, H) >= bptt_cache_size(T - 1, D, H)
    assert_accepted("5.4", checks_05.crossover_length)
    assert_rejected("5.4", lambda D, H: -(-(H * (D * H + H * H + H)) // (D + H)), "strictly more")
    assert_rejected("5.4", lambda D, H: (D * H + H * H + H) // (D + H) + 1, "H times")
    assert_rejected("5.4", lambda D, H: H * (D * H + H * H + H) // H + 1, "D + H")
    visible = {(4, 16): 269, (2, 2): 6, (4, 32): 1053, (1, 1): 2}
    assert_hidden_rejects("5.4", lambda D, H: visible.get((D, H), 100))


def _shift(delay):
    return lambda x: np.r_[np.zeros((delay, 1)), x[:-delay]]


def _readout_only(x_train, y_train, H=8, seed=0):
    """The best linear read-out of an untrained network's state: no recurrent learning."""
    init = np.random.default_rng(seed)
    W_xh, W_hh = init.normal(size=(1, H)), init.normal(size=(H, H)) * 0.9 / np.sqrt(H)

    def states(x):
        h, out = np.zeros(H), []
        for x_t in x:
            h = np.tanh(x_t @ W_xh + h @ W_hh)
            out.append(np.r_[h, 1.0])
        return np.array(out)

    w = np.linalg.lstsq(states(x_train), y_train, rcond=None)[0]
    return lambda x: states(x) @ w


def test_5_5_online_experiment():
    assert_accepted("5.5", _shift(4))
    assert_accepted("5.5", lambda x: _shift(4)(x)[:, 0])  # (T,) is fine too
    assert_rejected("5.5", lambda x: np.zeros_like(x), "held-out loss 0.5", "threshold")
    assert_rejected("5.5", _shift(3), "four steps back")
    x, y = checks_05.delayed_signs(np.random.default_rng(0), 3000)
    assert_rejected("5.5", _readout_only(x, y), "threshold 0.05")
    assert_rejected("5.5", lambda x: _shift(4)(x)[:-1], "shape")
    assert_rejected("5.5", lambda x: np.full_like(x, np.nan), "nan")
    assert_rejected("5.5", 0.5, "function")
    # a table of the visible stream's answers is caught by the hidden streams
    seen = {}
    rng = np.random.default_rng(5055)
    for steps in (1000, int(rng.integers(600, 1500))):
        x, y = checks_05.delayed_signs(rng, steps)
        seen[x.tobytes()] = y
    assert_hidden_rejects("5.5", lambda x: seen.get(x.tobytes(), np.zeros_like(x)))


def test_5_6_choice():
    assert_accepted("5.6", "a")
    assert_rejected("5.6", "b", "grow")
    assert_rejected("5.6", "c", "10 MB")
    assert_rejected("5.6", "d", "1e9")
    assert_rejected("5.6", "ad", "one letter")


def test_5_7_choice():
    assert_accepted("5.7", "B")
    assert_rejected("5.7", "a", "one scalar")
    assert_rejected("5.7", "c", "count the passes")
    assert_rejected("5.7", "d", "walks backward")
