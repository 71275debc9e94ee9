"""GET /v1/activations, /v1/losses, /v1/optimizers, /v1/initializers: complete, and true to the code."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.engine import get_activation, get_loss
from service.engine.activations import activation_names, records
from service.engine.initializers import initializer_names
from service.engine.losses import loss_names

KEYS = {"name", "formula", "parameters", "aliases", "keras_difference", "notes"}


def _entries(client: TestClient, kind: str) -> list[dict[str, Any]]:
    r = client.get(f"/v1/{kind}")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    entries: list[dict[str, Any]] = r.json()
    for e in entries:
        assert e.keys() == KEYS
        assert e["formula"]
        for p in e["parameters"]:
            assert p.keys() == {"name", "default", "range", "description"}
    return entries


@pytest.mark.parametrize(("kind", "names", "build"), [("activations", activation_names, get_activation), ("losses", loss_names, get_loss)])
def test_catalog_lists_every_name_and_its_defaults_are_accepted(client: TestClient, kind: str, names: Any, build: Any) -> None:
    entries = _entries(client, kind)
    listed = {n for e in entries for n in (e["name"], *e["aliases"])}
    assert listed == set(names())
    for e in entries:
        build(e["name"], **{p["name"]: p["default"] for p in e["parameters"]})


def test_activations_name_pytorch_defaults_and_keras_differences(client: TestClient) -> None:
    by_name = {e["name"]: e for e in _entries(client, "activations")}
    assert list(by_name) == sorted(e.describe.name for e, _ in records())  # every record, sorted by name
    leaky = by_name["leaky_relu"]
    assert leaky["parameters"][0] == {
        "name": "negative_slope",
        "default": 0.01,
        "range": "any finite number",
        "description": "s, the slope for a ≤ 0",
    }
    assert "0.2" in leaky["keras_difference"]
    assert "relu6(a + 3)" in by_name["hard_sigmoid"]["formula"]
    assert "0.2a + 0.5" in by_name["hard_sigmoid"]["keras_difference"]
    assert by_name["gelu"]["parameters"][0]["range"] == "none | tanh"
    assert by_name["silu"]["aliases"] == ["swish"]
    assert any("ḣ(0) = 0" in n for n in by_name["relu"]["notes"])


def test_losses_say_how_keras_differs(client: TestClient) -> None:
    by_name = {e["name"]: e for e in _entries(client, "losses")}
    assert "1e-7" in by_name["binary_cross_entropy"]["keras_difference"]
    assert "−100" in by_name["binary_cross_entropy"]["formula"]
    assert {p["name"] for p in by_name["sparse_categorical_cross_entropy"]["parameters"]} == {"from_logits", "label_smoothing"}
    assert by_name["huber"]["parameters"][0]["default"] == 1.0


def test_optimizers_and_initializers(client: TestClient) -> None:
    assert "sgd" in {e["name"] for e in _entries(client, "optimizers")}
    assert [e["name"] for e in _entries(client, "initializers")] == initializer_names()


def test_catalog_routes_declare_their_response_model(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    for kind in ("activations", "losses", "optimizers", "initializers"):
        schema = doc["paths"][f"/v1/{kind}"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert schema["items"]["$ref"].endswith("/CatalogEntryOut")
