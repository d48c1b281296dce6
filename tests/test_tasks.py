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
        lambda s: tasks.class_to_wave(20, seed=s, amplitude=(0.5, 1.5)),
        lambda s: tasks.draw_split(tasks.majority_vote, 20, "test", seed=s, T=7),
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


def test_class_to_wave_with_amplitudes():
    x, y = tasks.class_to_wave(50, T=12, n_classes=3, seed=2, amplitude=(0.5, 1.5))
    assert x.shape == (50, 4) and y.shape == (50, 12, 1) and x.dtype == np.float32
    k, a = x[:, :3].argmax(1), x[:, 3]
    assert np.all((a >= 0.5) & (a <= 1.5)) and len(np.unique(a)) == 50
    t = np.arange(12)
    want = a[:, None] * np.sin(2 * np.pi * (k[:, None] + 1) * t / 12)
    np.testing.assert_allclose(y[..., 0], want, atol=1e-6)
    # the default (no amplitude) is the old task, and the classes are drawn the same way
    x0, y0 = tasks.class_to_wave(50, T=12, n_classes=3, seed=2)
    assert x0.shape == (50, 3)
    np.testing.assert_array_equal(x0, x[:, :3])
    x1, y1 = tasks.class_to_wave(50, T=12, n_classes=3, seed=2, amplitude=(1.0, 1.0))
    np.testing.assert_array_equal(y1, y0)


def test_split_of_is_a_function_of_the_input():
    x, _ = tasks.majority_vote(4000, T=5, seed=0)  # 32 possible inputs, many repeats
    part = tasks.split_of(x)
    assert part.shape == (4000,) and set(np.unique(part)) <= {0, 1, 2}
    np.testing.assert_array_equal(part, tasks.split_of(x.copy()))
    for row in np.unique(x, axis=0):  # equal inputs always land in the same part
        same = np.all(x == row, axis=(1, 2))
        assert len(np.unique(part[same])) == 1
    u, _ = tasks.point_classes(20000, seed=1)
    share = np.bincount(tasks.split_of(u, (0.6, 0.3, 0.1)), minlength=3) / len(u)
    np.testing.assert_allclose(share, [0.6, 0.3, 0.1], atol=0.02)
    with pytest.raises(ValueError):
        tasks.split_of(u, (0.5, 0.4))
    with pytest.raises(ValueError):
        tasks.split_of(u, (1.2, -0.1, -0.1))


def test_draw_split_parts_share_no_input():
    # a tiny space (2^7 = 128 inputs): plain fresh draws overlap, split draws never do
    fresh_train, _ = tasks.majority_vote(1000, T=7, seed=0)
    fresh_test, _ = tasks.majority_vote(300, T=7, seed=1)
    assert tasks.count_overlap(fresh_train, fresh_test) > 250
    parts = {
        p: tasks.draw_split(tasks.majority_vote, 300, p, seed=k, T=7)
        for k, p in enumerate(tasks.SPLITS)
    }
    for p, (x, y) in parts.items():
        assert x.shape == (300, 7, 1) and y.shape == (300,) and x.dtype == np.float32
        np.testing.assert_array_equal(y, x.sum((1, 2)) > 0)  # still the task's answers
        assert np.all(tasks.split_of(x) == tasks.SPLITS.index(p))
    for a in tasks.SPLITS:
        for b in tasks.SPLITS:
            if a != b:
                assert tasks.count_overlap(parts[a][0], parts[b][0]) == 0
    # the seed does not matter for disjointness: the same seed, two parts
    x_tr, _ = tasks.draw_split(tasks.reverse_prefix, 500, "train", seed=3, T_in=4, T_out=2)
    x_te, y_te = tasks.draw_split(tasks.reverse_prefix, 100, "test", seed=3, T_in=4, T_out=2)
    assert tasks.count_overlap(x_tr, x_te) == 0
    assert x_te.shape == (100, 4, 4) and y_te.shape == (100, 2)
    with pytest.raises(ValueError):
        tasks.draw_split(tasks.majority_vote, 10, "holdout", T=7)
    with pytest.raises(ValueError):
        tasks.draw_split(tasks.majority_vote, 10, "val", fractions=(0.9, 0.0, 0.1), T=7)


def test_count_overlap():
    a = np.arange(12, dtype=np.float32).reshape(3, 2, 2)
    b = np.concatenate([a[[2, 0, 2]], a[:1] + 100])
    assert tasks.count_overlap(a, b) == 3 and tasks.count_overlap(b, a) == 2
    assert tasks.count_overlap(a, a[:0]) == 0


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
