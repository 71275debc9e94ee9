"""The optimizer object and its state on the wire: bounds, lazily created slots, regularization, catalog defaults."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from pydantic_core import PydanticUndefined

from service.engine.optimizers import catalog
from service.schemas.optimizer import OPTIMIZER_MODELS

BODY: dict[str, Any] = {
    "network": {"layers": [{"weights": [[0.5, -0.25], [0.1, 0.3]], "bias": [0.1, -0.2], "activation": "tanh"}]},
    "x": [[1.0, 2.0], [0.5, -1.0]],
    "t": [[1.0, 0.0], [0.0, 1.0]],
}


def _step(client: TestClient, **fields: Any) -> Any:
    return client.post("/v1/train-step", json={**BODY, **fields})


def test_momentum_buffer_appears_after_the_first_step_and_round_trips(client: TestClient) -> None:
    opt = {"name": "sgd", "learning_rate": 0.1, "momentum": 0.9, "dampening": 0.5}
    first = _step(client, optimizer=opt).json()
    buffer = first["optimizer_state"]["slots"]["momentum_buffer"]
    # torch starts the buffer as the first gradient (no dampening on step 1)
    assert buffer[0]["weights"] == first["layers"][0]["grad_weights"]
    assert buffer[0]["bias"] == first["layers"][0]["grad_bias"]
    second = _step(client, optimizer=opt, network=first["network"], optimizer_state=first["optimizer_state"]).json()
    assert second["optimizer_state"]["step"] == 2
    assert set(second["optimizer_state"]["slots"]) == {"momentum_buffer"}


def test_plain_sgd_carries_no_slots(client: TestClient) -> None:
    assert _step(client, optimizer={"name": "sgd"}).json()["optimizer_state"] == {"step": 1, "slots": {}}


def test_a_fresh_state_may_leave_slots_out(client: TestClient) -> None:
    opt = {"name": "adam", "learning_rate": 0.01}
    assert _step(client, optimizer=opt, optimizer_state={"step": 0, "slots": {}}).json() == _step(client, optimizer=opt).json()


@pytest.mark.parametrize(
    ("optimizer", "state", "pointer"),
    [
        ({"name": "adam"}, {"step": 3, "slots": {}}, "/optimizer_state/slots"),
        (
            {"name": "sgd"},
            {"step": 1, "slots": {"exp_avg": [{"weights": [[0.0, 0.0], [0.0, 0.0]], "bias": [0.0, 0.0]}]}},
            "/optimizer_state/slots/exp_avg",
        ),
        (
            {"name": "sgd", "momentum": 0.9},
            {"step": 1, "slots": {"momentum_buffer": [{"weights": [[0.0, 0.0]], "bias": [0.0, 0.0]}]}},
            "/optimizer_state/slots/momentum_buffer/0/weights",
        ),
    ],
)
def test_a_state_that_does_not_fit_is_422(client: TestClient, optimizer: dict[str, Any], state: dict[str, Any], pointer: str) -> None:
    r = _step(client, optimizer=optimizer, optimizer_state=state)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["pointer"] == pointer


@pytest.mark.parametrize(
    ("optimizer", "pointer"),
    [
        ({"name": "sgd", "learning_rate": 0}, "/optimizer/learning_rate"),
        ({"name": "sgd", "momentum": 1.0}, "/optimizer/momentum"),
        ({"name": "sgd", "nesterov": True}, "/optimizer"),
        ({"name": "sgd", "momentum": 0.9, "dampening": 0.1, "nesterov": True}, "/optimizer"),
        ({"name": "adam", "betas": [0.9, 1.0]}, "/optimizer/betas/1"),
        ({"name": "adam", "betas": [0.9]}, "/optimizer/betas/1"),  # β₂ missing
        ({"name": "adam", "eps": 0}, "/optimizer/eps"),
        ({"name": "adamw", "weight_decay": -0.1}, "/optimizer/weight_decay"),
        ({"name": "rmsprop", "alpha": 1.0}, "/optimizer/alpha"),
        ({"name": "adagrad", "lr_decay": -1}, "/optimizer/lr_decay"),
        ({"name": "adam", "alpha": 0.9}, "/optimizer/alpha"),  # rmsprop's, not adam's
        ({"name": "sgd", "clip_norm": 1.0, "clip_value": 1.0}, "/optimizer"),
        ({"name": "sgd", "clip_norm": 0}, "/optimizer/clip_norm"),
        ({"name": "lbfgs"}, "/optimizer"),
        ({"learning_rate": 0.1}, "/optimizer"),
    ],
)
def test_bad_hyperparameters_are_422_with_a_pointer(client: TestClient, optimizer: dict[str, Any], pointer: str) -> None:
    r = _step(client, optimizer=optimizer)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["pointer"] == pointer
    assert "Value error" not in r.text


def test_an_update_that_overflows_is_422_naming_the_layer(client: TestClient) -> None:
    r = _step(client, optimizer={"name": "sgd", "learning_rate": 1e308})
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["pointer"] == "/network/layers/0"
    assert "updated weights" in r.json()["detail"]


def test_regularization_adds_the_penalty_to_loss_and_gradient_of_weights_only(client: TestClient) -> None:
    l1, l2 = 0.03, 0.2
    plain = _step(client, optimizer={"name": "sgd"}).json()
    reg = _step(client, optimizer={"name": "sgd"}, regularization={"l1": l1, "l2": l2}).json()
    W = np.array(BODY["network"]["layers"][0]["weights"])
    P = l1 * np.abs(W).sum() + 0.5 * l2 * (W**2).sum()
    np.testing.assert_allclose(reg["penalty"], P, rtol=1e-15)
    np.testing.assert_allclose(reg["loss"], plain["loss"] + P, rtol=1e-15)
    np.testing.assert_allclose(
        reg["layers"][0]["grad_weights"], np.array(plain["layers"][0]["grad_weights"]) + l1 * np.sign(W) + l2 * W, rtol=1e-15
    )
    assert reg["layers"][0]["grad_bias"] == plain["layers"][0]["grad_bias"]  # biases are not regularized
    assert plain["penalty"] == 0


def test_float32_state_round_trips(client: TestClient) -> None:
    opt = {"name": "rmsprop", "learning_rate": 0.01, "momentum": 0.5, "centered": True}
    first = _step(client, optimizer=opt, dtype="float32").json()
    second = _step(client, optimizer=opt, dtype="float32", network=first["network"], optimizer_state=first["optimizer_state"])
    assert second.status_code == 200, second.text
    assert set(second.json()["optimizer_state"]["slots"]) == {"square_avg", "momentum_buffer", "grad_avg"}


def test_the_request_is_not_modified_by_a_step(client: TestClient) -> None:
    before = copy.deepcopy(BODY)
    _step(client, optimizer={"name": "adam"})
    assert before == BODY


@pytest.mark.parametrize("model", OPTIMIZER_MODELS, ids=lambda m: m.__name__)
def test_catalog_lists_the_wire_hyperparameters_and_defaults(model: type[Any]) -> None:
    name = model.model_fields["name"].annotation.__args__[0]
    entry = next(e for e in catalog() if e.name == name)
    wire = {k: f.default for k, f in model.model_fields.items() if k != "name"}
    assert PydanticUndefined not in wire.values()
    published = {p.name: p.default for p in entry.parameters}
    assert published == {k: list(v) if isinstance(v, tuple) else v for k, v in wire.items()}
    assert entry.keras_difference


def test_a_penalty_that_overflows_is_422(client: TestClient) -> None:
    body = {**BODY, "network": {"layers": [{"weights": [[1e200, 0.0], [0.0, 0.0]], "activation": "tanh"}]}}
    r = client.post("/v1/train-step", json={**body, "optimizer": {"name": "sgd"}, "regularization": {"l2": 1.0}})
    assert r.status_code == 422, r.text
    assert "penalty" in r.json()["detail"]
