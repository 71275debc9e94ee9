"""The docs: every operation explained, every computing one with examples that compute, pages that name no other host."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.api.examples import EXAMPLE_DIGITS
from service.api.routes.docs import ASSETS_DIR


@pytest.fixture(scope="module")
def openapi(client: TestClient) -> dict[str, Any]:
    document: dict[str, Any] = client.get("/openapi.json").json()
    return document


def operations(openapi: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, item in openapi["paths"].items() for method, op in item.items()]


def test_every_operation_has_a_summary_and_a_description(openapi: dict[str, Any]) -> None:
    for path, method, op in operations(openapi):
        assert op.get("summary"), f"{method} {path} has no summary"
        assert len(op.get("description", "")) > 20, f"{method} {path} has no description"


def test_computing_operations_use_the_primers_notation(openapi: dict[str, Any]) -> None:
    for path in ("/v1/forward", "/v1/backward", "/v1/train-step"):
        description = openapi["paths"][path]["post"]["description"]
        assert "a⁽ˡ⁾" in description or "∂E/∂θ" in description, path


@pytest.mark.parametrize("path", ["/v1/forward", "/v1/backward", "/v1/train-step"])
def test_every_named_example_computes(path: str, openapi: dict[str, Any], client: TestClient) -> None:
    examples = openapi["paths"][path]["post"]["requestBody"]["content"]["application/json"]["examples"]
    assert next(iter(examples)) == "primer"  # the docs page prefills the first
    assert "classification" in examples
    for name, example in examples.items():
        assert example["summary"]
        response = client.post(path, json=example["value"])
        assert response.status_code == 200, (name, response.text)
    classification = examples["classification"]["value"]
    assert classification["network"]["layers"][-1]["activation"] == "softmax"
    if path != "/v1/forward":
        assert classification["loss"] == "categorical_cross_entropy"


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_pages_load_assets_from_this_service_only(page: str, client: TestClient) -> None:
    response = client.get(page)
    assert response.status_code == 200
    assert re.findall(r"(?:src|href)=\"(https?:)?//", response.text) == []
    assert "default-src 'self'" in response.headers["content-security-policy"]
    for asset in re.findall(r"/docs-assets/[\w.-]+", response.text):
        assert client.get(asset).status_code == 200, asset


def test_the_assets_come_from_the_installed_package() -> None:
    assert {"swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js"} <= {p.name for p in ASSETS_DIR.iterdir()}


def test_the_primer_answer_is_shown_beside_its_request(openapi: dict[str, Any]) -> None:
    answers = openapi["paths"]["/v1/backward"]["post"]["responses"]["200"]["content"]["application/json"]["examples"]
    # the documented answers are committed data (service/api/example_answers.json), rounded to EXAMPLE_DIGITS (15) significant
    # digits: the committed document is the same on every CPU (np.exp's SIMD kernels differ between AVX2 and AVX-512)
    assert EXAMPLE_DIGITS == 15
    assert answers["primer"]["value"]["layers"][1]["grad_weights"][0][0] == -0.237096489916815  # -0.23709648991681476
    assert answers["classification"]["value"]["loss"] > 0
