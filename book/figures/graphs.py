"""Figures the chapters draw: the folded and the unrolled recurrent network.

Every figure is drawn by code on a Matplotlib ``Axes`` the caller owns, so a
chapter can place it in a grid of subplots and a test can count what was
drawn.  The drawing functions return the number of nodes and edges of the
graph they drew.
"""

from __future__ import annotations

from matplotlib.axes import Axes
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle

#: Colours of the three kinds of node: inputs, hidden states, outputs.
NODE_COLOURS = {"x": "#dbe9f6", "h": "#fde0c5", "y": "#d9f0d3"}
#: Colours of the edges, one per weight matrix (the same colour at every step
#: shows that the unrolled copies share one matrix).
EDGE_COLOURS = {"W_xh": "#1f77b4", "W_hh": "#d62728", "W_hy": "#2ca02c"}

_BOX_W, _BOX_H = 0.62, 0.42
#: Side of the black square that marks the one-step delay on the self-loop.
DELAY_SIZE = 0.09
# The self-loop leaves and re-enters the cell's right side at heights -/+ _LOOP_Y.
# An arc3 curve between two points a distance d apart bulges rad * d / 2
# away from their midpoint, so this is the loop's rightmost point.
_LOOP_Y, _LOOP_RAD = 0.17, 2.0
_LOOP_APEX_X = _BOX_W / 2 + _LOOP_RAD * (2 * _LOOP_Y) / 2


def _node(ax: Axes, xy: tuple[float, float], text: str, kind: str) -> None:
    x, y = xy
    ax.add_patch(
        FancyBboxPatch(
            (x - _BOX_W / 2, y - _BOX_H / 2),
            _BOX_W,
            _BOX_H,
            boxstyle="round,pad=0.02,rounding_size=0.12",
            facecolor=NODE_COLOURS[kind],
            edgecolor="0.25",
            linewidth=1.0,
            zorder=2,
        )
    )
    ax.text(x, y, text, ha="center", va="center", fontsize=11, zorder=3)


def _delay(ax: Axes, xy: tuple[float, float]) -> None:
    """A small black square on an edge: the value arrives one time step later."""
    x, y = xy
    ax.add_patch(
        Rectangle(
            (x - DELAY_SIZE / 2, y - DELAY_SIZE / 2),
            DELAY_SIZE,
            DELAY_SIZE,
            facecolor="black",
            edgecolor="black",
            zorder=4,
            label="delay",
        )
    )


def _edge(
    ax: Axes,
    start: tuple[float, float],
    end: tuple[float, float],
    weight: str,
    label: bool,
    connectionstyle: str = "arc3",
    label_offset: tuple[float, float] = (0.0, 0.0),
) -> None:
    colour = EDGE_COLOURS[weight]
    ax.add_patch(
        FancyArrowPatch(
            start,
            end,
            arrowstyle="-|>",
            mutation_scale=12,
            color=colour,
            linewidth=1.4,
            connectionstyle=connectionstyle,
            shrinkA=0,
            shrinkB=0,
            zorder=1,
        )
    )
    if label:
        sub = weight.split("_")[1]
        mx = (start[0] + end[0]) / 2 + label_offset[0]
        my = (start[1] + end[1]) / 2 + label_offset[1]
        ax.text(mx, my, f"$W_{{{sub}}}$", color=colour, fontsize=9, ha="center", va="center",
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5}, zorder=3)


def draw_folded(ax: Axes, outputs: bool = True, title: str | None = "folded (the loop)") -> dict[str, int]:
    """Draw the recurrent network as one cell with a self-loop.

    The self-loop carries a black square, the usual mark of a one-step delay:
    the state it feeds back is the previous step's, ``h_{t-1}``.

    Parameters
    ----------
    ax : the axes to draw on (its limits and aspect are set here).
    outputs : draw the output node ``y_t`` and its weight ``W_hy``.
    title : axes title, or ``None`` for none.

    Returns
    -------
    ``{"nodes": n, "edges": e}``: 3 nodes and 3 edges with outputs (2 and 2
    without), the self-loop counted once (the delay square is not a node).
    """
    _edge(ax, (0.0, -0.79), (0.0, -_BOX_H / 2), "W_xh", True, label_offset=(0.32, 0.0))
    # the self-loop: out of the right side, round, and back in higher up
    _edge(
        ax,
        (_BOX_W / 2, -_LOOP_Y),
        (_BOX_W / 2, _LOOP_Y),
        "W_hh",
        False,
        connectionstyle=f"arc3,rad={_LOOP_RAD}",
    )
    _delay(ax, (_LOOP_APEX_X, 0.0))
    ax.text(_LOOP_APEX_X + 0.1, 0.05, "$W_{hh}$", color=EDGE_COLOURS["W_hh"], fontsize=9, ha="left", va="bottom")
    ax.text(_LOOP_APEX_X + 0.1, -0.05, "delay 1", color="0.15", fontsize=8, ha="left", va="top")
    nodes, edges = 2, 2
    _node(ax, (0.0, 0.0), "$h_t$", "h")
    _node(ax, (0.0, -1.0), "$x_t$", "x")
    if outputs:
        _edge(ax, (0.0, _BOX_H / 2), (0.0, 1.0 - _BOX_H / 2), "W_hy", True, label_offset=(-0.32, 0.05))
        _node(ax, (0.0, 1.0), "$y_t$", "y")
        nodes, edges = 3, 3
    ax.set_xlim(-0.9, 1.35)
    ax.set_ylim(-1.4, 1.5)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title)
    return {"nodes": nodes, "edges": edges}


def draw_unrolled(
    ax: Axes,
    T: int,
    outputs: bool = True,
    labels: bool = True,
    title: str | None = None,
) -> dict[str, int]:
    """Draw the network unrolled over ``T`` steps: one copy of the cell per step.

    Nodes are ``h_0``, then for each step ``t = 1..T`` the input ``x_t``, the
    state ``h_t`` and (with ``outputs``) the output ``y_t``.  Edges carry the
    weight they multiply by, coloured per matrix: every ``x_t -> h_t`` edge is
    ``W_xh``, every ``h_{t-1} -> h_t`` edge is ``W_hh`` and every
    ``h_t -> y_t`` edge is ``W_hy``, the same three arrays at every step.

    Parameters
    ----------
    ax : the axes to draw on (its limits and aspect are set here).
    T : number of time steps (T >= 1).
    outputs : draw an output ``y_t`` at every step.
    labels : write the weight name on every edge.
    title : axes title; ``None`` gives "unrolled over T steps".

    Returns
    -------
    ``{"nodes": n, "edges": e}``: ``3T + 1`` nodes and ``3T`` edges with
    outputs, ``2T + 1`` and ``2T`` without.
    """
    if T < 1:
        raise ValueError(f"T must be at least 1, got {T}")
    nodes = edges = 0
    _node(ax, (0.0, 0.0), "$h_0$", "h")
    nodes += 1
    for t in range(1, T + 1):
        c = 1.4 * t
        _edge(ax, (c - 1.4 + _BOX_W / 2, 0.0), (c - _BOX_W / 2, 0.0), "W_hh", labels, label_offset=(0, 0.22))
        _edge(ax, (c, -1.0 + _BOX_H / 2), (c, -_BOX_H / 2), "W_xh", labels, label_offset=(0.3, 0.0))
        _node(ax, (c, 0.0), f"$h_{{{t}}}$", "h")
        _node(ax, (c, -1.0), f"$x_{{{t}}}$", "x")
        nodes += 2
        edges += 2
        if outputs:
            _edge(ax, (c, _BOX_H / 2), (c, 1.0 - _BOX_H / 2), "W_hy", labels, label_offset=(0.3, 0.0))
            _node(ax, (c, 1.0), f"$y_{{{t}}}$", "y")
            nodes += 1
            edges += 1
    ax.set_xlim(-0.6, 1.4 * T + 0.7)
    ax.set_ylim(-1.4, 1.4 if outputs else 0.5)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(f"unrolled over T = {T} steps" if title is None else title)
    return {"nodes": nodes, "edges": edges}
