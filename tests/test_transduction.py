"""book.data.transduction: the seeded string-reversal task."""

from __future__ import annotations

import numpy as np
import pytest

from book.data.transduction import (
    END,
    FIRST,
    PAD,
    START,
    decoder_inputs,
    lengths_of,
    part_of,
    reverse_task,
    shared_strings,
    to_text,
)


def test_targets_are_reversals_with_end():
    src, tgt = reverse_task(200, (1, 6), n_symbols=5, seed=3)
    assert src.shape == (200, 6) and tgt.shape == (200, 7)
    for s, t, L in zip(src, tgt, lengths_of(src), strict=True):
        assert 1 <= L <= 6 and np.all(s[L:] == PAD)
        assert np.all((s[:L] >= FIRST) & (s[:L] < FIRST + 5))
        np.testing.assert_array_equal(t[:L], s[:L][::-1])
        assert t[L] == END and np.all(t[L + 1 :] == PAD)


def test_seeded_and_lengths_cover_the_range():
    a = reverse_task(300, (2, 5), seed=1)
    b = reverse_task(300, (2, 5), seed=1)
    c = reverse_task(300, (2, 5), seed=2)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(a[0], c[0])
    assert set(lengths_of(a[0])) == {2, 3, 4, 5}


def test_parts_share_no_string_and_padding_does_not_matter():
    train = reverse_task(2000, (3, 6), part="train", seed=0)[0]
    test = reverse_task(500, (3, 12), part="test", seed=0, width=12)[0]
    assert shared_strings(train, test) == 0
    assert shared_strings(test, test) == len(test)
    assert all(part_of(r) == "test" for r in test)
    assert part_of([3, 4, 5]) == part_of([3, 4, 5, PAD, PAD])
    parts = [part_of([FIRST + i, FIRST + j, FIRST + k]) for i in range(8)
             for j in range(8) for k in range(8)]
    assert 0.7 < parts.count("train") / len(parts) < 0.9


def test_decoder_inputs_shift_the_target():
    tgt = np.array([[5, 4, 3, END, PAD], [3, END, PAD, PAD, PAD]])
    d = decoder_inputs(tgt)
    np.testing.assert_array_equal(d, [[START, 5, 4, 3, PAD], [START, 3, PAD, PAD, PAD]])


def test_text_and_errors():
    assert to_text([START, 3, 4, END, PAD]) == "^ab$"
    with pytest.raises(ValueError, match="lengths"):
        reverse_task(5, (0, 3))
    with pytest.raises(ValueError, match="part"):
        reverse_task(5, part="dev")
    with pytest.raises(ValueError, match="width"):
        reverse_task(5, (2, 6), width=4)
