"""Every limit: a request exactly at it computes, one unit over it gets a 413/422 naming the limit, its value and what was sent."""

from __future__ import annotations

import gzip
import time
from typing import Any

import numpy as np
import orjson
import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.errors import LimitExceeded
from service.limits import check_train_steps
from tests.helpers.clients import MakeClient
from tests.helpers.problems import answer, assert_problem

SMALL = {
    "GRADIENT_MAX_LAYERS": "3",
    "GRADIENT_MAX_UNITS_PER_LAYER": "4",
    "GRADIENT_MAX_PARAMETERS": "40",
    "GRADIENT_MAX_BATCH_ROWS": "6",
    "GRADIENT_MAX_BATCH_PARAMETERS": "100",
    "GRADIENT_MAX_BODY_BYTES": "2048",
}


def layer(K: int, M: int, bias: bool = False) -> dict[str, Any]:
    return {"weights": [[0.1] * M for _ in range(K)], **({"bias": [0.0] * K} if bias else {})}


def request(layers: list[dict[str, Any]], rows: int = 1) -> dict[str, Any]:
    return {"network": {"layers": layers}, "x": [[0.5] * len(layers[0]["weights"][0]) for _ in range(rows)]}


# (limit, request exactly at it, request one over it, pointer of the error)
CASES = [
    ("max_layers", request([layer(1, 1)] * 3), request([layer(1, 1)] * 4), "/network/layers"),
    ("max_units_per_layer", request([layer(4, 4)]), request([layer(5, 1)]), "/network/layers/0/weights"),
    ("max_units_per_layer", request([layer(4, 4)]), request([layer(1, 5)]), "/network/layers/0/weights"),
    (
        "max_parameters",  # 20 + 16 + 4 = 40, then one bias more
        request([layer(4, 4, bias=True), layer(4, 4), layer(1, 4)]),
        request([layer(4, 4, bias=True), layer(4, 4), layer(1, 4, bias=True)]),
        "/network/layers",
    ),
    ("max_batch_rows", request([layer(1, 1)], rows=6), request([layer(1, 1)], rows=7), "/x"),
    ("max_batch_parameters", request([layer(4, 4, bias=True)], rows=5), request([layer(4, 4, bias=True)], rows=6), "/x"),
]


@pytest.mark.parametrize(("limit", "at", "over", "pointer"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_limit_is_inclusive_and_named_when_exceeded(
    make_client: MakeClient, limit: str, at: dict[str, Any], over: dict[str, Any], pointer: str
) -> None:
    client = make_client(**SMALL)
    assert client.post("/v1/forward", json=at).status_code == 200
    r = client.post("/v1/forward", json=over)
    problem = assert_problem(r.status_code, r.headers, r.content, 422)
    assert problem["type"].endswith(":limit-exceeded")
    [error] = problem["errors"]
    assert error["pointer"] == pointer
    value = SMALL[f"GRADIENT_{limit.upper()}"]
    assert f"the limit {limit} is {int(value):,}" in error["detail"]


def _padded(body: dict[str, Any], size: int) -> bytes:
    raw = orjson.dumps(body)
    return raw[:-1] + b" " * (size - len(raw)) + b"}"


@pytest.mark.parametrize("gzipped", [False, True], ids=["plain", "gzip"])
def test_max_body_bytes_is_inclusive(make_client: MakeClient, gzipped: bool) -> None:
    """2048 bytes (after gzip decoding) compute; 2049 are a 413."""
    client = make_client(**SMALL)
    headers = {"content-type": "application/json", **({"content-encoding": "gzip"} if gzipped else {})}
    encode = gzip.compress if gzipped else bytes
    body = request([layer(1, 1)])
    assert client.post("/v1/forward", content=encode(_padded(body, 2048)), headers=headers).status_code == 200
    r = client.post("/v1/forward", content=encode(_padded(body, 2049)), headers=headers)
    problem = assert_problem(r.status_code, r.headers, r.content, 413)
    assert "max_body_bytes is 2,048" in problem["detail"]
    assert "2,049" in problem["detail"]


def test_train_steps_limit_is_inclusive() -> None:
    limit = Settings().max_train_steps
    check_train_steps(limit, "/epochs")
    with pytest.raises(LimitExceeded) as caught:
        check_train_steps(limit + 1, "/epochs")
    assert answer(caught.value)[0] == 422
    assert caught.value.errors == [("/epochs", f"optimizer steps: {limit + 1:,}; the limit max_train_steps is {limit:,}")]


def test_defaults_serve_mnist_with_a_batch_of_256(client: TestClient) -> None:
    """784-512-512-10 with biases is 669,706 parameters; × 256 rows is under the compute budget."""
    limits = client.get("/v1/limits").json()
    parameters = 784 * 512 + 512 + 512 * 512 + 512 + 512 * 10 + 10
    assert parameters <= limits["max_parameters"]
    assert limits["max_batch_rows"] >= 256
    assert 256 * parameters <= limits["max_batch_parameters"]
    assert max(784, 512) <= limits["max_units_per_layer"]
    assert 40 * 1024 * 1024 > limits["max_body_bytes"] >= 32 * 1024 * 1024


def test_limits_are_published_and_configurable(make_client: MakeClient) -> None:
    client = make_client(**SMALL)
    limits = client.get("/v1/limits").json()
    assert limits["max_layers"] == 3
    assert limits["max_body_bytes"] == 2048
    description = client.get("/openapi.json").json()["info"]["description"]
    assert "| `max_layers` | 3 |" in description


def test_gradcheck_honours_the_time_limit(make_client: MakeClient) -> None:
    """A gradcheck of three 200 × 200 tanh layers on 8 points (~120k entries, limits raised to allow it) runs for many
    seconds; with max_compute_seconds = 1 it stops itself and answers 504 within 2 s."""
    client = make_client(
        GRADIENT_MAX_COMPUTE_SECONDS="1", GRADIENT_MAX_GRADCHECK_ENTRIES="1000000", GRADIENT_MAX_GRADCHECK_WORK=str(10**15)
    )
    rng = np.random.default_rng(0)
    layers = [{"weights": (rng.standard_normal((200, 200)) * 0.05).tolist(), "activation": "tanh"} for _ in range(3)]
    body = {"network": {"layers": layers}, "x": rng.standard_normal((8, 200)).tolist(), "t": np.zeros((8, 200)).tolist()}
    start = time.perf_counter()
    r = client.post("/v1/gradcheck", json=body)
    seconds = time.perf_counter() - start
    problem = assert_problem(r.status_code, r.headers, r.content, 504)
    assert "max_compute_seconds" in problem["detail"]
    assert seconds < 2, seconds
