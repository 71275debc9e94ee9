"""Where an edge's label goes: along its edge, at the spot where no other edge crosses it and nothing else is.

Each label is a box (its text's estimated extent, ``CHAR_EM`` em per character) centred on its edge at a
fraction f of the way from the source; f is tried from ``FRACTIONS`` and the spot that crosses the fewest
other edges, overlaps no neuron, text or label already placed, and stays nearest the preferred fraction wins.
Labels are placed one layer at a time (an edge's label can only meet the edges between the same two columns).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

CHAR_EM = 0.62  # the width of a character, in em (DejaVu Sans digits are 0.64 em; the minus and the point narrower)
FRACTIONS = tuple(0.16 + 0.04 * i for i in range(18))  # 0.16 … 0.84
PAD = 2.0  # px kept clear around a label


@dataclass(frozen=True)
class Box:
    x0: float
    y0: float
    x1: float
    y1: float

    def overlaps(self, other: Box) -> bool:
        return self.x0 < other.x1 and other.x0 < self.x1 and self.y0 < other.y1 and other.y0 < self.y1


@dataclass(frozen=True)
class Segment:
    x1: float
    y1: float
    x2: float
    y2: float

    def at(self, f: float) -> tuple[float, float]:
        return self.x1 + f * (self.x2 - self.x1), self.y1 + f * (self.y2 - self.y1)


def text_box(x: float, baseline: float, text: str, size: float, anchor: str = "start") -> Box:
    """The estimated extent of ``text`` drawn at (x, baseline) in ``size`` px."""
    w = CHAR_EM * size * len(text)
    left = x - w / 2 if anchor == "middle" else x - w if anchor == "end" else x
    return Box(left, baseline - 0.8 * size, left + w, baseline + 0.2 * size)


def crosses(s: Segment, b: Box) -> bool:
    """Whether segment ``s`` passes through box ``b`` (Liang–Barsky clipping)."""
    dx, dy = s.x2 - s.x1, s.y2 - s.y1
    t0, t1 = 0.0, 1.0
    for p, q in ((-dx, s.x1 - b.x0), (dx, b.x1 - s.x1), (-dy, s.y1 - b.y0), (dy, b.y1 - s.y1)):
        if p == 0:
            if q < 0:
                return False
            continue
        r = q / p
        if p < 0:
            t0 = max(t0, r)
        else:
            t1 = min(t1, r)
        if t0 > t1:
            return False
    return True


def place(
    segments: Sequence[Segment], labels: Sequence[tuple[int, str, float]], obstacles: list[Box], size: float
) -> list[tuple[float, float]]:
    """The centre of each label ``(edge index, text, preferred fraction)``, in order; placed boxes join ``obstacles``."""
    out = []
    for index, text, preferred in labels:
        edge = segments[index]
        best: tuple[float, float, float] | None = None
        for f in FRACTIONS:
            x, y = edge.at(f)
            box = text_box(x, y + 0.3 * size, text, size, "middle")
            padded = Box(box.x0 - PAD, box.y0 - PAD, box.x1 + PAD, box.y1 + PAD)
            cost = sum(10.0 for i, other in enumerate(segments) if i != index and crosses(other, padded))
            cost += sum(100.0 for o in obstacles if o.overlaps(padded))
            cost += abs(f - preferred)
            if best is None or cost < best[0]:
                best = (cost, x, y)
        assert best is not None
        _, x, y = best
        obstacles.append(text_box(x, y + 0.3 * size, text, size, "middle"))
        out.append((x, y))
    return out
