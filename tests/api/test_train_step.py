"""/v1/train-step with plain SGD: exactly W − η·∂E/∂W, and the primer's loss goes down."""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi.testclient import TestClient

ETA = 0.1


def test_sgd_step_is_w_minus_eta_grad(client: TestClient, primer: dict[str, Any]) -> None:
    req = primer["request"]
    r = client.post("/v1/train-step", json={**req, "optimizer": {"name": "sgd", "learning_rate": ETA}})
    assert r.status_code == 200, r.text
    got = r.json()
    for old, new, grads in zip(req["network"]["layers"], got["network"]["layers"], got["layers"], strict=True):
        want = np.array(old["weights"]) - ETA * np.array(grads["grad_weights"])
        np.testing.assert_array_equal(new["weights"], want)  # bit for bit: one subtraction, one product
        assert new["activation"] == old["activation"]
    assert got["optimizer_state"] == {"step": 1, "slots": {}}
    np.testing.assert_allclose(got["loss"], primer["expected_float64"]["loss"], rtol=1e-12)


def test_sgd_lowers_the_primer_loss(client: TestClient, primer: dict[str, Any]) -> None:
    req = {**primer["request"], "optimizer": {"name": "sgd", "learning_rate": ETA}}
    first = client.post("/v1/train-step", json=req).json()
    second = client.post("/v1/train-step", json={**req, "network": first["network"], "optimizer_state": first["optimizer_state"]}).json()
    assert second["loss"] < first["loss"]
    assert second["optimizer_state"]["step"] == 2


def test_bias_is_updated_too(client: TestClient) -> None:
    req = {
        "network": {"layers": [{"weights": [[0.5, -0.25]], "bias": [0.1], "activation": "sigmoid"}]},
        "x": [[1.0, 2.0], [0.5, -1.0]],
        "t": [[1.0], [0.0]],
        "optimizer": {"name": "sgd", "learning_rate": ETA},
    }
    got = client.post("/v1/train-step", json=req).json()
    np.testing.assert_array_equal(got["network"]["layers"][0]["bias"], np.array([0.1]) - ETA * np.array(got["layers"][0]["grad_bias"]))
