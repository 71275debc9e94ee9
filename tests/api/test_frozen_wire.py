"""`trainable` and `train_bias` on the wire: sent back as sent, refused where they mean nothing."""

from __future__ import annotations

from fastapi.testclient import TestClient

NETWORK = {"layers": [{"weights": [[0.1, 0.2], [0.3, 0.4]], "activation": "tanh"}, {"weights": [[0.5, 0.6]], "bias": [0.1]}]}
BODY = {"network": NETWORK, "x": [1.0, 2.0], "t": [0.5], "optimizer": {"name": "sgd", "learning_rate": 0.1}}


def test_a_train_bias_without_a_bias_is_a_422_at_the_flag(client: TestClient) -> None:
    layers = [{**NETWORK["layers"][0], "train_bias": False}, NETWORK["layers"][1]]
    r = client.post("/v1/train-step", json={**BODY, "network": {"layers": layers}})
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"][0]["pointer"] == "/network/layers/0/train_bias"
    assert "no bias" in r.json()["errors"][0]["detail"]


def test_flags_that_are_not_booleans_are_a_422(client: TestClient) -> None:
    layers = [{**NETWORK["layers"][0], "trainable": "no"}, NETWORK["layers"][1]]
    r = client.post("/v1/train-step", json={**BODY, "network": {"layers": layers}})
    assert r.status_code == 422
    assert r.json()["errors"][0]["pointer"] == "/network/layers/0/trainable"


def test_the_flags_are_written_only_when_false_and_come_back_as_sent(client: TestClient) -> None:
    plain = client.post("/v1/train-step", json=BODY).json()["network"]["layers"]
    assert all("trainable" not in layer and "train_bias" not in layer for layer in plain)  # answers as before
    layers = [{**NETWORK["layers"][0], "trainable": False}, {**NETWORK["layers"][1], "train_bias": False, "trainable": True}]
    frozen = client.post("/v1/train-step", json={**BODY, "network": {"layers": layers}}).json()["network"]["layers"]
    assert frozen[0]["trainable"] is False
    assert frozen[0]["weights"] == NETWORK["layers"][0]["weights"]
    assert frozen[1]["train_bias"] is False
    assert "trainable" not in frozen[1]
    assert frozen[1]["bias"] == [0.1]
    assert frozen[1]["weights"] != NETWORK["layers"][1]["weights"]
