"""POST /v1/gradcheck over HTTP: per-layer errors, torch's defaults, and its 422s."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.helpers.problems import assert_response_problem


def test_primer_example_passes_gradcheck(client: TestClient, primer: dict[str, Any]) -> None:
    r = client.post("/v1/gradcheck", json=primer["request"])
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["passed"] is True
    assert len(got["layers"]) == 2
    for layer in got["layers"]:
        assert "bias" not in layer  # the primer's layers have none
        assert layer["weights"]["passed"]
        assert layer["weights"]["max_abs_error"] < 1e-8
    assert got["x"]["passed"]


def test_gradcheck_with_bias_batch_and_parameters(client: TestClient) -> None:
    body = {
        "network": {
            "layers": [
                {"weights": [[0.3, -0.2], [0.1, 0.4]], "bias": [0.1, -0.1], "activation": {"name": "gelu", "approximate": "tanh"}},
                {"weights": [[0.5, -0.6], [0.2, 0.1], [0.3, 0.3]], "bias": [0.0, 0.1, 0.2], "activation": "linear"},
            ]
        },
        "x": [[1.0, 2.0], [0.5, -1.0], [0.0, 0.3]],
        "t": [2, 0, 1],
        "loss": {"name": "sparse_categorical_cross_entropy", "from_logits": True, "label_smoothing": 0.1},
        "reduction": "mean",
    }
    got = client.post("/v1/gradcheck", json=body).json()
    assert got["passed"] is True
    assert all(layer["bias"]["passed"] for layer in got["layers"])


def test_gradcheck_refuses_float32_and_bad_tolerances(client: TestClient, primer: dict[str, Any]) -> None:
    assert_response_problem(client.post("/v1/gradcheck", json={**primer["request"], "dtype": "float32"}), 422, "/dtype", ["float64"])
    assert_response_problem(client.post("/v1/gradcheck", json={**primer["request"], "eps": 0}), 422, "/eps", [])
    assert_response_problem(client.post("/v1/gradcheck", json={**primer["request"], "rtol": -1}), 422, "/rtol", [])


def test_gradcheck_is_documented_with_example_and_errors(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    op = doc["paths"]["/v1/gradcheck"]["post"]
    ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    example = doc["components"]["schemas"][ref.rsplit("/", 1)[1]]["examples"][0]
    assert (example["eps"], example["atol"], example["rtol"]) == (1e-6, 1e-5, 1e-3)
    assert {"200", "400", "413", "415", "422"} <= op["responses"].keys()
    assert client.post("/v1/gradcheck", json=example).json()["passed"] is True


def test_gradcheck_over_its_limits_is_422_naming_them(client: TestClient) -> None:
    """40,200 entries perturbed (a 200 × 200 layer and 200 inputs): over max_gradcheck_entries, refused before any work."""
    body = {"network": {"layers": [{"weights": [[0.0] * 200] * 200, "activation": "tanh"}]}, "x": [0.0] * 200, "t": [0.0] * 200}
    problem = assert_response_problem(client.post("/v1/gradcheck", json=body), 422, "", ["40200", "max_gradcheck_entries"])
    assert problem["type"].endswith(":limit-exceeded")
