"""POST /v1/networks/init: a network ready for /v1/backward, the same for the same seed."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from service.engine.initializers import init_parameters
from service.schemas.initializers import INIT_EXAMPLE


def test_the_network_has_the_sizes_and_goes_straight_to_backward(client: TestClient) -> None:
    r = client.post("/v1/networks/init", json={**INIT_EXAMPLE, "activations": ["tanh", {"name": "linear"}]})
    assert r.status_code == 200, r.text
    layers = r.json()["network"]["layers"]
    assert [np.shape(layer["weights"]) for layer in layers] == [(3, 2), (2, 3)]
    assert [layer["bias"] for layer in layers] == [[0.0] * 3, [0.0] * 2]  # glorot_uniform's default bias: zeros, as Keras
    assert layers[1]["activation"] == {"name": "linear"}
    backward = client.post("/v1/backward", json={"network": r.json()["network"], "x": [1.0, 2.0], "t": [1.0, 1.15]})
    assert backward.status_code == 200, backward.text


def test_the_wire_carries_the_engine_numbers_exactly(client: TestClient) -> None:
    body = {**INIT_EXAMPLE, "initializer": "he_normal", "seed": 1234}
    layers = client.post("/v1/networks/init", json=body).json()["network"]["layers"]
    for layer, (W, b) in zip(layers, init_parameters([2, 3, 2], "he_normal", "zeros", 1234), strict=True):
        np.testing.assert_array_equal(layer["weights"], W)
        np.testing.assert_array_equal(layer["bias"], b)


def test_same_seed_same_network_other_seed_other_network(client: TestClient) -> None:
    first = client.post("/v1/networks/init", json={**INIT_EXAMPLE, "seed": 9}).json()
    assert client.post("/v1/networks/init", json={**INIT_EXAMPLE, "seed": 9}).json() == first
    assert client.post("/v1/networks/init", json={**INIT_EXAMPLE, "seed": 10}).json() != first


@pytest.mark.parametrize(
    ("change", "bias"),
    [
        ({"initializer": "torch_default"}, "random"),  # nn.Linear draws its bias too
        ({"initializer": "torch_default", "bias_initializer": "zeros"}, "zeros"),
        ({"initializer": "glorot_uniform", "bias_initializer": "torch_default"}, "random"),
        ({"bias": False}, "absent"),
    ],
)
def test_bias_initializer_defaults_follow_the_weights(client: TestClient, change: dict[str, Any], bias: str) -> None:
    layer = client.post("/v1/networks/init", json={**INIT_EXAMPLE, **change}).json()["network"]["layers"][0]
    if bias == "absent":
        assert "bias" not in layer
    elif bias == "zeros":
        assert layer["bias"] == [0.0, 0.0, 0.0]
    else:
        assert all(0 < abs(v) <= 1 / np.sqrt(2) for v in layer["bias"])


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"sizes": [2, 0, 2]}, "/sizes/1"),
        ({"sizes": [2]}, "/sizes"),
        ({"activations": ["tanh"]}, "/activations"),
        ({"activations": ["tanh", "swish2"]}, "/activations/1"),
        ({"initializer": "orthogonal"}, "/initializer"),
        ({"bias_initializer": "glorot_uniform"}, "/bias_initializer"),
        ({"seed": -1}, "/seed"),
        ({"sizes": [1000, 1001], "activations": ["linear"]}, "/sizes"),  # 1,002,001 weights and biases: over the limit
    ],
)
def test_bad_requests_are_422_with_a_pointer(client: TestClient, change: dict[str, Any], pointer: str) -> None:
    r = client.post("/v1/networks/init", json={**INIT_EXAMPLE, **change})
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["pointer"] == pointer


def test_openapi_example_runs_and_errors_are_declared(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    assert {"200", "400", "413", "415", "422"} <= doc["paths"]["/v1/networks/init"]["post"]["responses"].keys()
    example = doc["components"]["schemas"]["InitRequest"]["examples"][0]
    assert client.post("/v1/networks/init", json=example).status_code == 200
