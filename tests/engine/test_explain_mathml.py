"""The "mathml" rendering: every activation's and loss's LaTeX converts (latex2mathml); an item per step, with its id and dependencies."""

from __future__ import annotations

import defusedxml.ElementTree as ET
import pytest

from service.engine import get_loss
from service.engine.explain import explain, render
from service.engine.explain.mathml import heading, to_mathml
from service.engine.optimizers import get_optimizer
from tests.conformance.cases import ACTIVATIONS, LOSSES, engine_layers, engine_loss, label, name_and_params, problem, rng_for
from tests.engine.explain_helpers import primer_network

MATHML = "{http://www.w3.org/1998/Math/MathML}"


def parsed(fragment: str) -> ET.Element:
    return ET.fromstring(f"<div>{fragment}</div>")


def test_primer_derivation_is_one_item_per_step_with_its_dependencies() -> None:
    layers, x, t = primer_network()
    steps = explain(layers, x, t, get_loss("half_sse"), digits=2, optimizer=get_optimizer("sgd", learning_rate=0.1))
    root = parsed(render(steps, "mathml", digits=2))
    items = [li for li in root.iter("li") if li.get("class") == "step"]
    assert [li.get("data-step") for li in items] == [s.id for s in steps]
    assert [li.get("data-depends") for li in items] == [" ".join(s.depends_on) for s in steps]
    d3 = next(li for li in items if li.get("data-step") == "delta/0/0/2")
    numbers = [e.text for e in d3.iter(f"{MATHML}mn")]
    assert "1.7" in numbers
    assert "0.51" in numbers
    assert "0.0037" in numbers
    assert numbers[-1] == "0.020"  # δ₃⁽¹⁾ = −0.020 at 2 digits
    headings = ["".join(h.itertext()) for h in root.iter("h3")]
    assert headings[0] == "Forward pass, layer 1"
    assert any(h.startswith("Propagated error") for h in headings)
    assert headings[-1] == "Loss after the update"


@pytest.mark.parametrize("act", ACTIVATIONS, ids=[label(a) for a in ACTIVATIONS])
def test_every_activation_converts(act: object) -> None:
    loss, _, kind = next((lo, outs, k) for lo, outs, k in LOSSES if outs is None or name_and_params(act)[0] in outs)  # type: ignore[arg-type]
    p = problem(act, kind, True, 3, rng_for("mathml", label(act)))  # type: ignore[arg-type]
    steps = explain(engine_layers(p, "float64"), p["x"], p["t"], engine_loss(loss), "mean")
    root = parsed(render(steps, "mathml"))
    assert len([li for li in root.iter("li")]) == len(steps)
    assert len(list(root.iter(f"{MATHML}math"))) >= 2 * len(steps)


@pytest.mark.parametrize(("loss", "outputs", "kind"), LOSSES, ids=[label(lo) for lo, _, _ in LOSSES])
def test_every_loss_converts(loss: object, outputs: set[str] | None, kind: str) -> None:
    act = next(a for a in ACTIVATIONS if outputs is None or name_and_params(a)[0] in outputs)
    p = problem(act, kind, False, 1, rng_for("mathml", label(loss)))  # type: ignore[arg-type]
    steps = explain(engine_layers(p, "float64"), p["x"], p["t"], engine_loss(loss))  # type: ignore[arg-type]
    root = parsed(render(steps, "mathml"))
    assert len([li for li in root.iter("li")]) == len(steps)


def test_headings_escape_text_and_convert_math() -> None:
    assert heading("a < b $\\delta^{(1)}$").startswith("a &lt; b <math")
    assert to_mathml("x").startswith("<math")
