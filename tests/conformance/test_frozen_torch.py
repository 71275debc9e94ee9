"""Frozen parameters (a layer's `trainable: false`, `train_bias: false`) against torch.optim over the trainable ones.

torch's side: the frozen tensors have requires_grad False, so the optimizer and clip_grad_norm_ never see
them (torch.optim skips a parameter without a gradient; clip_grad_norm_'s global norm leaves it out).
10 stateless /v1/train-step calls, float64, rtol 1e-10; then one /v1/train run of the same steps.
The comparison fails when the frozen gradients are counted in clip_norm's norm (the last test).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient

from tests.conformance.test_optimizers_torch import TORCH_CLASSES, TORCH_NAMES, _problem

STEPS = 10
RTOL = 1e-10

#: (optimizer, which tensors of [W1, b1, W2] are frozen, the layer flags that freeze them)
CASES: dict[str, tuple[dict[str, Any], tuple[bool, bool, bool], list[dict[str, bool]]]] = {
    "sgd-momentum, b1 frozen": ({"name": "sgd", "learning_rate": 0.05, "momentum": 0.9}, (False, True, False), [{"train_bias": False}, {}]),
    "adam weight_decay clip_norm, b1 frozen": (
        {"name": "adam", "learning_rate": 0.01, "weight_decay": 0.05, "clip_norm": 0.2},
        (False, True, False),
        [{"train_bias": False}, {}],
    ),
    "adamw amsgrad, layer 1 frozen": (
        {"name": "adamw", "learning_rate": 0.01, "amsgrad": True},
        (True, True, False),
        [{"trainable": False}, {}],
    ),
    "rmsprop centered momentum clip_norm, layer 2 frozen": (
        {"name": "rmsprop", "learning_rate": 0.005, "centered": True, "momentum": 0.5, "clip_norm": 0.1},
        (False, False, True),
        [{}, {"trainable": False}],
    ),
    "adagrad accumulator, b1 frozen": (
        {"name": "adagrad", "learning_rate": 0.1, "initial_accumulator_value": 0.1},
        (False, True, False),
        [{"train_bias": False}, {}],
    ),
}


def _frozen_network(flags: list[dict[str, bool]]) -> tuple[dict[str, Any], list[tuple[np.ndarray, np.ndarray]]]:
    network, batches = _problem()
    network["layers"] = [{**layer, **extra} for layer, extra in zip(network["layers"], flags, strict=True)]
    return network, batches[:STEPS]


def _params(network: dict[str, Any]) -> list[np.ndarray]:
    return [np.array(p) for layer in network["layers"] for p in (layer["weights"], layer.get("bias")) if p is not None]


def _service(client: TestClient, optimizer: dict[str, Any], network: dict[str, Any], batches: list[Any]) -> tuple[dict[str, Any], Any]:
    state = None
    for x, t in batches:
        r = client.post(
            "/v1/train-step", json={"network": network, "x": x.tolist(), "t": t.tolist(), "optimizer": optimizer, "optimizer_state": state}
        )
        assert r.status_code == 200, r.text
        network, state = r.json()["network"], r.json()["optimizer_state"]
    return network, state


def _torch(
    optimizer: dict[str, Any], frozen: tuple[bool, ...], network: dict[str, Any], batches: list[Any], norm_over_all: bool = False
) -> list[np.ndarray]:
    first, second = network["layers"]
    tensors = [torch.tensor(v, dtype=torch.float64) for v in (first["weights"], first["bias"], second["weights"])]
    for tensor, is_frozen in zip(tensors, frozen, strict=True):
        tensor.requires_grad_(not is_frozen)
    W1, b1, W2 = tensors
    trained = [p for p, f in zip(tensors, frozen, strict=True) if not f]
    spec = dict(optimizer)
    name, clip_norm = spec.pop("name"), spec.pop("clip_norm", None)
    opt = TORCH_CLASSES[name](trained, foreach=False, **{TORCH_NAMES.get(k, k): v for k, v in spec.items()})
    for x, t in batches:
        opt.zero_grad()
        y = torch.tanh(torch.from_numpy(x) @ W1.T + b1) @ W2.T
        E = 0.5 * ((y - torch.from_numpy(t)) ** 2).sum()
        if norm_over_all:  # the wrong way: the frozen tensors' gradients counted in the norm
            everything = [p.detach().clone().requires_grad_(True) for p in tensors]
            y_all = torch.tanh(torch.from_numpy(x) @ everything[0].T + everything[1]) @ everything[2].T
            (0.5 * ((y_all - torch.from_numpy(t)) ** 2).sum()).backward()
            norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(p.grad) for p in everything]))
        E.backward()
        if clip_norm is not None:
            if norm_over_all:
                for p in trained:
                    p.grad.mul_(min(1.0, clip_norm / (float(norm) + 1e-6)))
            else:
                torch.nn.utils.clip_grad_norm_(trained, clip_norm, foreach=False)
        opt.step()
    return [p.detach().numpy() for p in tensors]


@pytest.mark.parametrize("name", list(CASES))
def test_frozen_parameters_stay_and_the_others_step_as_torch_over_the_trainable_ones(client: TestClient, name: str) -> None:
    optimizer, frozen, flags = CASES[name]
    network, batches = _frozen_network(flags)
    got_network, state = _service(client, optimizer, network, batches)
    got, start = _params(got_network), _params(network)
    want = _torch(optimizer, frozen, network, batches)
    for g, w, s, is_frozen in zip(got, want, start, frozen, strict=True):
        np.testing.assert_allclose(g, w, rtol=RTOL, atol=0)
        assert np.array_equal(g, s) == is_frozen  # frozen: bit for bit as sent; trained: moved
    assert [{k: v for k, v in layer.items() if k in ("trainable", "train_bias")} for layer in got_network["layers"]] == flags
    assert state["step"] == STEPS


@pytest.mark.parametrize("name", ["sgd-momentum, b1 frozen", "adam weight_decay clip_norm, b1 frozen"])
def test_train_freezes_as_the_steps_do(client: TestClient, name: str) -> None:
    """/v1/train (the engine's loop, as training jobs run it) gives the same network as the train-steps."""
    optimizer, _, flags = CASES[name]
    network, batches = _frozen_network(flags)
    x, t = batches[0]
    stepped, _ = _service(client, optimizer, network, [(x, t)] * 4)
    r = client.post(
        "/v1/train", json={"network": network, "x": x.tolist(), "t": t.tolist(), "optimizer": optimizer, "epochs": 4, "shuffle": False}
    )
    assert r.status_code == 200, r.text
    for g, w in zip(_params(r.json()["network"]), _params(stepped), strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-13, atol=0)


def test_the_comparison_fails_when_frozen_gradients_count_in_the_norm(client: TestClient) -> None:
    optimizer, frozen, flags = CASES["adam weight_decay clip_norm, b1 frozen"]
    network, batches = _frozen_network(flags)
    got = _params(_service(client, optimizer, network, batches)[0])
    wrong = _torch(optimizer, frozen, network, batches, norm_over_all=True)
    assert not np.allclose(got[0], wrong[0], rtol=1e-6, atol=0)


def test_a_frozen_slot_keeps_its_value_or_starts_as_the_optimizer_starts_it(client: TestClient) -> None:
    """Adagrad's sum starts at initial_accumulator_value (not 0) for a frozen bias; a sent slot comes back unchanged."""
    optimizer, _, flags = CASES["adagrad accumulator, b1 frozen"]
    network, batches = _frozen_network(flags)
    _, state = _service(client, optimizer, network, batches[:1])
    assert state["slots"]["sum"][0]["bias"] == [0.1] * 4
    state["slots"]["sum"][0]["bias"] = [7.0] * 4
    x, t = batches[1]
    r = client.post(
        "/v1/train-step", json={"network": network, "x": x.tolist(), "t": t.tolist(), "optimizer": optimizer, "optimizer_state": state}
    )
    assert r.json()["optimizer_state"]["slots"]["sum"][0]["bias"] == [7.0] * 4


def test_mazurs_example_with_frozen_biases_matches_torch(client: TestClient) -> None:
    """Mazur's 2-2-2 sigmoid network (η = 0.5, biases fixed): E = 0.298371109, w5 → 0.35891648, and the loss after.

    His post prints 0.291027924 for the loss after the step; the exact value (torch's, and the service's) is
    0.2910277737: he rounded along the way (even his rounded weights give 0.2910277737).
    """
    body = {
        "network": {
            "layers": [
                {"weights": [[0.15, 0.20], [0.25, 0.30]], "bias": [0.35, 0.35], "activation": "sigmoid", "train_bias": False},
                {"weights": [[0.40, 0.45], [0.50, 0.55]], "bias": [0.60, 0.60], "activation": "sigmoid", "train_bias": False},
            ]
        },
        "x": [0.05, 0.10],
        "t": [0.01, 0.99],
        "optimizer": {"name": "sgd", "learning_rate": 0.5},
    }
    step = client.post("/v1/train-step", json=body).json()
    after = client.post("/v1/backward", json={"network": step["network"], "x": body["x"], "t": body["t"]}).json()["loss"]
    W1, W2 = (torch.tensor(layer["weights"], dtype=torch.float64, requires_grad=True) for layer in body["network"]["layers"])
    x, t = torch.tensor(body["x"], dtype=torch.float64), torch.tensor(body["t"], dtype=torch.float64)

    def E(W1: torch.Tensor, W2: torch.Tensor) -> torch.Tensor:
        return 0.5 * ((torch.sigmoid(W2 @ torch.sigmoid(W1 @ x + 0.35) + 0.60) - t) ** 2).sum()

    E(W1, W2).backward()
    with torch.no_grad():
        torch_after = float(E(W1 - 0.5 * W1.grad, W2 - 0.5 * W2.grad))
    assert round(step["loss"], 9) == 0.298371109
    assert round(step["network"]["layers"][1]["weights"][0][0], 8) == 0.35891648
    assert step["network"]["layers"][1]["bias"] == [0.60, 0.60]
    np.testing.assert_allclose(after, torch_after, rtol=1e-12)
    assert round(after, 9) == 0.291027774
