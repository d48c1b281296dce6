"""book.data.parity: the parity task's encoding, targets and determinism."""

from __future__ import annotations

import numpy as np
import pytest

from book.data.parity import count_overlap, encode_parity, parity_bits, parity_task


def test_targets_are_prefix_parities_and_inputs_one_hot():
    x, y = parity_task(50, 9, seed=3)
    assert x.shape == (50, 10, 3) and y.shape == (50, 10) and x.dtype == np.float32
    assert np.all(x.sum(axis=2) == 1) and np.all(x[:, 0, 2] == 1) and not x[:, 1:, 2].any()
    bits = x[:, 1:, 1].astype(int)
    for n in range(50):
        for t in range(10):
            assert y[n, t] == bits[n, :t].sum() % 2
    assert set(np.unique(y)) == {0, 1}


def test_deterministic_and_seeds_differ():
    assert np.array_equal(parity_bits(20, 8, 1), parity_bits(20, 8, 1))
    assert not np.array_equal(parity_bits(20, 8, 1), parity_bits(20, 8, 2))


def test_overlap_counts_shared_rows_only():
    x, _ = parity_task(100, 4, seed=0)  # 16 possible sequences: many repeats
    assert count_overlap(x, x[:10]) == 10
    assert count_overlap(x, parity_task(30, 8, seed=0)[0]) == 0
    x1, _ = encode_parity(np.array([[0, 1, 1]]))
    assert count_overlap(x1, encode_parity(np.array([[1, 1, 1]]))[0]) == 0


def test_bad_input():
    with pytest.raises(ValueError):
        parity_bits(0, 5, 0)
    with pytest.raises(ValueError):
        encode_parity(np.array([[0, 2]]))
