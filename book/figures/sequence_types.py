"""Figures of sequence-type mappings (one-to-one, one-to-many, ...) drawn with matplotlib.

Each diagram is an unrolled network: input boxes at the bottom, hidden states
in the middle (linked left to right by the recurrence), outputs on top::

    fig = sequence_types_figure()        # all five types side by side
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


def _box(ax, x: float, y: float, text: str, color: str) -> None:
    ax.add_patch(
        FancyBboxPatch(
            (x - 0.3, y - 0.22), 0.6, 0.44, boxstyle="round,pad=0.03", fc=color, ec=COLORS["edge"], lw=1
        )
    )
    ax.text(x, y, text, ha="center", va="center", fontsize=8)


def _arrow(ax, start: tuple[float, float], end: tuple[float, float], color: str | None = None) -> None:
    ax.add_patch(
        FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=8, lw=1, color=color or COLORS["edge"])
    )


def draw_mapping(ax: Any, kind: str) -> None:
    """Draw one sequence type, unrolled, on ``ax``.

    ``kind`` is a key of :data:`LAYOUTS`.  Inputs ``x_t`` sit at height 0,
    hidden states ``h_t`` at 1, outputs ``y_t`` at 2; horizontal arrows are
    the recurrence.  For ``"encoder-decoder"`` the red arrow is the encoder's
    final state handed to the decoder, and each decoder step reads the
    previous output (dashed arrows; the first reads a start symbol ``<s>``).
    """
    if kind not in LAYOUTS:
        raise ValueError(f"unknown kind {kind!r}; choose from {sorted(LAYOUTS)}")
    spec = LAYOUTS[kind]
    steps, handover = spec["steps"], spec.get("handover")
    feedback = spec.get("feedback", [])
    n_out = 0
    for k, t in enumerate(feedback):
        _box(ax, t, 0, r"$\langle s\rangle$" if k == 0 else f"$y_{{{k}}}$", COLORS["output"])
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
        _box(ax, t, 1, f"$h_{{{t + 1}}}$", COLORS["hidden"])
        if t in spec["inputs"]:
            _box(ax, t, 0, f"$x_{{{t + 1}}}$", COLORS["input"])
            _arrow(ax, (t, 0.22), (t, 0.78))
        if t in spec["outputs"]:
            n_out += 1
            _box(ax, t, 2, f"$y_{{{n_out}}}$", COLORS["output"])
            _arrow(ax, (t, 1.22), (t, 1.78))
        if t + 1 < steps:
            color = "#cc0000" if handover == t else None
            _arrow(ax, (t + 0.3, 1), (t + 0.7, 1), color)
    if handover is not None:
        ax.axvline(handover + 0.5, color="#999999", ls=":", lw=1)
        ax.text(handover / 2, -0.55, "encoder", ha="center", fontsize=8)
        ax.text((handover + steps) / 2, -0.55, "decoder", ha="center", fontsize=8)
    ax.set_xlim(-0.6, max(steps, 1.2) - (0.3 if feedback else 0.4))
    ax.set_ylim(-0.8, 2.55)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(kind, fontsize=9)


def sequence_types_figure(kinds: list[str] | None = None) -> Any:
    """A figure with one panel per sequence type (all five by default), widths proportional to steps."""
    kinds = list(LAYOUTS) if kinds is None else kinds
    widths = [max(LAYOUTS[k]["steps"], 1.5) for k in kinds]
    fig, axes = plt.subplots(
        1, len(kinds), figsize=(0.52 * sum(widths) + 0.4, 1.9), gridspec_kw={"width_ratios": widths}
    )
    for ax, kind in zip(axes if len(kinds) > 1 else [axes], kinds, strict=True):
        draw_mapping(ax, kind)
    fig.tight_layout()
    return fig
