"""draw(): the network as the primer's Figure 6, in SVG.

Inputs on the left, one column of neurons per layer, the chosen value (a, z or δ) inside each neuron, each
weight (or ∂E/∂w) on its edge, a bias unit "1" above each layer that has biases with an edge to each of its
neurons carrying b (or ∂E/∂b), t beside the outputs, a legend, and ``<title>``/``<desc>`` for screen readers.
Edge width ∝ |w| (clamped to 0.6–5 px), colour by sign (blue positive, red negative). Every neuron and edge
has an ``id`` (``x-m``, ``n-l-k``, ``e-l-k-m``, the bias edge ``b-l-k``, 0-based) and a ``data-step`` naming its
explain step id, so a page can make them clickable. An edge's label sits where no other edge crosses it
(:mod:`.labels`); an output's value beside its target has at least the target's decimals (z = 1.15 beside
t = 1.15, not 1.2). ``width`` lays the drawing out for that many px (:mod:`.layout`), so that shown at that
size its text is :data:`FONT`'s size in CSS px, on a phone too; the legend wraps to it.

Large networks: see :mod:`.layout` (a layer over 16 neurons drops its labels and thins
its edges, over 64 it is summarized). A 784-512-512-10 network is therefore drawn as a
labelled summary (16, 16, 16, 10 neurons shown) in a few milliseconds; :func:`fits` is the
cap a route applies first (Settings.max_diagram_bytes), and :func:`draw` refuses an SVG
over ``max_bytes`` anyway.

Plain text templates with XML escaping (:mod:`.svg`) rather than a library such as
drawsvg: the drawing is lines, circles and text, a template keeps the output and its
ids exactly as tested, and the service gains no dependency.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

import numpy as np

from service.diagram import svg
from service.diagram.highlight import Target, highlighted
from service.diagram.labels import CHAR_EM, Box, Segment, place, text_box
from service.diagram.layout import EDGE_LABEL_COLUMN, LABELLED, LINE, Column, layout
from service.engine.arrays import Array, Checkpoint, no_checkpoint
from service.engine.errors import EngineError
from service.engine.explain import sizes_of, step_id
from service.engine.explain.latex_text import to_text
from service.engine.explain.numbers import Numbers
from service.engine.losses import Loss
from service.engine.network import Layer, backward, forward

POSITIVE, NEGATIVE, HIGHLIGHT = "#2166ac", "#b2182b", "#b35900"
EDGE_LABELS = 3  # edge values are written on a layer with at most 3 inputs and 3 outputs (else in each edge's <title>)
VALUES = ("a", "z", "delta")
EDGES = ("weights", "grad_weights")
#: Font size in px of each kind of text (drawn at the width asked for, CSS px): readable on a phone.
FONT = {"text": 13.0, "value": 12.0, "wlabel": 12.0, "more": 11.0, "legend": 12.0, "head": 13.0, "target": 13.0}
BIAS_Y, BIAS_RADIUS = 40.0, 9.0  # the bias units' centre line and size
LEGEND_LINE = 17.0


class DiagramError(EngineError):
    """A diagram that cannot be drawn as asked (missing t or loss, too large); ``field`` names the request field at fault."""

    field = ""


def _width(v: float, scale: float) -> float:
    return float(min(5.0, max(0.6, 5.0 * abs(v) / scale)))


def _names(chosen: str | Sequence[str], allowed: tuple[str, ...], what: str) -> tuple[str, ...]:
    names = (chosen,) if isinstance(chosen, str) else tuple(dict.fromkeys(chosen))
    bad = [n for n in names if n not in allowed]
    if bad:
        raise DiagramError(f"{what} must be among {allowed}, not {bad}")
    return names


@dataclass(frozen=True)
class Edge:
    """One drawn edge: its element id, step, value (what sets its width and colour), tooltip and label."""

    id: str
    step: str
    segment: Segment
    value: float
    title: str
    label: str
    thin: bool
    layer: int


def draw(
    layers: Sequence[Layer],
    x: Array,
    t: Array | None = None,
    loss: Loss | None = None,
    reduction: str = "sum",
    *,
    point: int = 0,
    values: str | Sequence[str] = "z",
    edges: str | Sequence[str] = "weights",
    digits: int = 2,
    highlight: Target | None = None,
    width: float | None = None,
    max_bytes: int = 2_000_000,
    checkpoint: Checkpoint = no_checkpoint,
) -> str:
    """Figure 6 for ``layers`` at data point ``point`` of ``x`` (N × M⁽¹⁾), as SVG text.

    ``values`` is what the neurons show ("a", "z" and/or "delta": the first inside each
    neuron, the others below it), ``edges`` what the edges carry ("weights" and/or
    "grad_weights": the first is written on the edge and sets its width and colour, W when none
    is given; every one is in the edge's ``<title>``; a bias edge carries b or ∂E/∂b alike).
    delta and grad_weights need ``t`` (N × K⁽ᴸ⁾) and ``loss``. ``digits`` are significant
    digits. ``highlight`` is a step id or (quantity, layer, index): that step's neurons and
    edges and those it depends on stand out. ``width`` (px) lays the drawing out to fit it.
    Raises :class:`DiagramError` when the SVG would exceed ``max_bytes``.
    """
    shown_values = _names(values, VALUES, "values")
    shown_edges = _names(edges, EDGES, "edges")
    needs_loss = "delta" in shown_values or "grad_weights" in shown_edges
    if needs_loss and (t is None or loss is None):
        raise DiagramError(f"showing {', '.join(shown_values + shown_edges)} needs t and a loss")
    if t is not None and loss is not None:
        trace, grads = backward(layers, x, t, loss, reduction, checkpoint)
        deltas, grad_W, grad_b = grads.delta, grads.grad_W, grads.grad_b
    else:
        trace, deltas, grad_W, grad_b = forward(layers, x, checkpoint), None, None, None
    number = Numbers(digits)

    def fmt(v: float) -> str:
        return to_text(number.computed(float(v)))

    def given(v: float) -> str:  # x, t and the weights: as sent (see explain.numbers)
        return to_text(number.given(float(v)))

    sizes = sizes_of(layers)
    cols, drawing_width, top_height = layout(sizes, max(1, len(shown_values)), width)
    marked = highlighted(layers, x, t, loss, reduction, point, highlight) if highlight is not None else set()
    by_name = {"a": trace.a, "z": trace.z, "delta": deltas}
    rows: list[tuple[str, list[Array]]] = []
    for name in shown_values:
        per_layer = by_name[name]
        assert per_layer is not None
        rows.append((name, per_layer))
    t_row = _targets(t, loss, point, cols[-1].K)
    carried_by = {"weights": ([ly.W for ly in layers], [ly.b for ly in layers]), "grad_weights": (grad_W, grad_b)}
    styled = shown_edges[0] if shown_edges else "weights"
    carried_W, carried_b = carried_by[styled]
    assert carried_W is not None
    assert carried_b is not None
    scale = max(
        max(float(np.abs(w).max()) for w in carried_W), max((float(np.abs(b).max()) for b in carried_b if b is not None), default=0)
    )
    scale = scale or 1.0

    drawn = _edges(layers, cols, carried_by, shown_edges, styled, given, fmt, checkpoint)
    obstacles: list[Box] = []
    parts: list[str] = [_edge_element(e, marked, scale) for e in drawn]
    neurons: list[str] = []
    for c, col in enumerate(cols):
        column_rows = [("x", x[point])] if c == 0 else [(name, per_layer[c - 1][point]) for name, per_layer in rows]
        last = c == len(cols) - 1 and t_row is not None

        def shown_value(name: str, v: float, k: int, c: int = c, last: bool = last) -> str:
            if c == 0:
                return given(v)
            if last and name in ("a", "z") and t_row is not None:  # beside t: t's decimals, and what tells them apart
                return to_text(number.beside(float(v), float(t_row[k]), number.given(float(t_row[k])), most=digits + 3))
            return fmt(v)

        neurons.extend(_column(c, col, column_rows, shown_value, marked, point, obstacles))
    neurons.extend(_bias_units(layers, cols, marked, obstacles))
    if t_row is not None and cols[-1].style == "labelled":
        out = cols[-1]
        for j, k in enumerate(out.shown):
            label = f"t{_sub(k + 1)} = {given(float(t_row[k]))}"
            neurons.append(svg.text(out.x + out.radius + 8, out.y[j] + 4, label, class_="target"))
            obstacles.append(text_box(out.x + out.radius + 8, out.y[j] + 4, label, FONT["target"]))
    parts.extend(_labels(drawn, obstacles))
    parts.extend(neurons)
    labelled = any(e.label for e in drawn)
    legend, legend_height = _legend(top_height + 14, drawing_width, shown_values, shown_edges, digits, sizes, layers, labelled)
    parts.append(legend)
    height = top_height + 14 + legend_height
    quantity = " and ".join({"a": "pre-activations a", "z": "outputs z", "delta": "errors δ"}[v] for v in shown_values) or "nothing"
    on_edges = " and ".join(e.replace("_", " ") for e in shown_edges) or "no values"
    title = f"Network {'-'.join(map(str, sizes))}: {quantity} in the neurons, {on_edges} on the edges"
    desc = _description(layers, sizes, cols, rows, point, fmt)
    doc = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {drawing_width:.0f} {height:.0f}" width="{drawing_width:.0f}" '
        f'height="{height:.0f}" role="img" aria-labelledby="title desc">'
        + svg.element("title", escape(title), id="title")
        + svg.element("desc", escape(desc), id="desc")
        + f"<style>{_STYLE}</style>"
        + "".join(parts)
        + "</svg>"
    )
    if len(doc.encode()) > max_bytes:
        raise DiagramError(f"the diagram would be {len(doc.encode())} bytes, over {max_bytes}")
    return doc


_STYLE = (
    ".edge{opacity:.75}.dim{opacity:.15}.edge.hl{stroke:" + HIGHLIGHT + ";stroke-width:3.5px;opacity:1}"
    ".neuron circle,.bias circle{fill:#fff;stroke:#333;stroke-width:1.5}.neuron.hl circle{stroke:" + HIGHLIGHT + ";stroke-width:4}"
    f".neuron.dim,.bias.dim{{opacity:.35}}text{{font-family:DejaVu Sans,Arial,sans-serif;font-size:{FONT['text']:g}px;fill:#222}}"
    f".wlabel{{font-size:{FONT['wlabel']:g}px;fill:#1c2430;paint-order:stroke;stroke:#fff;stroke-width:4px}}"
    f".value{{font-size:{FONT['value']:g}px}}.wlabel.grad,.value.delta{{fill:#7a3e00}}.value.a{{fill:#4a4f57}}"
    f".head{{font-weight:bold;font-size:{FONT['head']:g}px}}.legend{{font-size:{FONT['legend']:g}px}}.target{{fill:#333}}"
    f".more{{font-size:{FONT['more']:g}px;fill:#4a4f57}}.bias text{{font-size:11px}}"
)


def _targets(t: Array | None, loss: Loss | None, point: int, K: int) -> Array | None:
    """The target row of ``point`` as the outputs see it (a class index as its one-hot row)."""
    if t is None:
        return None
    if loss is not None and loss.target == "class_index":
        row = np.zeros(K)
        row[int(t[point, 0])] = 1.0
        return row
    target: Array = t[point]
    return target


def _edges(
    layers: Sequence[Layer],
    cols: list[Column],
    carried_by: dict[str, tuple[list[Array] | None, list[Array | None] | None]],
    shown_edges: tuple[str, ...],
    styled: str,
    given: Callable[[float], str],
    fmt: Callable[[float], str],
    checkpoint: Checkpoint,
) -> list[Edge]:
    """Every edge drawn, with its value (W or ∂E/∂W; b or ∂E/∂b on a bias edge), tooltip and label (if its layer has labels)."""

    def number(name: str, l: int, at: tuple[int, ...], bias: bool) -> float:
        W, b = carried_by[name]
        array = (b[l] if b is not None else None) if bias else (W[l] if W is not None else None)
        assert array is not None
        return float(array[at])

    out: list[Edge] = []
    for l, layer in enumerate(layers):
        checkpoint()
        src, dst = cols[l], cols[l + 1]
        labelled = src.K <= EDGE_LABELS and dst.K <= EDGE_LABELS and dst.x - src.x >= EDGE_LABEL_COLUMN
        thin = src.style == "thin" or dst.style == "thin"
        drawn: list[tuple[str, str, Segment, str, tuple[int, ...], bool]] = []
        for j, k in enumerate(dst.shown):
            for i, m in enumerate(src.shown):
                segment = Segment(src.x + src.radius, src.y[i], dst.x - dst.radius, dst.y[j])
                drawn.append(
                    (
                        f"e-{l}-{k}-{m}",
                        step_id("grad_weights", l, None, (k, m)),
                        segment,
                        f"w{_sub(k + 1, m + 1)}{_sup(l + 1)}",
                        (k, m),
                        False,
                    )
                )
        if layer.b is not None:
            bx, by = _bias_position(cols, l)
            for j, k in enumerate(dst.shown):
                segment = Segment(bx, by + BIAS_RADIUS, dst.x - dst.radius * 0.7, dst.y[j] - dst.radius * 0.7)
                drawn.append((f"b-{l}-{k}", step_id("grad_bias", l, None, (k,)), segment, f"b{_sub(k + 1)}{_sup(l + 1)}", (k,), True))
        for eid, step, segment, symbol, at, bias in drawn:
            labels = [
                (symbol, given(number(name, l, at, bias))) if name == "weights" else (f"∂E/∂{symbol}", fmt(number(name, l, at, bias)))
                for name in shown_edges
            ]
            title = "; ".join(f"{a} = {b}" for a, b in labels) or symbol
            label = labels[0][1] if labels and labelled else ""
            out.append(Edge(eid, step, segment, number(styled, l, at, bias), title, label, thin, l))
    return out


def _edge_element(e: Edge, marked: set[str], scale: float) -> str:
    cls = "edge hl" if e.id in marked else "edge dim" if marked else "edge"
    s = e.segment
    return svg.element(
        "line",
        svg.title(e.title),
        id=e.id,
        class_=cls,
        data_step=e.step,
        x1=f"{s.x1:.1f}",
        y1=f"{s.y1:.1f}",
        x2=f"{s.x2:.1f}",
        y2=f"{s.y2:.1f}",
        stroke=POSITIVE if e.value >= 0 else NEGATIVE,
        stroke_width=f"{(0.4 if e.thin else _width(e.value, scale)):.2f}",
    )


def _labels(drawn: list[Edge], obstacles: list[Box]) -> list[str]:
    """Each labelled edge's label, layer by layer, where it crosses no other edge (see :mod:`.labels`)."""
    out = []
    for l in sorted({e.layer for e in drawn}):
        mine = [e for e in drawn if e.layer == l]
        wanted = [(i, e.label, 0.3 + 0.4 * (i % 3) / 2) for i, e in enumerate(mine) if e.label]
        spots = place([e.segment for e in mine], wanted, obstacles, FONT["wlabel"])
        for (i, text, _), (lx, ly) in zip(wanted, spots, strict=True):
            grad = "∂E" in mine[i].title.split(";")[0]
            cls = "wlabel grad" if grad else "wlabel"
            out.append(svg.text(lx, ly + 0.3 * FONT["wlabel"], text, class_=cls, text_anchor="middle", data_edge=mine[i].id))
    return out


def _bias_position(cols: list[Column], l: int) -> tuple[float, float]:
    """Where layer l's bias unit stands: above, a little before the middle between its column and the one before."""
    return cols[l].x + 0.42 * (cols[l + 1].x - cols[l].x), BIAS_Y


def _bias_units(layers: Sequence[Layer], cols: list[Column], marked: set[str], obstacles: list[Box]) -> list[str]:
    out = []
    for l, layer in enumerate(layers):
        if layer.b is None:
            continue
        bx, by = _bias_position(cols, l)
        inner = svg.title(f"the bias unit of layer {l + 1}: its input is 1, its edges carry b⁽{l + 1}⁾")
        inner += svg.element("circle", cx=f"{bx:.1f}", cy=f"{by:.1f}", r=f"{BIAS_RADIUS:.0f}")
        inner += svg.text(bx, by + 4, "1", text_anchor="middle")
        lit = any(f"b-{l}-{k}" in marked for k in range(layer.b.shape[0]))
        out.append(svg.element("g", inner, id=f"bias-{l}", class_="bias dim" if marked and not lit else "bias"))
        obstacles.append(Box(bx - BIAS_RADIUS, by - BIAS_RADIUS, bx + BIAS_RADIUS, by + BIAS_RADIUS))
    return out


_SUB = str.maketrans("0123456789,", "₀₁₂₃₄₅₆₇₈₉,")
_SUP = str.maketrans("0123456789()", "⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾")


def _sub(*i: int) -> str:
    return ",".join(str(v) for v in i).translate(_SUB)


def _sup(l: int) -> str:
    return f"({l})".translate(_SUP)


_SHORT = {"x": "x", "a": "a", "z": "z", "delta": "δ"}


def _column(
    c: int,
    col: Column,
    rows: list[tuple[str, Array]],
    fmt: Callable[[str, float, int], str],
    marked: set[str],
    point: int,
    obstacles: list[Box],
) -> list[str]:
    """The neurons of column c (c = 0: the inputs x), their values (the first inside, the others below) and the column head."""
    out = [svg.text(col.x, 22, "x" if c == 0 else f"layer {c}", class_="head", text_anchor="middle")]
    obstacles.append(text_box(col.x, 22, "layer 0", FONT["head"], "middle"))
    for i, k in enumerate(col.shown):
        eid = f"x-{k}" if c == 0 else f"n-{c - 1}-{k}"
        steps = [step_id("grad_x", None, point, (k,)) if c == 0 else step_id(name, c - 1, point, (k,)) for name, _ in rows]
        primary = steps[0] if steps else step_id("z", c - 1, point, (k,))
        cls = "neuron hl" if eid in marked else "neuron dim" if marked else "neuron"
        named = [(f"{_SHORT[name]}{_sub(k + 1)}{'' if c == 0 else _sup(c)}", fmt(name, float(row[k]), k)) for name, row in rows]
        label = "; ".join(f"{n} = {v}" for n, v in named) or f"neuron {k + 1} of layer {c}"
        cy, r = col.y[i], col.radius
        inner = svg.title(label) + svg.element("circle", cx=f"{col.x:.1f}", cy=f"{cy:.1f}", r=f"{r:.0f}")
        obstacles.append(Box(col.x - r, cy - r, col.x + r, cy + r))
        if col.K <= LABELLED and named:
            inner += svg.text(col.x, cy + 4, named[0][1], class_=f"value {rows[0][0]}", text_anchor="middle")
            inner += svg.text(col.x, cy - r - 4, named[0][0], class_="more", text_anchor="middle")
            obstacles.append(text_box(col.x, cy - r - 4, named[0][0], FONT["more"], "middle"))
            for line, ((name, _), (_, value), sid) in enumerate(zip(rows[1:], named[1:], steps[1:], strict=True), start=1):
                y = cy + r + 2 + LINE * line
                text = f"{_SHORT[name]} = {value}"
                inner += svg.text(col.x, y, text, class_=f"value {name}", text_anchor="middle", data_step=sid)
                obstacles.append(text_box(col.x, y, text, FONT["value"], "middle"))
        out.append(svg.element("g", inner, id=eid, class_=cls, data_step=primary))
    if col.gap_after is not None:
        y = (col.y[col.gap_after] + col.y[col.gap_after + 1]) / 2
        out.append(svg.text(col.x, y + 4, f"⋮ {col.K - len(col.shown)} more", class_="more", text_anchor="middle"))
    return out


def _legend(
    top: float,
    width: float,
    values: Sequence[str],
    edges: Sequence[str],
    digits: int,
    sizes: Sequence[int],
    layers: Sequence[Layer],
    labelled: bool,
) -> tuple[str, float]:
    """The legend below the drawing, its lines wrapped to ``width``; and its height. ``labelled``: some edge carries a label."""
    meaning = {"a": "a = W z + b (pre-activation)", "z": "z = h(a) (output)", "delta": "δ = ∂E/∂a (propagated error)"}
    what = ", then ".join(meaning[v] for v in values) or "no values"
    first = ("weight w" if edges[0] == "weights" else "gradient ∂E/∂w") if edges else "weight w"
    carried = first + (", and ∂E/∂w in each edge's tooltip" if len(edges) > 1 else "") if edges else "no labels"
    if edges and not labelled:
        carried = f"no labels (each edge's {first} is in its tooltip)"
    chars = max(20, int((width - 76) / (CHAR_EM * FONT["legend"])))
    y = top
    rows: list[str] = []
    for colour, text in ((POSITIVE, f"positive {first}"), (NEGATIVE, f"negative {first}; width ∝ |value|; on the edges: {carried}")):
        for n, line in enumerate(textwrap.wrap(text, chars)):
            if n == 0:
                rows.append(svg.element("line", x1="20", y1=f"{y - 4:.0f}", x2="60", y2=f"{y - 4:.0f}", stroke=colour, stroke_width="3"))
            rows.append(svg.text(68, y, line, class_="legend"))
            y += LEGEND_LINE
    notes = [f"in the neurons: {what}; {digits} significant digits"]
    if any(layer.b is not None for layer in layers):
        notes.append("1: a bias unit; its edges carry the biases b")
    if max(sizes) > LABELLED:
        notes.append("layers over 16 neurons: no labels, thin edges; over 64: first and last 8")
    for note in notes:
        for line in textwrap.wrap(note, chars + 6):
            rows.append(svg.text(20, y, line, class_="legend"))
            y += LEGEND_LINE
    return svg.element("g", "".join(rows), class_="legend-box"), y - top + 6


def _description(
    layers: Sequence[Layer], sizes: Sequence[int], cols: list[Column], rows: list[tuple[str, list[Array]]], point: int, fmt: object
) -> str:
    assert callable(fmt)
    acts = ", ".join(ly.h.name for ly in layers)
    out = [f"{len(sizes) - 1} layers of sizes {'-'.join(map(str, sizes))}, activations {acts}."]
    for l, col in enumerate(cols[1:]):
        if col.K <= LABELLED:
            for name, per_layer in rows:
                out.append(f"Layer {l + 1} {name}: " + ", ".join(fmt(float(per_layer[l][point, k])) for k in col.shown) + ".")
    return " ".join(out)
