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
    # Figure 6 at 2 digits: x, W⁽¹⁾, z⁽¹⁾ (0.9354 → 0.94; the primer truncates to 0.93), W⁽²⁾, y, t
    for number in ["1", "2", "0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.46", "0.80", "0.94", "0.49", "1.1"]:
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
    """Each label's box, estimated: width 0.62 em per character, height 1 em, from its anchor."""
    out = []
    for e in ET.fromstring(svg).iter(f"{SVG}text"):
        size = 11.0 if e.get("class") in ("value", "wlabel", "more", "legend") else 12.0
        content = "".join(e.itertext())
        w = 0.62 * size * len(content)
        x, y = float(e.get("x")), float(e.get("y"))
        left = x - w / 2 if e.get("text-anchor") == "middle" else x
        out.append((content, left, y - size, left + w, y))
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
    for number in ["0.46", "0.80", "0.94", "0.49", "1.1", "0.1", "0.6"]:
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
