"""The Figure-6 diagram: well-formed SVG with the primer's numbers, ids naming steps, no overlapping labels, the size cap.

Timing: the 784-512-512-10 network (drawn as a summary) must take under a second;
measured with time.perf_counter around one draw (the forward and backward pass included).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import defusedxml.ElementTree as ET
import numpy as np
import pytest

from service.diagram import DiagramError, draw, estimate_bytes, fits
from service.diagram.draw import FONT
from service.diagram.labels import Box, Segment, crosses, text_box
from service.engine import Layer, get_activation, get_loss
from tests.browser import chromium_page, chromium_path
from tests.engine.explain_helpers import primer_network

SVG = "{http://www.w3.org/2000/svg}"
OUTPUT = Path(__file__).resolve().parents[2] / "test-output"


def primer_svg(**kwargs: object) -> str:
    layers, x, t = primer_network()
    return draw(layers, x, t, get_loss("half_sse"), **kwargs)  # type: ignore[arg-type]


def texts(svg: str) -> list[str]:
    return ["".join(e.itertext()) for e in ET.fromstring(svg).iter(f"{SVG}text")]


def test_primer_diagram_parses_and_has_every_figure_6_number() -> None:
    svg = primer_svg()
    root = ET.fromstring(svg)
    assert root.find(f"{SVG}title") is not None
    assert root.find(f"{SVG}desc") is not None
    shown = texts(svg)
    # Figure 6 at 2 digits: x, W⁽¹⁾, z⁽¹⁾ (0.9354 → 0.94; the primer truncates to 0.93), W⁽²⁾, y (y₂ beside t₂ = 1.15: 1.1463), t
    for number in ["1", "2", "0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.46", "0.80", "0.94", "0.49", "1.1463"]:
        assert number in shown, number
    assert "t₁ = 1" in shown
    assert "t₂ = 1.15" in shown


def test_delta_and_gradient_view_and_ids_name_steps() -> None:
    svg = primer_svg(values="delta", edges="grad_weights")
    shown = texts(svg)
    for number in ["−0.51", "−0.0037", "−0.042", "−0.038", "−0.020", "−0.24", "−0.41", "−0.48"]:
        assert number in shown, number
    root = ET.fromstring(svg)
    neurons = {g.get("id"): g.get("data-step") for g in root.iter(f"{SVG}g") if g.get("data-step")}
    assert neurons["n-0-2"] == "delta/0/0/2"
    assert neurons["x-1"] == "grad_x/0/1"
    edges = {e.get("id"): e.get("data-step") for e in root.iter(f"{SVG}line") if e.get("id")}
    assert edges["e-1-0-2"] == "grad_weights/1/0/2"
    assert len(edges) == 2 * 3 + 3 * 2


def test_highlight_marks_the_step_and_what_it_depends_on() -> None:
    root = ET.fromstring(primer_svg(values="delta", highlight="delta/0/0/2"))
    marked = {e.get("id") for e in root.iter() if "hl" in (e.get("class") or "").split()}
    # δ₃⁽¹⁾ = tanh'(a₃⁽¹⁾)[w₁,₃⁽²⁾ δ₁⁽²⁾ + w₂,₃⁽²⁾ δ₂⁽²⁾]: its neuron, both outputs, and the two edges into neuron 3
    assert marked == {"n-0-2", "n-1-0", "n-1-1", "e-1-0-2", "e-1-1-2"}
    same = ET.fromstring(primer_svg(values="delta", highlight=("delta", 0, (2,))))
    assert {e.get("id") for e in same.iter() if "hl" in (e.get("class") or "").split()} == marked


def boxes(svg: str) -> list[tuple[str, float, float, float, float]]:
    """Each label's box, estimated (:func:`service.diagram.labels.text_box`: 0.62 em per character) at its class's font size."""
    out = []
    for e in ET.fromstring(svg).iter(f"{SVG}text"):
        kind = (e.get("class") or "text").split()[0]
        size = FONT.get(kind, FONT["text"])
        content = "".join(e.itertext())
        b = text_box(float(e.get("x")), float(e.get("y")), content, size, e.get("text-anchor") or "start")
        out.append((content, b.x0, b.y0, b.x1, b.y1))
    return out


@pytest.mark.parametrize("sizes", [[2, 3, 2], [4, 6, 6], [16, 16, 16, 16], [3, 16, 1], [5, 20, 2]])
def test_labels_do_not_overlap(sizes: list[int]) -> None:
    rng = np.random.default_rng(sum(sizes))
    layers = [Layer(rng.normal(0, 1, (sizes[i + 1], sizes[i])), None, get_activation("tanh")) for i in range(len(sizes) - 1)]
    svg = draw(layers, rng.normal(0, 1, (1, sizes[0])), rng.normal(0, 1, (1, sizes[-1])), get_loss("mse"))
    found = boxes(svg)
    for i, (ta, *a) in enumerate(found):
        for tb, *b in found[i + 1 :]:
            overlap = a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
            assert not overlap, f"{ta!r} overlaps {tb!r} in {sizes}"


def test_several_values_per_neuron_and_per_edge() -> None:
    """z inside each neuron and δ below it; each edge labelled with w, its tooltip w and ∂E/∂w (the route's `show`)."""
    svg = primer_svg(values=["z", "delta"], edges=["weights", "grad_weights"])
    shown = texts(svg)
    for number in ["0.46", "0.80", "0.94", "0.49", "1.1463", "0.1", "0.6"]:
        assert number in shown, number
    for line in ["δ = −0.51", "δ = −0.0037", "δ = −0.042", "δ = −0.038", "δ = −0.020"]:
        assert line in shown, line
    root = ET.fromstring(svg)
    edge_titles = {e.get("id"): "".join(e.itertext()) for e in root.iter(f"{SVG}line") if e.get("id")}
    assert edge_titles["e-1-0-2"] == "w₁,₃⁽²⁾ = 0.3; ∂E/∂w₁,₃⁽²⁾ = −0.48"  # the second edge quantity: in the tooltip
    steps = {"".join(e.itertext()): e.get("data-step") for e in root.iter(f"{SVG}text") if e.get("data-step")}
    assert steps["δ = −0.020"] == "delta/0/0/2"  # each value line names its own step
    neurons = {g.get("id"): g.get("data-step") for g in root.iter(f"{SVG}g") if g.get("data-step")}
    assert neurons["n-0-2"] == "z/0/0/2"  # the neuron itself: the first value shown
    assert len(svg.encode()) <= estimate_bytes([2, 3, 2], lines=2, edge_labels=2)


@pytest.mark.parametrize("sizes", [[2, 3, 2], [4, 6, 6], [16, 16, 16], [3, 2, 3, 1]])
def test_labels_do_not_overlap_with_two_values_and_two_edge_labels(sizes: list[int]) -> None:
    rng = np.random.default_rng(10 + sum(sizes))
    layers = [Layer(rng.normal(0, 1, (sizes[i + 1], sizes[i])), None, get_activation("tanh")) for i in range(len(sizes) - 1)]
    x, t = rng.normal(0, 1, (1, sizes[0])), rng.normal(0, 1, (1, sizes[-1]))
    svg = draw(layers, x, t, get_loss("mse"), values=["z", "delta"], edges=["weights", "grad_weights"])
    found = boxes(svg)
    for i, (ta, *a) in enumerate(found):
        for tb, *b in found[i + 1 :]:
            overlap = a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
            assert not overlap, f"{ta!r} overlaps {tb!r} in {sizes}"
    assert len(svg.encode()) <= estimate_bytes(sizes, lines=2, edge_labels=2)


def test_unknown_value_names_are_refused() -> None:
    with pytest.raises(DiagramError, match="values must be among"):
        primer_svg(values=["z", "y"])
    layers, x, _ = primer_network()
    with pytest.raises(DiagramError, match="needs t and a loss"):
        draw(layers, x, values=["z", "delta"])


def test_size_cap_and_large_network_summary_under_a_second() -> None:
    sizes = [784, 512, 512, 10]
    assert fits(sizes, 2_000_000)
    assert not fits([64] * 40, 2_000_000)
    assert estimate_bytes([2, 3, 2]) < estimate_bytes([784, 512, 512, 10])
    rng = np.random.default_rng(784)
    layers = [Layer(rng.normal(0, 0.05, (sizes[i + 1], sizes[i])), np.zeros(sizes[i + 1]), get_activation("relu")) for i in range(3)]
    x, t = rng.normal(0, 1, (1, 784)), rng.normal(0, 1, (1, 10))
    start = time.perf_counter()
    svg = draw(layers, x, t, get_loss("mse"), values="delta", edges="grad_weights")
    elapsed = time.perf_counter() - start
    assert elapsed < 1.0, f"{elapsed:.3f} s"
    assert len(svg.encode()) <= estimate_bytes(sizes) <= 2_000_000
    assert "⋮ 768 more" in texts(svg)
    ET.fromstring(svg)
    with pytest.raises(DiagramError, match="over 1000"):
        draw(layers, x, t, get_loss("mse"), max_bytes=1000)


def test_estimate_is_an_upper_bound() -> None:
    rng = np.random.default_rng(5)
    for sizes in ([2, 3, 2], [16, 16, 16, 16], [30, 70, 5], [100, 3]):
        layers = [Layer(rng.normal(0, 1, (sizes[i + 1], sizes[i])), None, get_activation("tanh")) for i in range(len(sizes) - 1)]
        svg = draw(layers, rng.normal(0, 1, (1, sizes[0])), rng.normal(0, 1, (1, sizes[-1])), get_loss("mse"), values="delta")
        assert len(svg.encode()) <= estimate_bytes(sizes), sizes


def test_text_is_escaped() -> None:
    svg = primer_svg()
    assert re.search(r"<text[^>]*>[^<]*&[^a#]", svg) is None
    ET.fromstring(svg)


@pytest.mark.skipif(chromium_path() is None, reason="chromium is not installed: apt-get install chromium (.ci/run installs it)")
def test_screenshot_of_the_primers_diagram() -> None:
    """Writes test-output/diagram-primer.png (and a δ/∂E/∂w view with a highlight) for a person to look at."""
    OUTPUT.mkdir(exist_ok=True)
    for name, svg in [
        ("diagram-primer", primer_svg()),
        ("diagram-primer-delta", primer_svg(values="delta", edges="grad_weights", highlight="delta/0/0/2")),
    ]:
        path = OUTPUT / f"{name}.svg"
        path.write_text(svg)
        with chromium_page() as page:
            page.send("Page.navigate", url=path.as_uri())
            page.wait_for("document.readyState === 'complete'")
            size = page.evaluate("[document.documentElement.getAttribute('width'), document.documentElement.getAttribute('height')]")
            page.send("Emulation.setDeviceMetricsOverride", width=int(size[0]), height=int(size[1]), deviceScaleFactor=1, mobile=False)
            page.screenshot(OUTPUT / f"{name}.png")
        assert (OUTPUT / f"{name}.png").stat().st_size > 1000


def mazur_svg(**kwargs: object) -> str:
    s = get_activation("sigmoid")
    layers = [
        Layer(np.array([[0.15, 0.20], [0.25, 0.30]]), np.array([0.35, 0.35]), s),
        Layer(np.array([[0.40, 0.45], [0.50, 0.55]]), np.array([0.60, 0.60]), s),
    ]
    return draw(layers, np.array([[0.05, 0.10]]), np.array([[0.01, 0.99]]), get_loss("half_sse"), **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("width", [None, 600, 340])
@pytest.mark.parametrize("which", ["primer", "mazur"])
def test_no_edge_crosses_another_edges_label(which: str, width: int | None) -> None:
    """The defect of "0.3" on w₁,₃⁽²⁾ crossed by a line: every label sits where no other edge passes through it."""
    svg = (primer_svg if which == "primer" else mazur_svg)(values=["z", "delta"], width=width)
    root = ET.fromstring(svg)
    lines = {e.get("id"): Segment(*(float(e.get(k)) for k in ("x1", "y1", "x2", "y2"))) for e in root.iter(f"{SVG}line") if e.get("id")}
    labels = [e for e in root.iter(f"{SVG}text") if e.get("data-edge")]
    assert len(labels) == (len(lines) if width != 340 else 0)  # on a phone's width the edges are too short for labels
    for label in labels:
        b = text_box(float(label.get("x")), float(label.get("y")), label.text or "", FONT["wlabel"], "middle")
        crossing = [eid for eid, seg in lines.items() if eid != label.get("data-edge") and crosses(seg, b)]
        assert crossing == [], f"{label.text} on {label.get('data-edge')} is crossed by {crossing}"
    found = boxes(svg)
    for i, (ta, *a) in enumerate(found):
        for tb, *bb in found[i + 1 :]:
            assert not (a[0] < bb[2] and bb[0] < a[2] and a[1] < bb[3] and bb[1] < a[3]), f"{ta!r} overlaps {tb!r}"


def test_the_check_finds_a_crossing() -> None:
    assert crosses(Segment(0, 0, 10, 10), Box(4, 4, 6, 6))
    assert not crosses(Segment(0, 0, 10, 0), Box(4, 4, 6, 6))


@pytest.mark.parametrize("width", [340, 600, 900])
def test_a_width_asked_for_is_the_drawings_width(width: int) -> None:
    root = ET.fromstring(primer_svg(width=width))
    assert float(root.get("width")) <= width
    assert float(root.get("width")) >= width - 80 or width == 900  # the columns stop at 230 px apart


def test_biases_are_drawn_as_a_bias_unit_with_an_edge_per_neuron() -> None:
    root = ET.fromstring(mazur_svg(edges=["weights"]))
    bias = {e.get("id"): e for e in root.iter(f"{SVG}line") if (e.get("id") or "").startswith("b-")}
    assert sorted(bias) == ["b-0-0", "b-0-1", "b-1-0", "b-1-1"]
    assert bias["b-1-0"].get("data-step") == "grad_bias/1/0"
    assert "".join(bias["b-1-0"].itertext()) == "b₁⁽²⁾ = 0.6"
    assert {e.get("id") for e in root.iter(f"{SVG}g") if (e.get("id") or "").startswith("bias-")} == {"bias-0", "bias-1"}
    assert "0.35" in texts(mazur_svg())


def test_a_neurons_z_highlights_the_edges_into_it_and_its_bias() -> None:
    root = ET.fromstring(mazur_svg(highlight="z/0/0/1"))
    marked = {e.get("id") for e in root.iter() if "hl" in (e.get("class") or "").split()}
    assert marked == {"n-0-1", "e-0-1-0", "e-0-1-1", "b-0-1", "x-0", "x-1"}


def test_an_output_beside_its_target_shows_the_digits_that_tell_them_apart() -> None:
    layers, x, _ = primer_network()
    near = draw(layers, x, np.array([[1.0, 1.1463]]), get_loss("half_sse"))  # y₂ = 1.146342 beside t₂ = 1.1463
    assert "1.1463" in texts(near)  # at least t's decimals: not 1.1
    assert "1.1463" in texts(primer_svg())  # y₂ = 1.1463 beside t₂ = 1.15: not 1.1, nor 1.15
