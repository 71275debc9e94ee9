"""The committed openapi/openapi.json is what the app serves, and the docs are complete."""

from typing import Any

from fastapi.testclient import TestClient

from service.openapi_export import PATH, render


def test_committed_openapi_is_current() -> None:
    assert PATH.read_text(encoding="utf-8") == render(), "openapi/openapi.json is stale: run `python -m service.openapi_export`"


def test_every_computing_route_declares_body_example_and_errors(client: TestClient) -> None:
    doc: dict[str, Any] = client.get("/openapi.json").json()
    schemas = doc["components"]["schemas"]
    for path in ("/v1/forward", "/v1/backward", "/v1/train-step"):
        op = doc["paths"][path]["post"]
        ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        model = schemas[ref.rsplit("/", 1)[1]]
        assert model["examples"][0]["network"]["layers"][0]["weights"] == [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]]
        assert {"200", "400", "413", "415", "422"} <= op["responses"].keys()
        assert "application/problem+json" in op["responses"]["422"]["content"]
