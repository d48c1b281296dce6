"""Chapter 5 exercises: the reference answers pass, plausible wrong answers fail with a pointed message."""

from __future__ import annotations

import numpy as np
from helpers import assert_accepted, assert_rejected

from book.grading.checks import ch05 as checks_05


def _bias(x, hp, S, Wx, Wh, b, explicit=True, spec="ji,njk->nik", gain=True):
    h = np.tanh(x @ Wx + hp @ Wh + b)
    inner = (np.eye(h.shape[1])[None] if explicit else 0.0) + np.einsum(spec, Wh, S)
    return h, ((1 - h**2)[:, :, None] if gain else 1.0) * inner


def test_5_1_bias_sensitivity():
    assert_accepted("5.1", checks_05.rtrl_step_bias)
    assert_accepted("5.1", _bias)
    assert_rejected("5.1", lambda *a: _bias(*a, explicit=False), "explicit")
    assert_rejected("5.1", lambda *a: _bias(*a, spec="ij,njk->nik"), "transposed")
    assert_rejected("5.1", lambda *a: _bias(*a, gain=False), "derivative")
    assert_rejected("5.1", lambda *a: _bias(*a)[1], "tuple")


def _hh(x, hp, S, Wx, Wh, b, src="prev", spec="ji,njab->niab", implicit=True):
    h = np.tanh(x @ Wx + hp @ Wh + b)
    H = h.shape[1]
    spec_e = "nk,ij->nijk" if src == "swap" else "nj,ik->nijk"
    E = np.einsum(spec_e, h if src == "new" else hp, np.eye(H))
    inner = E + (np.einsum(spec, Wh, S) if implicit else 0.0)
    return h, (1 - h**2)[:, :, None, None] * inner


def test_5_2_hh_sensitivity():
    assert_accepted("5.2", checks_05.rtrl_step_hh)
    assert_accepted("5.2", _hh)
    assert_rejected("5.2", lambda *a: _hh(*a, src="new"), "off by one")
    assert_rejected("5.2", lambda *a: _hh(*a, spec="ij,njab->niab"), "transposed")
    assert_rejected("5.2", lambda *a: _hh(*a, implicit=False), "implicit")
    assert_rejected("5.2", lambda *a: _hh(*a, src="swap"), "swapped")
    assert_rejected("5.2", lambda *a: (_hh(*a)[0], np.swapaxes(_hh(*a)[1], 2, 3)), "S_hh")


def test_5_3_sensitivity_size():
    assert_accepted("5.3", checks_05.sensitivity_size)
    assert_rejected("5.3", lambda D, H: D * H + H * H + H, "number of parameters")
    assert_rejected("5.3", lambda D, H: H**3, "W_xh")
    assert_rejected("5.3", lambda D, H: H**4, "work per step")
    assert_rejected("5.3", lambda D, H: H * (D * H + H * H), "bias")


def test_5_4_choice():
    assert_accepted("5.4", "c")
    assert_rejected("5.4", "a", "H**4")
    assert_rejected("5.4", "b", "grows")
    assert_rejected("5.4", "d", "same gradient")
