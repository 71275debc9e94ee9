"""POST /v1/diagram over HTTP: Figure 6 as SVG (parsed with defusedxml), the primer's numbers, highlights, the size cap, bad input.

Timing: a 784-512-512-10 network (669,706 parameters sent as JSON, ~6 MB) is drawn as a labelled summary;
the whole request, parsing included, is measured with time.perf_counter around the TestClient call and must
take under a second (about 0.35 s on the 2-core development machine).
"""

from __future__ import annotations

import time
from typing import Any

import defusedxml.ElementTree as ET
import numpy as np
import orjson
import pytest
from fastapi.testclient import TestClient

from service.schemas.examples import BACKWARD_EXAMPLE, FORWARD_EXAMPLE
from tests.helpers.problems import assert_response_problem

SVG = "{http://www.w3.org/2000/svg}"


def drawn(client: TestClient, **extra: Any) -> ET.Element:
    r = client.post("/v1/diagram", json={**BACKWARD_EXAMPLE, **extra})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/svg+xml"
    return ET.fromstring(r.content)


def texts(root: ET.Element) -> list[str]:
    return ["".join(e.itertext()) for e in root.iter(f"{SVG}text")]


def marked(root: ET.Element) -> set[str | None]:
    return {e.get("id") for e in root.iter() if "hl" in (e.get("class") or "").split()}


def test_the_primers_figure_6_with_every_number_at_2_digits(client: TestClient) -> None:
    root = drawn(client)
    assert root.find(f"{SVG}title") is not None
    assert root.find(f"{SVG}desc") is not None
    shown = texts(root)
    # x, W⁽¹⁾, z⁽¹⁾ (0.9354 → 0.94; the primer truncates to 0.93), W⁽²⁾, y (0.4869 → 0.49; the primer: 0.48), t
    for number in ["1", "2", "0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.46", "0.80", "0.94", "0.49", "1.1463", "t₁ = 1", "t₂ = 1.15"]:
        assert number in shown, number
    for delta in ["δ = −0.51", "δ = −0.0037", "δ = −0.042", "δ = −0.038", "δ = −0.020"]:  # with t, δ by default
        assert delta in shown, delta
    steps = {g.get("id"): g.get("data-step") for g in root.iter(f"{SVG}g") if g.get("data-step")}
    assert steps["n-0-2"] == "z/0/0/2"
    edges = {e.get("id"): e.get("data-step") for e in root.iter(f"{SVG}line") if e.get("id")}
    assert edges["e-1-0-2"] == "grad_weights/1/0/2"


def test_without_t_only_the_forward_pass(client: TestClient) -> None:
    r = client.post("/v1/diagram", json=FORWARD_EXAMPLE)
    assert r.status_code == 200, r.text
    shown = texts(ET.fromstring(r.content))
    assert "0.94" in shown
    assert not any(s.startswith("δ") or s.startswith("t₁") for s in shown)
    r = client.post("/v1/diagram", json={**FORWARD_EXAMPLE, "show": ["z", "a"]})
    assert "a = 1.7" in texts(ET.fromstring(r.content))  # in the order sent: z inside the neuron, a below it


def test_gradients_on_the_edges_and_a_highlight(client: TestClient) -> None:
    root = drawn(client, show=["delta", "grad_weights"], highlight={"quantity": "delta", "layer": 0, "index": 2})
    shown = texts(root)
    for number in ["−0.24", "−0.41", "−0.48", "−0.0017", "−0.0029", "−0.0034", "−0.042", "−0.083"]:
        assert number in shown, number
    # δ₃⁽¹⁾ = tanh'(a₃⁽¹⁾)[w₁,₃⁽²⁾ δ₁⁽²⁾ + w₂,₃⁽²⁾ δ₂⁽²⁾]: its neuron, both outputs, and the two edges into neuron 3
    assert marked(root) == {"n-0-2", "n-1-0", "n-1-1", "e-1-0-2", "e-1-1-2"}
    same = drawn(client, show=["delta", "grad_weights"], highlight={"quantity": "delta", "layer": 0, "index": [2]})
    assert marked(same) == marked(root)
    gradient = drawn(client, highlight={"quantity": "grad_weights", "layer": 1, "index": [0, 2]})
    assert {"e-1-0-2", "n-1-0", "n-0-2"} <= marked(gradient)


def test_a_batch_draws_the_point_asked_for(client: TestClient) -> None:
    batch = {**BACKWARD_EXAMPLE, "x": [[1.0, 2.0], [0.0, 0.0]], "t": [[1.0, 1.15], [0.0, 0.0]], "point": 1, "show": ["z"]}
    r = client.post("/v1/diagram", json=batch)
    assert r.status_code == 200, r.text
    assert texts(ET.fromstring(r.content)).count("0") >= 5  # x = 0 gives z = 0 everywhere


def big(sizes: list[int], seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    layers = [
        {"weights": rng.normal(0, 0.05, (sizes[i + 1], sizes[i])).round(6).tolist(), "bias": [0.0] * sizes[i + 1], "activation": "relu"}
        for i in range(len(sizes) - 1)
    ]
    body = {
        "network": {"layers": layers},
        "x": rng.normal(0, 1, sizes[0]).round(6).tolist(),
        "t": rng.normal(0, 1, sizes[-1]).round(6).tolist(),
    }
    return orjson.dumps(body)


def test_mnist_sized_network_answers_within_a_second_as_a_labelled_summary(client: TestClient) -> None:
    body = big([784, 512, 512, 10], seed=784)
    start = time.perf_counter()
    r = client.post("/v1/diagram", content=body, headers={"content-type": "application/json"})
    elapsed = time.perf_counter() - start
    assert r.status_code == 200, r.text[:300]
    assert elapsed < 1.0, f"{elapsed:.3f} s"
    assert len(r.content) < 2_000_000
    root = ET.fromstring(r.content)
    assert "⋮ 768 more" in texts(root)
    assert "⋮ 496 more" in texts(root)


def test_over_the_size_cap_is_a_422_before_drawing(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    import service.handlers.diagram as handler

    def no_drawing(*args: object, **kwargs: object) -> str:
        raise AssertionError("drawn")

    monkeypatch.setattr(handler, "draw", no_drawing)
    r = client.post("/v1/diagram", content=big([64] * 10, seed=64), headers={"content-type": "application/json"})
    problem = assert_response_problem(r, 422, "/network/layers", ["bytes of SVG", "max_diagram_bytes is 2,000,000"])
    assert problem["type"].endswith("limit-exceeded")


@pytest.mark.parametrize(
    ("change", "pointer", "words"),
    [
        ({"digits": 0}, "/digits", ["greater than or equal to 1"]),
        ({"digits": 18}, "/digits", ["less than or equal to 17"]),
        ({"show": ["z", "y"]}, "/show/1", ["grad_weights"]),
        ({"show": []}, "/show", ["empty"]),
        ({"point": 1}, "/point", ["1 data points"]),
        ({"highlight": {"quantity": "delta", "layer": 2, "index": 0}}, "/highlight/layer", ["2 layers"]),
        ({"highlight": {"quantity": "delta", "layer": 0, "index": 3}}, "/highlight/index/0", ["below 3"]),
        ({"highlight": {"quantity": "grad_weights", "layer": 0, "index": [0]}}, "/highlight/index", ["2 index entries"]),
        ({"highlight": {"quantity": "grad_x", "layer": 0, "index": [0]}}, "/highlight/layer", ["has no layer"]),
        ({"highlight": {"quantity": "update", "layer": 0, "index": [0]}}, "/highlight/quantity", []),
        ({"highlight": {"quantity": "delta", "index": [0]}}, "/highlight/layer", ["needs layer"]),
        ({"include": ["a"]}, "/include", ["unknown field"]),
        ({"loss": "nope"}, "/loss", []),
        ({"t": [1.0]}, "/t", ["needs 2"]),
        ({"width": 100}, "/width", ["greater than or equal to 200"]),
        ({"width": 5000}, "/width", ["less than or equal to 4000"]),
        ({"width": "wide"}, "/width", ["number"]),
    ],
)
def test_bad_input_is_a_problem_pointing_at_the_field(client: TestClient, change: dict[str, Any], pointer: str, words: list[str]) -> None:
    assert_response_problem(client.post("/v1/diagram", json={**BACKWARD_EXAMPLE, **change}), 422, pointer, words)


def test_without_t_delta_and_its_highlight_are_refused(client: TestClient) -> None:
    assert_response_problem(client.post("/v1/diagram", json={**FORWARD_EXAMPLE, "show": ["z", "delta"]}), 422, "/show/1", ["needs t"])
    highlight = {"quantity": "delta", "layer": 0, "index": 0}
    assert_response_problem(
        client.post("/v1/diagram", json={**FORWARD_EXAMPLE, "highlight": highlight}), 422, "/highlight/quantity", ["needs t"]
    )


def test_bad_network_and_non_finite_numbers(client: TestClient) -> None:
    layers = BACKWARD_EXAMPLE["network"]["layers"]
    wrong = {"layers": [layers[0], {**layers[1], "weights": [[0.1, 0.2], [0.3, 0.4]]}]}
    assert_response_problem(
        client.post("/v1/diagram", json={**BACKWARD_EXAMPLE, "network": wrong}), 422, "/network/layers/1/weights", ["3 columns"]
    )
    unknown = {"layers": [{**layers[0], "activation": "tanhh"}, layers[1]]}
    assert_response_problem(client.post("/v1/diagram", json={**BACKWARD_EXAMPLE, "network": unknown}), 422, "/network/layers/0/activation")
    huge = b'{"network": {"layers": [{"weights": [[0.1, 1e400]]}]}, "x": [1.0, 2.0]}'
    r = client.post("/v1/diagram", content=huge, headers={"content-type": "application/json"})
    assert_response_problem(r, 422, "/network/layers/0/weights/0/1", ["finite"])
    bad = {
        **BACKWARD_EXAMPLE,
        "network": {"layers": [{"weights": [[0.1, "abc"], [0.3, 0.4], [0.5, 0.6]], "activation": "tanh"}, layers[1]]},
    }
    assert_response_problem(client.post("/v1/diagram", json=bad), 422, "/network/layers/0/weights/0/1", ["number"])


def test_a_width_lays_the_drawing_out_for_it(client: TestClient) -> None:
    assert float(drawn(client, width=340).get("width") or 0) <= 340
    assert float(drawn(client).get("width") or 0) == 720  # absent: 230 px between columns, as before
