"""service.client's explain() and diagram(), Client and AsyncClient, against the session's real server process.

Oracle: the same client's backward() on the same request (rtol 1e-12, float64 on both sides); the diagram
is parsed with defusedxml.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import defusedxml.ElementTree as ET
import numpy as np
import pytest

from service.client import AsyncClient, Client, ExplainResult, Layer, ProblemError
from tests.server import ServerProcess

pytestmark = pytest.mark.slow  # the quick loop, `pytest -m "not slow"`, leaves it out

PRIMER = [Layer(np.array([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]]), activation="tanh"), Layer(np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]))]
X, T = np.array([1.0, 2.0]), np.array([1.0, 1.15])
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def api(server_process: ServerProcess) -> Iterator[Client]:
    with Client(server_process.url) as c:
        yield c


def test_explain_steps_are_backwards_numbers(api: Client) -> None:
    result = api.explain(PRIMER, X, T, digits=2, render="text")
    assert isinstance(result, ExplainResult)
    backward = api.backward(PRIMER, X, T)
    steps = result.by_id()
    np.testing.assert_allclose(steps["delta/0/0/2"].value, backward.layers[0].delta[2], rtol=1e-12)
    np.testing.assert_allclose(steps["grad_weights/1/0/0"].value, backward.layers[1].grad_weights[0, 0], rtol=1e-12)
    assert steps["delta/0/0/2"].depends_on == ("a/0/0/2", "delta/1/0/0", "delta/1/0/1")
    assert result.rendered is not None
    assert "δ₃⁽¹⁾ = tanh'(1.7)·[0.3·(−0.51) + 0.6·(−0.0037)] = −0.020" in result.rendered
    filtered = api.explain(PRIMER, X, T, quantities=["update"], optimizer={"name": "sgd", "learning_rate": 0.1}, render="none")
    assert [s.quantity for s in filtered.steps] == ["update"] * 12
    assert filtered.rendered is None


def test_diagram_is_svg_with_the_primers_numbers(api: Client) -> None:
    svg = api.diagram(PRIMER, X, T, show=["z", "delta", "weights"], highlight={"quantity": "delta", "layer": 0, "index": 2})
    root = ET.fromstring(svg)
    shown = ["".join(e.itertext()) for e in root.iter(f"{SVG}text")]
    assert "0.94" in shown
    assert "δ = −0.020" in shown
    assert "0.46" in ET.fromstring(api.diagram(PRIMER, X)).find(f"{SVG}desc").text  # type: ignore[union-attr]
    with pytest.raises(ProblemError) as refused:
        api.diagram(PRIMER, X, show=["delta"])
    assert refused.value.status == 422
    assert refused.value.errors[0].pointer == "/show/0"


def test_async_client_has_both(server_process: ServerProcess) -> None:
    async def run() -> tuple[ExplainResult, str]:
        async with AsyncClient(server_process.url) as client:
            return await client.explain(PRIMER, X, T, quantities=["delta"]), await client.diagram(PRIMER, X, T)

    result, svg = asyncio.run(run())
    assert [s.id for s in result.steps] == ["delta/1/0/0", "delta/1/0/1", "delta/0/0/0", "delta/0/0/1", "delta/0/0/2"]
    assert svg.startswith("<svg")


def test_chain_factors_a_width_and_a_frozen_layer_through_the_client(api: Client) -> None:
    steps = api.explain(PRIMER, X, T, chain="factors").by_id()
    assert [f["wrt"] for f in steps["grad_weights/1/0/0"].factors] == ["z/1/0/0", "a/1/0/0", "w/1/0/0"]
    root = ET.fromstring(api.diagram(PRIMER, X, T, width=340))
    assert float(root.get("width") or 0) <= 340
    frozen = [PRIMER[0], Layer(PRIMER[1].weights, np.zeros(2), "linear", train_bias=False)]
    stepped = api.train_step(frozen, X, T, optimizer={"name": "sgd", "learning_rate": 0.1})
    assert stepped.network[1].train_bias is False  # sent back as sent: the next step keeps it frozen
    np.testing.assert_array_equal(stepped.network[1].bias, [0.0, 0.0])
    assert not np.array_equal(stepped.network[1].weights, PRIMER[1].weights)
