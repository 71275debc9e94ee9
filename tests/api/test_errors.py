"""Every malformed request gets a 4xx problem+json that points at what to fix."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers.problems import assert_response_problem

Body = dict[str, Any]


def _primer(primer_request: Body, change: Callable[[Body], None]) -> Body:
    body = copy.deepcopy(primer_request)
    change(body)
    return body


def _set(path: list[str | int], value: Any) -> Callable[[Body], None]:
    def change(body: Body) -> None:
        target: Any = body
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


# (case id, change to the primer's request, expected pointer, words the detail must contain)
CASES: list[tuple[str, Callable[[Body], None], str, list[str]]] = [
    (
        "ragged weight rows",
        _set(["network", "layers", 0, "weights"], [[0.1, 0.2], [0.3], [0.5, 0.6]]),
        "/network/layers/0/weights",
        ["row 1", "1 entries", "2"],
    ),
    ("empty network", _set(["network", "layers"], []), "/network/layers", ["empty"]),
    ("empty weights", _set(["network", "layers", 0, "weights"], []), "/network/layers/0/weights", ["empty"]),
    ("empty weight row", _set(["network", "layers", 0, "weights"], [[], [], []]), "/network/layers/0/weights/0", ["empty"]),
    (
        "layer sizes do not chain",
        _set(["network", "layers", 1, "weights"], [[0.1, 0.2], [0.4, 0.5]]),
        "/network/layers/1/weights",
        ["2 columns", "layer 0 has 3 outputs"],
    ),
    ("bias of the wrong length", _set(["network", "layers", 0, "bias"], [0.1, 0.2]), "/network/layers/0/bias", ["2 entries", "3 rows"]),
    ("x too short", _set(["x"], [1.0]), "/x", ["1 inputs", "2 columns"]),
    ("batch x too wide", _set(["x"], [[1.0, 2.0, 3.0]]), "/x/0", ["3 inputs", "2 columns"]),
    ("t too long", _set(["t"], [1.0, 1.15, 2.0]), "/t", ["3 targets", "2 outputs"]),
    ("t a matrix for a vector x", _set(["t"], [[1.0, 1.15]]), "/t", ["vector"]),
    ("unknown activation", _set(["network", "layers", 0, "activation"], "tanhh"), "/network/layers/0/activation", ["tanh"]),
    (
        "unknown activation in an object",
        _set(["network", "layers", 0, "activation"], {"name": "nope"}),
        "/network/layers/0/activation/name",
        ["tanh"],
    ),
    ("unknown loss", _set(["loss"], "l2"), "/loss", ["half_sse"]),
    ("unknown dtype", _set(["dtype"], "float16"), "/dtype", ["float64", "float32"]),
    ("unknown reduction", _set(["reduction"], "max"), "/reduction", ["sum", "mean"]),
    ("unknown field", _set(["weights"], [[1.0]]), "/weights", ["unknown field"]),
    ("missing t", lambda b: b.pop("t"), "/t", ["required"]),
    ("string NaN in weights", _set(["network", "layers", 1, "weights", 1, 2], "NaN"), "/network/layers/1/weights/1/2", ["number"]),
    ("boolean in x", _set(["x", 1], True), "/x/1", ["number"]),
    ("numeric string in t", _set(["t", 0], "1.0"), "/t/0", ["number"]),
    ("null weight", _set(["network", "layers", 0, "weights", 2, 0], None), "/network/layers/0/weights/2/0", ["number"]),
]


@pytest.mark.parametrize(("change", "pointer", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_request_gets_422_with_pointer(
    client: TestClient, primer: dict[str, Any], change: Callable[[Body], None], pointer: str, words: list[str]
) -> None:
    r = client.post("/v1/backward", json=_primer(primer["request"], change))
    assert_response_problem(r, 422, pointer, words)


NON_FINITE = [b"NaN", b"Infinity", b"-Infinity", b"1e400", b"-1e400"]


@pytest.mark.parametrize("token", NON_FINITE, ids=[t.decode() for t in NON_FINITE])
@pytest.mark.parametrize(("where", "pointer"), [(b'"x": [1.0, @]', "/x/1"), (b'"t": [@, 1.15]', "/t/0")])
def test_non_finite_numbers_are_refused(client: TestClient, token: bytes, where: bytes, pointer: str) -> None:
    network = (
        b'{"layers": [{"weights": [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]], "activation": "tanh"},'
        b' {"weights": [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]}]}'
    )
    fields = {b"x": b'"x": [1.0, 2.0]', b"t": b'"t": [1.0, 1.15]'}
    fields[where[1:2]] = where.replace(b"@", token)
    body = b'{"network": ' + network + b", " + b", ".join(fields.values()) + b"}"
    r = client.post("/v1/backward", content=body, headers={"content-type": "application/json"})
    assert_response_problem(r, 422, pointer, ["finite"])


def test_non_finite_weight_is_refused(client: TestClient) -> None:
    body = b'{"network": {"layers": [{"weights": [[0.1, NaN]]}]}, "x": [1.0, 2.0]}'
    r = client.post("/v1/forward", content=body, headers={"content-type": "application/json"})
    assert_response_problem(r, 422, "/network/layers/0/weights/0/1", ["finite"])


@pytest.mark.parametrize("body", [b"{", b"not json", b'{"x": [1,]}', b""])
def test_body_that_is_not_json_gets_400(client: TestClient, body: bytes) -> None:
    r = client.post("/v1/backward", content=body, headers={"content-type": "application/json"})
    assert_response_problem(r, 400, "", ["JSON"])


def test_json_that_is_not_an_object_gets_422(client: TestClient) -> None:
    r = client.post("/v1/backward", json=[1, 2])
    assert_response_problem(r, 422, "", ["object"])


def test_wrong_content_type_gets_415(client: TestClient, primer: dict[str, Any]) -> None:
    r = client.post("/v1/backward", content=b"x=1", headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 415
    assert r.headers["content-type"] == "application/problem+json"


def test_overflow_answers_422_naming_the_layer(client: TestClient) -> None:
    """Weights of 1e200 overflow a⁽²⁾: a 422 that names layer 1, never a NaN or null in a 200."""
    body = {
        "network": {"layers": [{"weights": [[1e200, 1e200]], "activation": "linear"}, {"weights": [[1e200]]}]},
        "x": [1.0, 1.0],
        "t": [0.0],
    }
    r = client.post("/v1/backward", json=body)
    assert_response_problem(r, 422, "/network/layers/1", ["a of layer 1", "not finite"])


def test_softmax_and_sigmoid_stay_finite_at_1000(client: TestClient) -> None:
    """Inputs of ±1000 give finite numbers (and no NumPy warnings, which the suite turns into errors)."""
    body = {
        "network": {
            "layers": [
                {"weights": [[1.0], [-1.0]], "activation": "sigmoid"},
                {"weights": [[1000.0, -1000.0], [-1000.0, 1000.0]], "activation": "softmax"},
            ]
        },
        "x": [[1000.0], [-1000.0]],
        "t": [[1.0, 0.0], [0.0, 1.0]],
        "loss": "categorical_cross_entropy",
    }
    r = client.post("/v1/backward", json=body)
    assert r.status_code == 200, r.text
    for word in ("NaN", "null", "Infinity"):
        assert word not in r.text


def test_unknown_route_is_problem_json(client: TestClient) -> None:
    r = client.get("/v1/nope")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
