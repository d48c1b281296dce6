"""book.figures.graphs: the folded and unrolled graphs are drawn with the right number of parts."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

from book.figures.graphs import EDGE_COLOURS, draw_folded, draw_unrolled  # noqa: E402


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
