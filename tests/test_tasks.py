"""book.data.tasks: shapes, determinism and the answers the task generators promise."""

from __future__ import annotations

import numpy as np
import pytest

from book.data import tasks


def test_generators_are_deterministic():
    for make in [
        lambda s: tasks.point_classes(20, seed=s),
        lambda s: tasks.class_to_wave(20, seed=s),
        lambda s: tasks.majority_vote(20, seed=s),
        lambda s: tasks.running_max(20, seed=s),
        lambda s: tasks.reverse_prefix(20, seed=s),
        lambda s: tasks.delayed_recall(20, lag=4, seed=s),
        lambda s: tasks.adding_problem(20, T=10, seed=s),
    ]:
        a, b, c = make(3), make(3), make(4)
        for u, v in zip(a, b, strict=True):
            np.testing.assert_array_equal(u, v)
        assert not np.array_equal(a[0], c[0])
        assert a[0].dtype == np.float32


def test_shapes_and_answers():
    x, y = tasks.point_classes(50)
    assert x.shape == (50, 2) and set(np.unique(y)) <= {0, 1}
    np.testing.assert_array_equal(y, (x**2).sum(1) < 1)

    x, y = tasks.class_to_wave(10, T=12, n_classes=3)
    assert x.shape == (10, 3) and y.shape == (10, 12, 1)
    k = x.argmax(1)
    np.testing.assert_allclose(y[:, 3, 0], np.sin(2 * np.pi * (k + 1) * 3 / 12), atol=1e-6)

    x, y = tasks.majority_vote(30, T=9)
    assert x.shape == (30, 9, 1)
    np.testing.assert_array_equal(y, x.sum((1, 2)) > 0)
    with pytest.raises(ValueError):
        tasks.majority_vote(3, T=4)

    x, y = tasks.running_max(10, T=6, n_symbols=5)
    assert x.shape == (10, 6, 5) and y.shape == (10, 6)
    np.testing.assert_array_equal(y, np.maximum.accumulate(x.argmax(-1), axis=1))

    x, y = tasks.reverse_prefix(10, T_in=6, T_out=3, n_symbols=4)
    assert x.shape == (10, 6, 4) and y.shape == (10, 3)
    np.testing.assert_array_equal(y, x.argmax(-1)[:, [2, 1, 0]])

    x, y = tasks.delayed_recall(40, lag=7, n_symbols=8, noise=2.0)
    assert x.shape == (40, 8, 9)
    np.testing.assert_array_equal(x[:, 0, :8].argmax(1), y)
    assert np.all(x[:, 0, 8] == 1) and np.all(x[:, 1:, 8] == 0)

    x, y = tasks.adding_problem(40, T=10)
    assert x.shape == (40, 10, 2)
    assert np.all(x[:, :, 1].sum(1) == 2)
    np.testing.assert_allclose(y, (x[:, :, 0] * x[:, :, 1]).sum(1), rtol=1e-6)


def test_padding_and_masks():
    seqs = [np.ones((3, 2)), 2 * np.ones((1, 2)), 3 * np.ones((4, 2))]
    x, mask = tasks.pad_sequences(seqs)
    assert x.shape == (3, 4, 2)
    np.testing.assert_array_equal(mask, tasks.lengths_to_mask([3, 1, 4], 4))
    assert np.all(x[0, 3] == 0) and np.all(x[1, 0] == 2)
    x, mask = tasks.pad_sequences(seqs, maxlen=5, padding="pre", value=-1)
    assert x.shape == (3, 5, 2) and np.all(x[1, :4] == -1) and np.all(x[1, 4] == 2)
    assert mask[1].tolist() == [False] * 4 + [True]
    with pytest.raises(ValueError):
        tasks.pad_sequences(seqs, maxlen=2)
    with pytest.raises(ValueError):
        tasks.pad_sequences(seqs, padding="middle")


def test_diagrams_draw_every_type():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from book.figures.sequence_types import LAYOUTS, draw_mapping, sequence_types_figure

    fig = sequence_types_figure()
    assert len(fig.axes) == len(LAYOUTS)
    plt.close(fig)
    fig, ax = plt.subplots()
    with pytest.raises(ValueError):
        draw_mapping(ax, "many-to-few")
    plt.close(fig)
