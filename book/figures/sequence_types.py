"""Figures of sequence-type mappings (one-to-one, one-to-many, ...) drawn with matplotlib.

Each diagram is an unrolled network: input boxes at the bottom, hidden states
in the middle (linked left to right by the recurrence), outputs on top::

    fig = sequence_types_figure()        # all five types, at most two panels a row
    draw_mapping(ax, "encoder-decoder")  # one panel on an axis of your own
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from matplotlib.path import Path

#: For each type: which of the unrolled steps take an input and which emit an output,
#: and (for encoder-decoder) where the encoder hands its state over and which
#: decoder steps read the previous output (a start symbol at the first of them).
LAYOUTS: dict[str, dict[str, Any]] = {
    "one-to-one": {"steps": 1, "inputs": [0], "outputs": [0]},
    "one-to-many": {"steps": 4, "inputs": [0], "outputs": [0, 1, 2, 3]},
    "many-to-one": {"steps": 4, "inputs": [0, 1, 2, 3], "outputs": [3]},
    "many-to-many (aligned)": {"steps": 4, "inputs": [0, 1, 2, 3], "outputs": [0, 1, 2, 3]},
    "encoder-decoder": {
        "steps": 6,
        "inputs": [0, 1, 2, 3],
        "outputs": [4, 5],
        "handover": 3,
        "feedback": [4, 5],
    },
}

COLORS = {"input": "#cfe2f3", "hidden": "#d9ead3", "output": "#fce5cd", "edge": "#444444"}


def _box(ax, x: float, y: float, text: str, color: str, fontsize: float = 8) -> None:
    ax.add_patch(
        FancyBboxPatch(
            (x - 0.3, y - 0.22), 0.6, 0.44, boxstyle="round,pad=0.03", fc=color, ec=COLORS["edge"], lw=1
        )
    )
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize)


def _arrow(ax, start: tuple[float, float], end: tuple[float, float], color: str | None = None) -> None:
    ax.add_patch(
        FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=8, lw=1, color=color or COLORS["edge"])
    )


def _extent(kind: str) -> tuple[tuple[float, float], tuple[float, float]]:
    """The (xlim, ylim) of one panel, in the units of the drawing (one unit per step)."""
    spec = LAYOUTS[kind]
    feedback = spec.get("feedback")
    xlim = (-0.6, max(spec["steps"], 1.2) - (0.3 if feedback else 0.4))
    ylim = (-0.8 if spec.get("handover") is not None else -0.35, 2.55 if feedback else 2.35)
    return xlim, ylim


def draw_mapping(ax: Any, kind: str, fontsize: float = 8) -> None:
    """Draw one sequence type, unrolled, on ``ax``.

    ``kind`` is a key of :data:`LAYOUTS`.  Inputs ``x_t`` sit at height 0,
    hidden states ``h_t`` at 1, outputs ``y_t`` at 2; horizontal arrows are
    the recurrence.  For ``"encoder-decoder"`` the red arrow is the encoder's
    final state handed to the decoder, and each decoder step reads the
    previous output (dashed arrows; the first reads a start symbol ``<s>``).
    ``fontsize`` is that of the labels; the title is one point larger.
    """
    if kind not in LAYOUTS:
        raise ValueError(f"unknown kind {kind!r}; choose from {sorted(LAYOUTS)}")
    spec = LAYOUTS[kind]
    steps, handover = spec["steps"], spec.get("handover")
    feedback = spec.get("feedback", [])
    n_out = 0
    for k, t in enumerate(feedback):
        label = r"$\langle s\rangle$" if k == 0 else f"$y_{{{k}}}$"
        _box(ax, t, 0, label, COLORS["output"], fontsize)
        _arrow(ax, (t, 0.22), (t, 0.78))
        if k > 0:  # elbow from the previous output, over the top and down the right side
            src, right = feedback[k - 1], steps - 0.55
            verts = [(src, 2.22), (src, 2.4), (right, 2.4), (right, 0), (t + 0.3, 0)]
            ax.add_patch(
                FancyArrowPatch(
                    path=Path(verts),
                    arrowstyle="-|>",
                    mutation_scale=8,
                    lw=0.8,
                    ls="--",
                    color="#777777",
                )
            )
    for t in range(steps):
        _box(ax, t, 1, f"$h_{{{t + 1}}}$", COLORS["hidden"], fontsize)
        if t in spec["inputs"]:
            _box(ax, t, 0, f"$x_{{{t + 1}}}$", COLORS["input"], fontsize)
            _arrow(ax, (t, 0.22), (t, 0.78))
        if t in spec["outputs"]:
            n_out += 1
            _box(ax, t, 2, f"$y_{{{n_out}}}$", COLORS["output"], fontsize)
            _arrow(ax, (t, 1.22), (t, 1.78))
        if t + 1 < steps:
            color = "#cc0000" if handover == t else None
            _arrow(ax, (t + 0.3, 1), (t + 0.7, 1), color)
    if handover is not None:
        ax.axvline(handover + 0.5, color="#999999", ls=":", lw=1)
        ax.text(handover / 2, -0.6, "encoder", ha="center", fontsize=fontsize)
        ax.text((handover + steps) / 2, -0.6, "decoder", ha="center", fontsize=fontsize)
    xlim, ylim = _extent(kind)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(kind, fontsize=fontsize + 1)


def sequence_types_figure(
    kinds: list[str] | None = None, ncols: int = 2, scale: float = 0.62, fontsize: float = 13
) -> Any:
    """A figure with one panel per sequence type (all five by default), ``ncols`` panels a row.

    Every panel is drawn at the same scale, ``scale`` inches per step, so the boxes
    have one size throughout; each row is centred. With the defaults the figure is
    about 5.5 inches wide, and its labels stay legible when a phone shrinks it to the
    width of its screen.
    """
    kinds = list(LAYOUTS) if kinds is None else kinds
    rows = [kinds[i : i + ncols] for i in range(0, len(kinds), ncols)]
    gap, margin, title = 0.3, 0.08, 0.32  # inches: between panels, around, above a panel

    def size(kind: str) -> tuple[float, float]:
        (x0, x1), (y0, y1) = _extent(kind)
        return scale * (x1 - x0), scale * (y1 - y0)

    row_widths = [sum(size(k)[0] for k in row) + gap * (len(row) - 1) for row in rows]
    row_heights = [max(size(k)[1] for k in row) + title for row in rows]
    width, height = max(row_widths) + 2 * margin, sum(row_heights) + 2 * margin
    fig = plt.figure(figsize=(width, height))
    top = height - margin
    for row, row_width, row_height in zip(rows, row_widths, row_heights, strict=True):
        left = (width - row_width) / 2
        for kind in row:
            w, h = size(kind)
            bottom = top - row_height + (row_height - title - h) / 2
            ax = fig.add_axes((left / width, bottom / height, w / width, h / height))
            draw_mapping(ax, kind, fontsize)
            left += w + gap
        top -= row_height
    return fig
