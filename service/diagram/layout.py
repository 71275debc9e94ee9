"""Where each neuron of the Figure-6 diagram goes, and which neurons a large layer shows.

Columns: the inputs x on the left, then one column per layer. A layer of at most
``LABELLED`` (16) neurons is drawn in full with its values; up to ``FULL`` (64) in
full without labels and with thin edges; a larger one as a summary, its first and
last ``SUMMARY`` (8) neurons and a "⋮ n more" mark between them (edges only between
drawn neurons). So the drawing of any network has at most 64 neurons per column,
and its size grows with the number of layers, not their width.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

LABELLED = 16
FULL = 64
SUMMARY = 8
COLUMN = 230  # px between columns
MARGIN_X, MARGIN_TOP, LEGEND = 90, 60, 110
SPACING = {"labelled": 70.0, "thin": 14.0}
RADIUS = {"labelled": 24.0, "thin": 5.0}
LINE = 14.0  # px per value line below a labelled neuron (the second and later values it shows)


@dataclass(frozen=True)
class Column:
    """One column: its size K, the neuron indices drawn, and each drawn neuron's centre."""

    K: int
    style: str  # "labelled" or "thin"
    shown: tuple[int, ...]
    x: float
    y: tuple[float, ...]
    gap_after: int | None  # the shown position after which "⋮ n more" stands (summaries only)

    @property
    def radius(self) -> float:
        return RADIUS[self.style]


def shown(K: int) -> tuple[tuple[int, ...], int | None]:
    """The neurons a column of K draws, and where its gap is."""
    if K <= FULL:
        return tuple(range(K)), None
    return (*range(SUMMARY), *range(K - SUMMARY, K)), SUMMARY - 1


def _spacing(style: str, lines: int) -> float:
    """Vertical distance between neurons: a labelled neuron with more than one value line gets LINE px per extra line."""
    return SPACING[style] + (LINE * max(0, lines - 1) if style == "labelled" else 0.0)


def layout(sizes: Sequence[int], lines: int = 1) -> tuple[list[Column], float, float]:
    """Columns for ``sizes = [M⁽¹⁾, K⁽¹⁾, …, K⁽ᴸ⁾]``, and the drawing's width and height.

    ``lines`` is the number of values each labelled neuron shows (one inside, the others below it).
    """
    cols: list[Column] = []
    heights = []
    for K in sizes:
        idx, gap = shown(K)
        style = "labelled" if K <= LABELLED else "thin"
        step = _spacing(style, lines)
        heights.append(step * (len(idx) + (2 if gap is not None else 0)))
    tallest = max(heights)
    for c, K in enumerate(sizes):
        idx, gap = shown(K)
        style = "labelled" if K <= LABELLED else "thin"
        step = _spacing(style, lines)
        top = MARGIN_TOP + (tallest - heights[c]) / 2 + step / 2
        ys = []
        for i in range(len(idx)):
            extra = 2 * step if gap is not None and i > gap else 0.0
            ys.append(top + i * step + extra)
        cols.append(Column(K, style, idx, MARGIN_X + c * COLUMN, tuple(ys), gap))
    width = MARGIN_X * 2 + COLUMN * (len(sizes) - 1) + 80
    return cols, width, MARGIN_TOP + tallest + LEGEND


#: bytes of SVG per drawn element (measured on drawings, rounded up; see tests/engine/test_diagram.py),
#: and per extra value line of a neuron and extra label of an edge
EDGE_BYTES, NEURON_BYTES, BASE_BYTES, LINE_BYTES, EDGE_LABEL_BYTES = 260, 420, 4000, 160, 120


def estimate_bytes(sizes: Sequence[int], lines: int = 1, edge_labels: int = 1) -> int:
    """An upper estimate of the SVG's size, from the sizes and the values per neuron and per edge alone."""
    drawn = [len(shown(K)[0]) for K in sizes]
    edges = sum(drawn[i] * drawn[i + 1] for i in range(len(drawn) - 1))
    extra = LINE_BYTES * max(0, lines - 1) * sum(drawn) + EDGE_LABEL_BYTES * max(0, edge_labels - 1) * edges
    return BASE_BYTES + EDGE_BYTES * edges + NEURON_BYTES * sum(drawn) + extra


def fits(sizes: Sequence[int], max_bytes: int, lines: int = 1, edge_labels: int = 1) -> bool:
    """Whether a network of these sizes can be drawn within ``max_bytes`` (Settings.max_diagram_bytes)."""
    return estimate_bytes(sizes, lines, edge_labels) <= max_bytes
