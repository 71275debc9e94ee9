"""Where each neuron of the Figure-6 diagram goes, and which neurons a large layer shows.

Columns: the inputs x on the left, then one column per layer, ``COLUMN`` px apart, or closer (down to
``MIN_COLUMN``) to fit a width the caller asks for: drawn at that width, 1 px of the drawing is 1 CSS px,
so its text keeps its size on a phone. A layer with a bias has a bias unit ("1", as Mazur draws b₁, b₂)
above, between its column and the one before. A layer of at most
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
MIN_COLUMN = 90  # the closest columns come when a width is asked for
EDGE_LABEL_COLUMN = 140  # edges are labelled only when their columns are at least this far apart
MARGIN_X, NARROW_MARGIN_X, MARGIN_TOP, TARGETS, NARROW_TARGETS = 90, 36, 66, 80, 70  # TARGETS: room right of the outputs for t
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


def layout(sizes: Sequence[int], lines: int = 1, width: float | None = None) -> tuple[list[Column], float, float]:
    """Columns for ``sizes = [M⁽¹⁾, K⁽¹⁾, …, K⁽ᴸ⁾]``, and the drawing's width and height (the legend below not included).

    ``lines`` is the number of values each labelled neuron shows (one inside, the others below it). ``width``
    (px) brings the columns closer, down to ``MIN_COLUMN``; the drawing is then at most that wide if it can be.
    """
    margin, spacing = column_spacing(len(sizes), width)
    targets = NARROW_TARGETS if margin == NARROW_MARGIN_X else TARGETS
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
        cols.append(Column(K, style, idx, margin + c * spacing, tuple(ys), gap))
    return cols, margin * 2 + spacing * (len(sizes) - 1) + targets, MARGIN_TOP + tallest


def column_spacing(columns: int, width: float | None) -> tuple[float, float]:
    """The left margin and the distance between columns: the default's, or the closest that fit ``width``."""
    if width is None:
        return MARGIN_X, COLUMN
    margin, targets = (NARROW_MARGIN_X, NARROW_TARGETS) if width < 600 else (MARGIN_X, TARGETS)
    room = (width - 2 * margin - targets) / max(1, columns - 1)
    return margin, max(MIN_COLUMN, min(COLUMN, room))


#: bytes of SVG per drawn element (measured on drawings, rounded up; see tests/engine/test_diagram.py),
#: and per extra value line of a neuron and extra label of an edge
EDGE_BYTES, NEURON_BYTES, BASE_BYTES, LINE_BYTES, EDGE_LABEL_BYTES = 260, 420, 4000, 160, 120


def estimate_bytes(sizes: Sequence[int], lines: int = 1, edge_labels: int = 1) -> int:
    """An upper estimate of the SVG's size, from the sizes and the values per neuron and per edge alone."""
    drawn = [len(shown(K)[0]) for K in sizes]
    edges = sum(drawn[i] * drawn[i + 1] for i in range(len(drawn) - 1)) + sum(drawn[1:])  # the weights, and a bias edge per neuron
    extra = LINE_BYTES * max(0, lines - 1) * sum(drawn) + EDGE_LABEL_BYTES * max(0, edge_labels - 1) * edges
    return BASE_BYTES + EDGE_BYTES * edges + NEURON_BYTES * (sum(drawn) + len(sizes)) + extra  # + a bias unit per layer


def fits(sizes: Sequence[int], max_bytes: int, lines: int = 1, edge_labels: int = 1) -> bool:
    """Whether a network of these sizes can be drawn within ``max_bytes`` (Settings.max_diagram_bytes)."""
    return estimate_bytes(sizes, lines, edge_labels) <= max_bytes
