"""draw(): the network as the primer's Figure 6, in SVG.

Inputs on the left, one column of neurons per layer, the chosen value (a, z or δ)
inside each neuron, each weight (or ∂E/∂w) on its edge, t beside the outputs, a
legend, and ``<title>``/``<desc>`` for screen readers. Edge width ∝ |w| (clamped to
0.6–5 px), colour by sign (blue positive, red negative). Every neuron and edge has
an ``id`` (``x-m``, ``n-l-k``, ``e-l-k-m``, 0-based) and a ``data-step`` naming its
explain step id, so a page can make them clickable.

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

from collections.abc import Callable, Sequence
from xml.sax.saxutils import escape

import numpy as np

from service.diagram import svg
from service.diagram.highlight import Target, highlighted
from service.diagram.layout import LABELLED, LINE, Column, layout
from service.engine.arrays import Array, Checkpoint, no_checkpoint
from service.engine.errors import EngineError
from service.engine.explain import sizes_of, step_id
from service.engine.explain.latex_text import to_text
from service.engine.explain.numbers import Numbers
from service.engine.losses import Loss
from service.engine.network import Layer, backward, forward

POSITIVE, NEGATIVE, HIGHLIGHT = "#2166ac", "#b2182b", "#f28e00"
EDGE_LABELS = 3  # edge values are written on a layer with at most 3 inputs and 3 outputs (else in each edge's <title>)
VALUES = ("a", "z", "delta")
EDGES = ("weights", "grad_weights")


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
    max_bytes: int = 2_000_000,
    checkpoint: Checkpoint = no_checkpoint,
) -> str:
    """Figure 6 for ``layers`` at data point ``point`` of ``x`` (N × M⁽¹⁾), as SVG text.

    ``values`` is what the neurons show ("a", "z" and/or "delta": the first inside each
    neuron, the others below it), ``edges`` what the edges carry ("weights" and/or
    "grad_weights": the first is written on the edge and sets its width and colour, W when none
    is given; every one is in the edge's ``<title>``).
    delta and grad_weights need ``t`` (N × K⁽ᴸ⁾) and ``loss``. ``digits`` are significant
    digits. ``highlight`` is a step id or (quantity, layer, index): that step's neurons and
    edges and those it depends on stand out. Raises :class:`DiagramError` when the SVG would
    exceed ``max_bytes``.
    """
    shown_values = _names(values, VALUES, "values")
    shown_edges = _names(edges, EDGES, "edges")
    needs_loss = "delta" in shown_values or "grad_weights" in shown_edges
    if needs_loss and (t is None or loss is None):
        raise DiagramError(f"showing {', '.join(shown_values + shown_edges)} needs t and a loss")
    if t is not None and loss is not None:
        trace, grads = backward(layers, x, t, loss, reduction, checkpoint)
        deltas, grad_W = grads.delta, grads.grad_W
    else:
        trace, deltas, grad_W = forward(layers, x, checkpoint), None, None
    number = Numbers(digits)

    def fmt(v: float) -> str:
        return to_text(number.computed(float(v)))

    def given(v: float) -> str:  # x, t and the weights: as sent (see explain.numbers)
        return to_text(number.given(float(v)))

    sizes = sizes_of(layers)
    cols, width, height = layout(sizes, max(1, len(shown_values)))
    marked = highlighted(layers, x, t, loss, reduction, point, highlight) if highlight is not None else set()
    by_name = {"a": trace.a, "z": trace.z, "delta": deltas}
    rows: list[tuple[str, list[Array]]] = []
    for name in shown_values:
        per_layer = by_name[name]
        assert per_layer is not None
        rows.append((name, per_layer))
    carried_by = {"weights": [ly.W for ly in layers], "grad_weights": grad_W}
    styled = shown_edges[0] if shown_edges else "weights"
    carried = carried_by[styled]
    assert carried is not None
    scale = max(float(np.abs(w).max()) for w in carried) or 1.0

    parts: list[str] = []
    L = len(layers)
    for l in range(L):
        checkpoint()
        src, dst = cols[l], cols[l + 1]
        labelled = src.K <= EDGE_LABELS and dst.K <= EDGE_LABELS
        thin = src.style == "thin" or dst.style == "thin"
        for j, k in enumerate(dst.shown):
            for i, m in enumerate(src.shown):
                v = float(carried[l][k, m])
                eid = f"e-{l}-{k}-{m}"
                cls = "edge hl" if eid in marked else "edge dim" if marked else "edge"
                x1, y1, x2, y2 = src.x + src.radius, src.y[i], dst.x - dst.radius, dst.y[j]
                labels = []
                for name in shown_edges:
                    value = carried_by[name]
                    assert value is not None
                    w = float(value[l][k, m])
                    symbol = f"w{_sub(k + 1, m + 1)}{_sup(l + 1)}"
                    labels.append((symbol if name == "weights" else f"∂E/∂{symbol}", given(w) if name == "weights" else fmt(w)))
                body = svg.title("; ".join(f"{a} = {b}" for a, b in labels) or f"w{_sub(k + 1, m + 1)}{_sup(l + 1)}")
                parts.append(
                    svg.element(
                        "line",
                        body,
                        id=eid,
                        class_=cls,
                        data_step=step_id("grad_weights", l, None, (k, m)),
                        x1=f"{x1:.1f}",
                        y1=f"{y1:.1f}",
                        x2=f"{x2:.1f}",
                        y2=f"{y2:.1f}",
                        stroke=POSITIVE if v >= 0 else NEGATIVE,
                        stroke_width=f"{(0.4 if thin else _width(v, scale)):.2f}",
                    )
                )
                if labelled:
                    f = 0.22 + 0.5 * (i + 0.5) / len(src.shown)  # staggered by source, so labels do not meet
                    lx, ly = x1 + f * (x2 - x1), y1 + f * (y2 - y1)
                    if labels:  # the first quantity only: a second label per edge would meet its neighbours' (it is in the <title>)
                        cls_label = "wlabel" if shown_edges[0] == "weights" else "wlabel grad"
                        parts.append(svg.text(lx, ly - 3, labels[0][1], class_=cls_label, text_anchor="middle"))
    for c, col in enumerate(cols):
        column_rows = [("x", x[point])] if c == 0 else [(name, per_layer[c - 1][point]) for name, per_layer in rows]
        parts.extend(_column(c, col, column_rows, given if c == 0 else fmt, marked, point))
    if t is not None:
        out = cols[-1]
        t_row = np.zeros(out.K) if loss is not None and loss.target == "class_index" else t[point]
        if loss is not None and loss.target == "class_index":
            t_row[int(t[point, 0])] = 1.0
        if out.style == "labelled":
            for j, k in enumerate(out.shown):
                parts.append(svg.text(out.x + out.radius + 10, out.y[j] + 4, f"t{_sub(k + 1)} = {given(float(t_row[k]))}", class_="target"))
    parts.append(_legend(height, shown_values, shown_edges, digits, sizes))
    quantity = " and ".join({"a": "pre-activations a", "z": "outputs z", "delta": "errors δ"}[v] for v in shown_values) or "nothing"
    on_edges = " and ".join(e.replace("_", " ") for e in shown_edges) or "no values"
    title = f"Network {'-'.join(map(str, sizes))}: {quantity} in the neurons, {on_edges} on the edges"
    desc = _description(layers, sizes, cols, rows, point, fmt)
    style = (
        ".edge{opacity:.75}.dim{opacity:.15}.edge.hl{stroke:" + HIGHLIGHT + ";stroke-width:3px;opacity:1}"
        ".neuron circle{fill:#fff;stroke:#333;stroke-width:1.5}.neuron.hl circle{stroke:" + HIGHLIGHT + ";stroke-width:4}"
        ".neuron.dim{opacity:.35}text{font-family:DejaVu Sans,Arial,sans-serif;font-size:12px;fill:#222}"
        ".wlabel{font-size:11px;fill:#333;paint-order:stroke;stroke:#fff;stroke-width:3px}.value{font-size:11px}"
        ".wlabel.grad,.value.delta{fill:#7a3e00}.value.a{fill:#555}"
        ".head{font-weight:bold}.legend{font-size:11px}.target{fill:#444}.more{font-size:11px;fill:#666}"
    )
    doc = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}" '
        f'role="img" aria-labelledby="title desc">'
        + svg.element("title", escape(title), id="title")
        + svg.element("desc", escape(desc), id="desc")
        + f"<style>{style}</style>"
        + "".join(parts)
        + "</svg>"
    )
    if len(doc.encode()) > max_bytes:
        raise DiagramError(f"the diagram would be {len(doc.encode())} bytes, over {max_bytes}")
    return doc


_SUB = str.maketrans("0123456789,", "₀₁₂₃₄₅₆₇₈₉,")
_SUP = str.maketrans("0123456789()", "⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾")


def _sub(*i: int) -> str:
    return ",".join(str(v) for v in i).translate(_SUB)


def _sup(l: int) -> str:
    return f"({l})".translate(_SUP)


_SHORT = {"x": "x", "a": "a", "z": "z", "delta": "δ"}


def _column(c: int, col: Column, rows: list[tuple[str, Array]], fmt: Callable[[float], str], marked: set[str], point: int) -> list[str]:
    """The neurons of column c (c = 0: the inputs x), their values (the first inside, the others below) and the column head."""
    out = [svg.text(col.x, 30, "x" if c == 0 else f"layer {c}", class_="head", text_anchor="middle")]
    for i, k in enumerate(col.shown):
        eid = f"x-{k}" if c == 0 else f"n-{c - 1}-{k}"
        steps = [step_id("grad_x", None, point, (k,)) if c == 0 else step_id(name, c - 1, point, (k,)) for name, _ in rows]
        primary = steps[0] if steps else step_id("z", c - 1, point, (k,))
        cls = "neuron hl" if eid in marked else "neuron dim" if marked else "neuron"
        named = [(f"{_SHORT[name]}{_sub(k + 1)}{'' if c == 0 else _sup(c)}", fmt(float(row[k]))) for name, row in rows]
        label = "; ".join(f"{n} = {v}" for n, v in named) or f"neuron {k + 1} of layer {c}"
        inner = svg.title(label) + svg.element("circle", cx=f"{col.x:.1f}", cy=f"{col.y[i]:.1f}", r=f"{col.radius:.0f}")
        if col.K <= LABELLED and named:
            inner += svg.text(col.x, col.y[i] + 4, named[0][1], class_=f"value {rows[0][0]}", text_anchor="middle")
            inner += svg.text(col.x, col.y[i] - col.radius - 4, named[0][0], class_="more", text_anchor="middle")
            for line, ((name, _), (_, value), sid) in enumerate(zip(rows[1:], named[1:], steps[1:], strict=True), start=1):
                y = col.y[i] + col.radius + 2 + LINE * line
                inner += svg.text(col.x, y, f"{_SHORT[name]} = {value}", class_=f"value {name}", text_anchor="middle", data_step=sid)
        out.append(svg.element("g", inner, id=eid, class_=cls, data_step=primary))
    if col.gap_after is not None:
        y = (col.y[col.gap_after] + col.y[col.gap_after + 1]) / 2
        out.append(svg.text(col.x, y + 4, f"⋮ {col.K - len(col.shown)} more", class_="more", text_anchor="middle"))
    return out


def _legend(height: float, values: Sequence[str], edges: Sequence[str], digits: int, sizes: Sequence[int]) -> str:
    y = height - 80
    meaning = {"a": "a = W z + b (pre-activation)", "z": "z = h(a) (output)", "delta": "δ = ∂E/∂a (propagated error)"}
    what = ", then ".join(meaning[v] for v in values) or "no values"
    first = ("weight w" if edges[0] == "weights" else "gradient ∂E/∂w") if edges else "weight w"
    carried = first + (", and ∂E/∂w in each edge's tooltip" if len(edges) > 1 else "") if edges else "no labels"
    rows = [
        svg.element("line", x1="20", y1=f"{y:.0f}", x2="60", y2=f"{y:.0f}", stroke=POSITIVE, stroke_width="3"),
        svg.text(68, y + 4, f"positive {first}", class_="legend"),
        svg.element("line", x1="20", y1=f"{y + 20:.0f}", x2="60", y2=f"{y + 20:.0f}", stroke=NEGATIVE, stroke_width="3"),
        svg.text(68, y + 24, f"negative {first}; width ∝ |value|; on the edges: {carried}", class_="legend"),
        svg.text(20, y + 44, f"in the neurons: {what}; {digits} significant digits", class_="legend"),
    ]
    if max(sizes) > LABELLED:
        rows.append(svg.text(20, y + 64, "layers over 16 neurons: no labels, thin edges; over 64: first and last 8", class_="legend"))
    return svg.element("g", "".join(rows), class_="legend-box")


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
