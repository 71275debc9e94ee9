"""Binary tensors in and out: the same bits as JSON arrays, `include` filters, bad tensors get a 422 with a pointer."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import orjson
import pytest
from fastapi.testclient import TestClient

from tests.helpers.tensors import Body, arrays_of, read, request, tensor


def _flat(response: Body, dtype: str) -> dict[str, np.ndarray]:
    out = {"y": read(response["y"], dtype), "grad_x": read(response["grad_x"], dtype)}
    for l, layer in enumerate(response["layers"]):
        out |= {f"{name}{l}": read(value, dtype) for name, value in layer.items()}
    return out


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_binary_and_json_give_bit_identical_results(client: TestClient, dtype: str) -> None:
    """Every combination of request and response encoding gives the same bits (compared as integers)."""
    results = {}
    for binary in (False, True):
        for encoding in ("json", "base64"):
            r = client.post("/v1/backward", json=request(dtype, binary, encoding))
            assert r.status_code == 200, r.text
            results[binary, encoding] = r.json()
    reference = _flat(results[False, "json"], dtype)
    assert len(reference) == 2 + 2 * 5
    as_bits = np.dtype(dtype.replace("float", "uint"))
    for key, body in results.items():
        got = _flat(body, dtype)
        assert got.keys() == reference.keys()
        for name, value in got.items():
            assert value.dtype == np.dtype(dtype)
            np.testing.assert_array_equal(value.view(as_bits), reference[name].view(as_bits), err_msg=f"{key} {name}")
        assert body["loss"] == results[False, "json"]["loss"]


def test_bit_comparison_detects_one_ulp() -> None:
    """The comparison above is bitwise: one ulp apart fails it."""
    a = np.array([0.1], dtype=np.float32)
    with pytest.raises(AssertionError):
        np.testing.assert_array_equal(np.nextafter(a, np.float32(1)).view(np.uint32), a.view(np.uint32))


def test_base64_response_encodes_every_array(client: TestClient) -> None:
    """Train-step in base64: gradients, the new network and the optimizer state are all tensors; the loss a number."""
    body = request("float32", True, "base64", optimizer={"name": "sgd", "learning_rate": 0.1})
    r = client.post("/v1/train-step", json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert isinstance(out["loss"], float)

    def arrays(value: Any) -> list[Any]:
        if isinstance(value, dict) and "b64" in value:
            return [value]
        if isinstance(value, dict):
            return [a for item in value.values() for a in arrays(item)]
        if isinstance(value, list):
            assert not value or not isinstance(value[0], float), "a JSON array of numbers in a base64 response"
            return [a for item in value for a in arrays(item)]
        return []

    found = arrays({k: v for k, v in out.items() if k != "loss"})
    assert len(found) == 2 + 2 * 5 + 2 * 2
    assert {t["dtype"] for t in found} == {"float32"}
    new_W0 = read(out["network"]["layers"][0]["weights"], "float32")
    expected = arrays_of("float32")["W0"] - np.float32(0.1) * read(out["layers"][0]["grad_weights"], "float32")
    np.testing.assert_array_equal(new_W0, expected)


def test_include_returns_only_what_is_asked(client: TestClient) -> None:
    r = client.post("/v1/backward", json=request("float64", False, "json", include=["grad_weights"]))
    assert r.status_code == 200, r.text
    out = r.json()
    assert [set(layer) for layer in out["layers"]] == [{"grad_weights"}, {"grad_weights"}]
    assert {"loss", "y", "grad_x"} <= out.keys()
    full = client.post("/v1/backward", json=request("float64", False, "json"))
    assert [layer["grad_weights"] for layer in out["layers"]] == [layer["grad_weights"] for layer in full.json()["layers"]]
    assert len(r.content) < len(full.content) / 2


def test_forward_include_and_empty_include(client: TestClient) -> None:
    body = request("float64", False, "json", include=["z"])
    for key in ("t", "loss"):
        body.pop(key)
    out = client.post("/v1/forward", json=body).json()
    assert [set(layer) for layer in out["layers"]] == [{"z"}, {"z"}]
    body["include"] = []
    assert client.post("/v1/forward", json=body).json()["layers"] == [{}, {}]


def test_include_refuses_an_unknown_quantity(client: TestClient) -> None:
    body = request("float64", False, "json", include=["grad_weights", "grad_w"])
    r = client.post("/v1/backward", json=body)
    assert r.status_code == 422
    assert [e["pointer"] for e in r.json()["errors"]] == ["/include/1"]
    for key in ("t", "loss"):
        body.pop(key)
    body["include"] = ["delta"]  # forward has no delta
    r = client.post("/v1/forward", json=body)
    assert r.status_code == 422
    assert [e["pointer"] for e in r.json()["errors"]] == ["/include/0"]


def test_float32_tensors_compute_in_float64_when_asked(client: TestClient) -> None:
    """dtype is the request's: float32 tensors are widened exactly, so the answer is that of the widened numbers in JSON."""
    binary = request("float32", True, "json")
    binary["dtype"] = "float64"

    def widen(value: Any) -> Any:
        if isinstance(value, dict) and "b64" in value:
            return read(value, "float32").astype(np.float64).tolist()
        return (
            {k: widen(v) for k, v in value.items()}
            if isinstance(value, dict)
            else [widen(v) for v in value]
            if isinstance(value, list)
            else value
        )

    widened = widen(binary)
    assert isinstance(widened["x"][0][0], float)
    a, b = (client.post("/v1/backward", json=body).json() for body in (binary, widened))
    assert a == b


def _weights(change: Any) -> Body:
    body = request("float32", True, "json")
    weights = body["network"]["layers"][0]["weights"]
    change(weights)
    return body


GOOD = tensor(np.ones((4, 5), dtype=np.float32))["b64"]
# (case id, change to layer 0's weights tensor, pointer, words the detail must contain)
BAD_TENSORS: list[tuple[str, Any, str, list[str]]] = [
    ("bad base64", lambda w: w.update(b64="not*base64!"), "/network/layers/0/weights/b64", ["base64"]),
    ("base64 with a line break", lambda w: w.update(b64=GOOD[:8] + "\n" + GOOD[8:]), "/network/layers/0/weights/b64", ["base64"]),
    ("non-ASCII base64", lambda w: w.update(b64="é" * 8), "/network/layers/0/weights/b64", ["base64"]),
    ("too few bytes", lambda w: w.update(b64=GOOD[:-8]), "/network/layers/0/weights/b64", ["bytes", "[4, 5]", "80"]),
    ("shape product too large", lambda w: w.update(shape=[4, 6]), "/network/layers/0/weights/b64", ["80 bytes", "96"]),
    ("float64 bytes sent as float32", lambda w: w.update(dtype="float64"), "/network/layers/0/weights/b64", ["160"]),
    ("unknown dtype", lambda w: w.update(dtype="float16"), "/network/layers/0/weights/dtype", ["float32", "float64"]),
    ("a vector's shape for a matrix", lambda w: w.update(shape=[20]), "/network/layers/0/weights/shape", ["[rows, columns]"]),
    ("zero size", lambda w: w.update(shape=[0, 5]), "/network/layers/0/weights/shape/0", []),
    ("missing b64", lambda w: w.pop("b64"), "/network/layers/0/weights/b64", ["required"]),
    ("unknown key", lambda w: w.update(data="AAAA"), "/network/layers/0/weights/data", ["unknown field"]),
    ("b64 not a string", lambda w: w.update(b64=[1, 2]), "/network/layers/0/weights/b64", []),
    (
        "NaN inside",
        lambda w: w.update(b64=tensor(np.array([[1.0] * 5] * 3 + [[1.0, np.nan, 1.0, 1.0, 1.0]], dtype=np.float32))["b64"]),
        "/network/layers/0/weights/b64",
        ["NaN or Infinity", "[3, 1]"],
    ),
]


@pytest.mark.parametrize(("change", "pointer", "words"), [c[1:] for c in BAD_TENSORS], ids=[c[0] for c in BAD_TENSORS])
def test_malformed_tensor_gets_422_with_pointer(client: TestClient, change: Any, pointer: str, words: list[str]) -> None:
    r = client.post("/v1/backward", json=_weights(change))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    errors = {e["pointer"]: e["detail"] for e in r.json()["errors"]}
    assert pointer in errors, errors
    for word in words:
        assert word in errors[pointer], (word, errors[pointer])


def test_a_tensor_for_x_and_a_vector_tensor_for_bias(client: TestClient) -> None:
    body = request("float64", True, "json")
    body["x"] = tensor(np.arange(5.0))  # one point as a tensor: results come back as vectors
    body["t"] = [0.2, 0.3, 0.5]
    r = client.post("/v1/backward", json=body)
    assert r.status_code == 200, r.text
    assert np.shape(r.json()["grad_x"]) == (5,)
    bad = copy.deepcopy(body)
    bad["network"]["layers"][1]["bias"] = tensor(np.ones((1, 3)))
    r = client.post("/v1/backward", json=bad)
    assert [e["pointer"] for e in r.json()["errors"]] == ["/network/layers/1/bias/shape"]
    bad["network"]["layers"][1]["bias"] = "AAAA"
    r = client.post("/v1/backward", json=bad)
    [error] = r.json()["errors"]
    assert error["pointer"] == "/network/layers/1/bias"
    assert error["detail"] == "must be a JSON array or a JSON object"


def test_a_float32_tensor_becomes_a_writable_float32_array_without_a_copy() -> None:
    from service.schemas.network import Layer

    W = np.arange(6, dtype=np.float32).reshape(3, 2)
    layer = Layer.model_validate_json(orjson.dumps({"weights": tensor(W)}))
    assert layer.weights.dtype == np.float32
    assert not layer.weights.flags.owndata  # a view of the decoded bytes
    assert layer.weights.flags.writeable  # an optimizer may update its state in place
    np.testing.assert_array_equal(layer.weights, W)
    engine_W = layer.to_engine(0, np.dtype(np.float32)).W
    assert engine_W is layer.weights
