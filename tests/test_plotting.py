"""book.figures.graphs: the folded and unrolled graphs are drawn with the right number of parts."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle  # noqa: E402

from book.figures.graphs import DELAY_SIZE, EDGE_COLOURS, draw_folded, draw_unrolled  # noqa: E402


def _parts(ax):
    boxes = [p for p in ax.patches if isinstance(p, FancyBboxPatch)]
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    return boxes, arrows


@pytest.mark.parametrize("T", [1, 3, 8])
@pytest.mark.parametrize("outputs", [True, False])
def test_unrolled_counts(T, outputs):
    fig, ax = plt.subplots()
    counts = draw_unrolled(ax, T, outputs=outputs)
    boxes, arrows = _parts(ax)
    per_step = 3 if outputs else 2
    assert counts == {"nodes": per_step * T + 1, "edges": per_step * T}
    assert len(boxes) == counts["nodes"] and len(arrows) == counts["edges"]
    texts = {t.get_text() for t in ax.texts}
    assert "$h_0$" in texts and f"$x_{{{T}}}$" in texts and f"$h_{{{T}}}$" in texts
    assert ("$y_{1}$" in texts) == outputs
    assert ax.get_title() == f"unrolled over T = {T} steps"
    plt.close(fig)


def test_shared_weights_share_a_colour():
    fig, ax = plt.subplots()
    draw_unrolled(ax, 5)
    _, arrows = _parts(ax)
    colours = {matplotlib.colors.to_hex(a.get_edgecolor()) for a in arrows}
    assert colours == {matplotlib.colors.to_hex(c) for c in EDGE_COLOURS.values()}
    plt.close(fig)


def test_folded_and_bad_T():
    fig, (a, b) = plt.subplots(1, 2)
    assert draw_folded(a) == {"nodes": 3, "edges": 3}
    assert draw_folded(b, outputs=False, title=None) == {"nodes": 2, "edges": 2}
    assert len(_parts(a)[0]) == 3
    with pytest.raises(ValueError):
        draw_unrolled(a, 0)
    plt.close(fig)


def _delays(ax):
    return [p for p in ax.patches if isinstance(p, Rectangle) and p.get_label() == "delay"]


def test_folded_loop_marks_the_one_step_delay():
    fig, (a, b) = plt.subplots(1, 2)
    draw_folded(a)
    draw_unrolled(b, 3)
    (square,) = _delays(a)  # one delay square, on the self-loop
    assert square.get_width() == square.get_height() == DELAY_SIZE
    assert matplotlib.colors.to_hex(square.get_facecolor()) == "#000000"
    cx, cy = square.get_x() + DELAY_SIZE / 2, square.get_y() + DELAY_SIZE / 2
    (h_box,) = [p for p in _parts(a)[0] if p.get_y() < 0 < p.get_y() + p.get_height()]
    assert cx > h_box.get_x() + h_box.get_width() and abs(cy) < 1e-12  # right of h_t, level with it
    loops = [p for p in _parts(a)[1] if p.get_connectionstyle().rad != 0]
    assert len(loops) == 1  # the square sits on the only curved edge, the W_hh loop
    assert "delay 1" in {t.get_text() for t in a.texts}
    assert _delays(b) == []  # unrolled, the delay is an edge from one copy to the next
    plt.close(fig)
