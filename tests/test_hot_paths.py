"""Structural guards on the hot paths (no timing): responses skip tolist/jsonable_encoder, float32 stays float32."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from service.engine import Layer, backward, forward, get_activation, get_loss
from service.engine.activations import activation_names
from service.engine.losses import loss_names
from service.engine.optimizers import OptimizerState, get_optimizer
from service.engine.training import train_step
from service.main import create_app
from tests.helpers.tensors import request


class _Calls:
    """Records, in every thread, calls of Python functions and C methods by name."""

    def __init__(self, names: set[str]) -> None:
        self.names = names
        self.seen: list[str] = []

    def __call__(self, frame: FrameType, event: str, arg: Any) -> None:
        if event == "call" and frame.f_code.co_name in self.names:
            self.seen.append(frame.f_code.co_name)
        elif event == "c_call" and getattr(arg, "__name__", None) in self.names:
            self.seen.append(arg.__name__)


@pytest.fixture
def calls() -> Iterator[_Calls]:
    recorder = _Calls({"tolist", "jsonable_encoder"})
    threading.setprofile(recorder)  # threads started from now on: a fresh app's event loop and workers
    sys.setprofile(recorder)
    try:
        yield recorder
    finally:
        sys.setprofile(None)
        threading.setprofile(None)  # type: ignore[arg-type]


@pytest.mark.parametrize("route", ["/v1/forward", "/v1/backward", "/v1/train-step"])
@pytest.mark.parametrize("encoding", ["json", "base64"])
def test_responses_never_go_through_tolist_or_jsonable_encoder(calls: _Calls, route: str, encoding: str) -> None:
    body = request("float64", False, encoding, optimizer={"name": "sgd", "learning_rate": 0.1})
    if route == "/v1/forward":
        body = {k: body[k] for k in ("network", "x", "response_encoding")}
    elif route == "/v1/backward":
        del body["optimizer"]
    with TestClient(create_app()) as client:
        r = client.post(route, json=body)
        assert r.status_code == 200, r.text
        assert "jsonable_encoder" in calls.names
        client.get("/openapi.json")  # FastAPI's own path does encode: proves the recorder sees it
    assert calls.seen.count("jsonable_encoder") > 0
    calls.seen.clear()
    with TestClient(create_app()) as client:
        assert client.post(route, json=body).status_code == 200
    assert calls.seen == []


def test_the_recorder_sees_tolist(calls: _Calls) -> None:
    np.zeros(2).tolist()
    assert calls.seen == ["tolist"]


class Float32Only(np.ndarray):
    """An ndarray that fails the moment a float64 array is derived from it (ufuncs, matmul, views, casts).

    0-d arrays are let through: ``np.mean`` of float32 divides its float32 sum by an
    integer count as a 0-d float64 and casts the quotient back; that is one number, not an array.
    """

    def __array_finalize__(self, obj: Any) -> None:
        if self.dtype == np.float64 and self.ndim > 0:
            raise AssertionError("a float64 array was derived from float32 inputs")


def _guarded(a: np.ndarray) -> np.ndarray:
    return np.asarray(a, dtype=np.float32).view(Float32Only)


def test_the_float32_guard_fails_on_a_float64_intermediate() -> None:
    with pytest.raises(AssertionError, match="float64"):
        _guarded(np.ones(3)) * np.ones(3)
    assert (_guarded(np.ones(3)) * 2.0).dtype == np.float32


#: The output activation each loss is meant for (tanh for the others).
OUTPUT = {"binary_cross_entropy": "sigmoid", "binary_crossentropy": "sigmoid", "poisson": "softplus"}
OUTPUT |= {name: "softmax" for name in ("categorical_cross_entropy", "categorical_crossentropy", "kl_divergence")}
OUTPUT |= {name: "softmax" for name in ("sparse_categorical_cross_entropy", "sparse_categorical_crossentropy")}


def _network(activation: str, loss: str) -> tuple[list[Layer], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    layers = [
        Layer(_guarded(rng.standard_normal((4, 5))), _guarded(rng.standard_normal(4)), get_activation(activation)),
        Layer(_guarded(rng.standard_normal((3, 4))), None, get_activation(OUTPUT.get(loss, "tanh"))),
    ]
    x = _guarded(rng.standard_normal((6, 5)))
    t = _guarded(rng.integers(0, 3, (6, 1)) if "sparse" in loss else rng.dirichlet(np.ones(3), size=6))
    return layers, x, t


def _arrays(value: Any) -> list[np.ndarray | np.generic]:
    if isinstance(value, np.ndarray | np.generic):
        return [value]
    if isinstance(value, list | tuple):
        return [a for item in value for a in _arrays(item)]
    if hasattr(value, "__dataclass_fields__"):
        return [a for name in value.__dataclass_fields__ for a in _arrays(getattr(value, name))]
    return []


@pytest.mark.parametrize("reduction", ["sum", "mean"])
@pytest.mark.parametrize(
    ("activation", "loss"),
    [(h, "half_sse") for h in activation_names()] + [("tanh", name) for name in loss_names() if name != "half_sse"],
)
def test_a_float32_computation_never_makes_a_float64_array(activation: str, loss: str, reduction: str) -> None:
    layers, x, t = _network(activation, loss)
    trace, grads = backward(layers, x, t, get_loss(loss), reduction)
    step = train_step(layers, x, t, get_loss(loss), reduction, get_optimizer("sgd", learning_rate=0.1), OptimizerState())
    produced = _arrays([forward(layers, x), trace, grads, step.layers[0].W, step.layers[0].b, step.layers[1].W])
    assert len(produced) > 15
    assert {a.dtype for a in produced} == {np.dtype(np.float32)}


def test_a_float32_request_answers_float32_tensors(client: TestClient) -> None:
    r = client.post("/v1/backward", json=request("float32", True, "base64"))
    out = r.json()
    dtypes = {out["y"]["dtype"], out["grad_x"]["dtype"]} | {t["dtype"] for layer in out["layers"] for t in layer.values()}
    assert dtypes == {"float32"}


def _record_wide_where(monkeypatch: pytest.MonkeyPatch) -> list[np.dtype[Any]]:
    """From now on, the dtypes wider than float32 of every array np.where(condition, x, y) returns."""
    where = np.where
    wide: list[np.dtype[Any]] = []

    def checked(*args: Any) -> Any:
        result = where(*args)
        if len(args) == 3 and np.ndim(result) and np.asarray(result).dtype.itemsize > 4:
            wide.append(np.asarray(result).dtype)
        return result

    monkeypatch.setattr(np, "where", checked)
    return wide


def test_the_where_recorder_sees_a_wide_array(monkeypatch: pytest.MonkeyPatch) -> None:
    wide = _record_wide_where(monkeypatch)
    np.where(np.ones(2, dtype=np.float32) > 0, 1, 0)  # Python numbers: an int64 array
    np.where(np.ones(2, dtype=np.float32) > 0, np.float32(1), np.float32(0))
    assert wide == [np.dtype(np.int64)]


# np.where(condition, 1, 0) with Python numbers would build an int64 (or float64) N × K array and then
# cast it to float32; activation_base.step builds the derivative in the input's dtype instead.
@pytest.mark.parametrize("activation", activation_names())
def test_piecewise_derivatives_build_no_wide_arrays(activation: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The float32 guard above follows arrays derived from the inputs; np.where of Python numbers is not one."""
    wide = _record_wide_where(monkeypatch)
    layers, x, t = _network(activation, "half_sse")
    backward(layers, x, t, get_loss("half_sse"), "sum")
    assert wide == []
