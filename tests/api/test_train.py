"""/v1/train: the same steps as /v1/train-step calls on the same batches, as JSON or as an NDJSON stream."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from service.api.stream import accepts_ndjson
from service.config import get_settings

N, BATCH, EPOCHS, SEED = 7, 3, 4, 7


@pytest.fixture(scope="module")
def request_body() -> dict[str, Any]:
    rng = np.random.default_rng(11)
    return {
        "network": {
            "layers": [
                {"weights": rng.normal(0, 0.5, (4, 2)).tolist(), "bias": [0.0, 0.1, -0.1, 0.2], "activation": "tanh"},
                {"weights": rng.normal(0, 0.5, (2, 4)).tolist(), "activation": "linear"},
            ]
        },
        "x": rng.normal(0, 1, (N, 2)).tolist(),
        "t": rng.normal(0, 1, (N, 2)).tolist(),
        "loss": "mse",
        "reduction": "mean",
        "optimizer": {"name": "adam", "learning_rate": 0.05, "amsgrad": True, "clip_norm": 0.5},
        "regularization": {"l1": 0.001, "l2": 0.01},
        "epochs": EPOCHS,
        "batch_size": BATCH,
        "seed": SEED,
    }


def _replay(client: TestClient, body: dict[str, Any]) -> tuple[list[float], dict[str, Any]]:
    """The documented order: default_rng(seed) once, rng.permutation(N) per epoch, consecutive batches."""
    step_body = {k: v for k, v in body.items() if k not in {"epochs", "batch_size", "shuffle", "seed"}}
    x, t = np.array(body["x"]), np.array(body["t"])
    rng = np.random.default_rng(body["seed"])
    network, state, losses = body["network"], None, []
    for _ in range(body["epochs"]):
        order = rng.permutation(len(x))
        for start in range(0, len(x), body["batch_size"]):
            rows = order[start : start + body["batch_size"]]
            r = client.post(
                "/v1/train-step",
                json={**step_body, "network": network, "optimizer_state": state, "x": x[rows].tolist(), "t": t[rows].tolist()},
            )
            assert r.status_code == 200, r.text
            network, state = r.json()["network"], r.json()["optimizer_state"]
            losses.append(r.json()["loss"])
    return losses, {"network": network, "optimizer_state": state}


def test_train_equals_train_step_calls_on_the_same_batches(client: TestClient, request_body: dict[str, Any]) -> None:
    r = client.post("/v1/train", json=request_body)
    assert r.status_code == 200, r.text
    got = r.json()
    losses, final = _replay(client, request_body)
    steps_per_epoch = -(-N // BATCH)
    assert len(got["losses"]) == EPOCHS * steps_per_epoch == got["optimizer_state"]["step"]
    # Same code, same batches, exact JSON round trips: bit for bit.
    assert got["losses"] == losses
    assert got["network"] == final["network"]
    assert got["optimizer_state"] == final["optimizer_state"]


def test_epoch_loss_is_the_batch_size_weighted_mean_of_its_steps(client: TestClient, request_body: dict[str, Any]) -> None:
    got = client.post("/v1/train", json=request_body).json()
    sizes = [BATCH, BATCH, N - 2 * BATCH]
    per_epoch = np.array(got["losses"]).reshape(EPOCHS, len(sizes))
    np.testing.assert_allclose(got["epoch_losses"], per_epoch @ sizes / N, rtol=1e-14)


def test_same_seed_same_run_other_seed_other_order(client: TestClient, request_body: dict[str, Any]) -> None:
    first = client.post("/v1/train", json=request_body).json()
    again = client.post("/v1/train", json=request_body).json()
    other = client.post("/v1/train", json={**request_body, "seed": SEED + 1}).json()
    assert first == again
    assert first["losses"] != other["losses"]


def test_without_shuffle_or_batch_size_each_epoch_is_one_full_batch_step(client: TestClient, request_body: dict[str, Any]) -> None:
    body = {k: v for k, v in request_body.items() if k != "batch_size"}
    got = client.post("/v1/train", json={**body, "shuffle": False, "epochs": 3}).json()
    assert len(got["losses"]) == 3
    assert got["epoch_losses"] == got["losses"]
    step = {k: v for k, v in body.items() if k not in {"epochs", "seed"}}
    first = client.post("/v1/train-step", json=step).json()
    assert got["losses"][0] == first["loss"]


#: The two ways to ask for the stream: /v1/train with an Accept header, and /v1/train/stream (what the document offers generators).
STREAMS = pytest.mark.parametrize(
    ("path", "headers"),
    [("/v1/train", {"Accept": "application/x-ndjson"}), ("/v1/train/stream", {})],
    ids=["accept", "stream-path"],
)


@STREAMS
def test_ndjson_streams_one_line_per_epoch_then_the_result(
    client: TestClient, request_body: dict[str, Any], path: str, headers: dict[str, str]
) -> None:
    whole = client.post("/v1/train", json=request_body).json()
    with client.stream("POST", path, json=request_body, headers=headers) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("application/x-ndjson")
        lines = [json.loads(line) for line in r.iter_lines() if line]
    assert [line["event"] for line in lines] == ["epoch"] * EPOCHS + ["result"]
    assert [line["epoch"] for line in lines[:-1]] == list(range(1, EPOCHS + 1))
    assert [loss for line in lines[:-1] for loss in line["losses"]] == whole["losses"]
    assert [line["loss"] for line in lines[:-1]] == whole["epoch_losses"]
    result = lines[-1]
    del result["event"]
    assert result == whole


@STREAMS
def test_a_bad_request_is_a_problem_before_the_stream_starts(
    client: TestClient, request_body: dict[str, Any], path: str, headers: dict[str, str]
) -> None:
    r = client.post(path, json={**request_body, "t": [[1.0]] * N}, headers=headers)
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"


@STREAMS
def test_overflow_in_a_later_epoch_ends_the_stream_with_an_error_line(
    client: TestClient, request_body: dict[str, Any], path: str, headers: dict[str, str]
) -> None:
    body = {**request_body, "optimizer": {"name": "sgd", "learning_rate": 1e6}, "regularization": None, "epochs": 50}
    r = client.post(path, json=body, headers=headers)
    assert r.status_code == 200
    lines = [json.loads(line) for line in r.text.splitlines()]
    assert lines[0]["event"] == "epoch"
    assert lines[-1]["event"] == "error"
    assert lines[-1]["status"] == 422
    assert lines[-1]["type"].endswith(":non-finite-result")
    for word in ("NaN", "Infinity", "null"):
        assert word not in r.text
    plain = client.post("/v1/train", json=body)
    assert plain.status_code == 422


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"epochs": get_settings().max_train_steps + 1}, "/epochs"),
        ({"epochs": get_settings().max_train_steps // 2}, "/epochs"),  # × 3 batches per epoch
        ({"epochs": 0}, "/epochs"),
        ({"batch_size": 0}, "/batch_size"),
        ({"seed": -1}, "/seed"),
    ],
)
def test_limits_are_422_with_a_pointer(client: TestClient, request_body: dict[str, Any], change: dict[str, Any], pointer: str) -> None:
    r = client.post("/v1/train", json={**request_body, **change})
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["pointer"] == pointer


def test_openapi_declares_the_json_answer_the_stream_the_example_and_errors(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    op, stream = paths["/v1/train"]["post"], paths["/v1/train/stream"]["post"]
    assert set(op["responses"]["200"]["content"]) == {"application/json"}  # one media type per operation: generators read it
    assert set(stream["responses"]["200"]["content"]) == {"application/x-ndjson"}
    for declared in (op, stream):
        assert {"400", "401", "413", "415", "422", "503", "504"} <= declared["responses"].keys()
    example = client.get("/openapi.json").json()["components"]["schemas"]["TrainRequest"]["examples"][0]
    assert client.post("/v1/train", json=example).status_code == 200


@pytest.mark.parametrize(
    ("accept", "streams"),
    [
        ("application/x-ndjson", True),
        ("application/json, Application/X-NDJSON;q=0.9", True),
        ("application/json", False),
        ("*/*", False),
        (None, False),
    ],
)
def test_the_accept_header_chooses_the_stream(accept: str | None, streams: bool) -> None:
    assert accepts_ndjson(accept) is streams
