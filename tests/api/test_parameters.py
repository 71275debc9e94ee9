"""Activation and loss parameters, class-index targets and loss domains on the wire: 422 with a pointer."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers.problems import assert_response_problem


def _body(activation: Any = "tanh", loss: Any = "half_sse", output: Any = "linear", t: Any = None) -> dict[str, Any]:
    return {
        "network": {
            "layers": [
                {"weights": [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]], "activation": activation},
                {"weights": [[0.1, 0.2, 0.3], [0.4, 0.5, -0.6]], "activation": output},
            ]
        },
        "x": [[1.0, 2.0], [-1.0, 0.5]],
        "t": t if t is not None else [[1.0, 0.0], [0.0, 1.0]],
        "loss": loss,
    }


ACT = "/network/layers/0/activation"
CASES: list[tuple[str, dict[str, Any], str, list[str]]] = [
    ("unknown activation parameter", _body({"name": "leaky_relu", "slope": 0.1}), f"{ACT}/slope", ["negative_slope"]),
    ("parameter of a parameterless activation", _body({"name": "relu", "alpha": 1}), f"{ACT}/alpha", ["none"]),
    ("string for a number", _body({"name": "leaky_relu", "negative_slope": "0.1"}), f"{ACT}/negative_slope", ["number"]),
    ("boolean for a number", _body({"name": "elu", "alpha": True}), f"{ACT}/alpha", ["number"]),
    ("out of range", _body({"name": "celu", "alpha": 0}), f"{ACT}/alpha", ["> 0"]),
    ("softplus beta", _body({"name": "softplus", "beta": -1.0}), f"{ACT}/beta", ["> 0"]),
    ("unknown choice", _body({"name": "gelu", "approximate": "fast"}), f"{ACT}/approximate", ["'none'", "'tanh'"]),
    ("bounds in the wrong order", _body({"name": "hard_tanh", "min_val": 1.0, "max_val": 0.0}), f"{ACT}/max_val", ["min_val"]),
    ("unknown loss parameter", _body(loss={"name": "mse", "delta": 1.0}), "/loss/delta", ["none"]),
    ("huber delta", _body(loss={"name": "huber", "delta": 0}), "/loss/delta", ["> 0"]),
    ("label smoothing of 1", _body(loss={"name": "categorical_cross_entropy", "label_smoothing": 1}), "/loss/label_smoothing", ["[0, 1)"]),
    ("flag as a string", _body(loss={"name": "poisson", "log_input": "yes"}), "/loss/log_input", ["true or false"]),
    ("unknown loss in an object", _body(loss={"name": "l2"}), "/loss/name", ["half_sse"]),
    (
        "probabilities out of [0, 1]",
        _body(loss="binary_cross_entropy", t=[[1.0, 0.0], [0.0, 1.0]]),
        "/loss",
        ["outputs y in [0, 1]", "sigmoid"],
    ),
    ("targets out of [0, 1]", _body(loss="binary_cross_entropy", output="sigmoid", t=[[2.0, 0.0], [0.0, 1.0]]), "/t", ["[0, 1]"]),
    (
        "class index not an integer",
        _body(loss="sparse_categorical_cross_entropy", output="softmax", t=[0.5, 1]),
        "/t/0",
        ["integer in 0 … 1"],
    ),
    ("class index too large", _body(loss="sparse_categorical_cross_entropy", output="softmax", t=[0, 2]), "/t/1", ["0 … 1"]),
    (
        "class indices as one-hot rows",
        _body(loss="sparse_categorical_cross_entropy", output="softmax", t=[[1.0, 0.0], [0.0, 1.0]]),
        "/t",
        ["one class index per point", "2 numbers"],
    ),
]


@pytest.mark.parametrize(("body", "pointer", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_parameter_gets_422_with_pointer(client: TestClient, body: dict[str, Any], pointer: str, words: list[str]) -> None:
    assert_response_problem(client.post("/v1/backward", json=body), 422, pointer, words)


def test_parameters_and_aliases_are_accepted(client: TestClient) -> None:
    body = _body({"name": "leaky_relu", "negative_slope": 1}, {"name": "huber", "delta": 2}, output="swish")
    r = client.post("/v1/backward", json=body)
    assert r.status_code == 200, r.text


def test_class_index_for_a_single_point_is_a_one_entry_vector(client: TestClient) -> None:
    body = {**_body(loss="sparse_categorical_cross_entropy", output="softmax"), "x": [1.0, 2.0], "t": [1]}
    one_hot = {**_body(loss="categorical_cross_entropy", output="softmax"), "x": [1.0, 2.0], "t": [0.0, 1.0]}
    got, want = client.post("/v1/backward", json=body).json(), client.post("/v1/backward", json=one_hot).json()
    assert got == want


def test_reduction_none_returns_the_per_point_losses(client: TestClient) -> None:
    per_point = client.post("/v1/backward", json={**_body(), "reduction": "none"}).json()
    summed = client.post("/v1/backward", json={**_body(), "reduction": "sum"}).json()
    assert len(per_point["loss"]) == 2
    assert sum(per_point["loss"]) == pytest.approx(summed["loss"], rel=1e-14)
    assert per_point["layers"] == summed["layers"]  # the gradients are those of Σₙ Eₙ
    single = client.post("/v1/backward", json={**_body(), "x": [1.0, 2.0], "t": [1.0, 0.0], "reduction": "none"}).json()
    assert isinstance(single["loss"], float)


def test_extras_are_absent_unless_asked_for(client: TestClient) -> None:
    r = client.post("/v1/backward", json=_body()).json()
    assert "input_jacobian" not in r
    assert "per_example_grad_norm" not in r
    assert not any(k.startswith("per_example") for k in r["layers"][0])


def test_training_refuses_reduction_none(client: TestClient, primer: dict[str, Any]) -> None:
    """A step needs one loss to descend: reduction none is for /v1/backward and /v1/gradcheck only."""
    body = {**primer["request"], "optimizer": {"name": "sgd", "learning_rate": 0.1}, "reduction": "none"}
    assert_response_problem(client.post("/v1/train-step", json=body), 422, "/reduction", ["sum", "mean"])


def test_training_takes_loss_objects_and_class_indices(client: TestClient) -> None:
    backward = _body(loss={"name": "sparse_categorical_cross_entropy", "label_smoothing": 0.1}, output="softmax", t=[1, 0])
    body = {**backward, "optimizer": {"name": "sgd", "learning_rate": 0.1}}
    step = client.post("/v1/train-step", json=body)
    assert step.status_code == 200, step.text
    train = client.post("/v1/train", json={**body, "epochs": 3, "batch_size": 1, "shuffle": False})
    assert train.status_code == 200, train.text
    first_point = client.post("/v1/backward", json={**backward, "x": [[1.0, 2.0]], "t": [1]}).json()
    assert train.json()["losses"][0] == pytest.approx(first_point["loss"], rel=1e-12)


def test_extras_that_would_be_too_large_get_422(client: TestClient) -> None:
    """N × parameters numbers of per-example gradients are refused above max_extra_values (2²²), before computing."""
    layers = [{"weights": [[0.0] * 64] * 64}, {"weights": [[0.0] * 64]}]  # 4,160 parameters, 1 output
    body = {"network": {"layers": layers}, "x": [[0.0] * 64] * 1024, "t": [[0.0]] * 1024}
    r = client.post("/v1/backward", json={**body, "per_example_gradients": True})
    assert_response_problem(r, 422, "/per_example_gradients", ["4,259,840", "max_extra_values"])
    assert client.post("/v1/backward", json={**body, "input_jacobian": True}).status_code == 200
