"""25 stateless /v1/train-step calls equal 25 torch.optim steps (float64, single-tensor path), rtol 1e-10.

Each step sends back the network and the `optimizer_state` of the previous
response, parsed from its JSON: the state round-trips through the wire at every
step. The torch side writes the same objective by hand (½Σ(y−t)² summed over the
batch, plus the L1/L2 penalty on the weights) and clips with torch.nn.utils.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient

pytestmark = pytest.mark.slow  # the quick loop, `pytest -m "not slow"`, leaves it out

STEPS = 25
RTOL = 1e-10
SIZES = (3, 4, 2)  # x has 3 inputs; a tanh layer of 4 with bias; a linear layer of 2 without

TORCH_NAMES = {"learning_rate": "lr"}
TORCH_CLASSES = {
    "sgd": torch.optim.SGD,
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "rmsprop": torch.optim.RMSprop,
    "adagrad": torch.optim.Adagrad,
}

CASES: dict[str, dict[str, Any]] = {
    "sgd": {"optimizer": {"name": "sgd", "learning_rate": 0.05}},
    "sgd-momentum": {"optimizer": {"name": "sgd", "learning_rate": 0.05, "momentum": 0.9}},
    "sgd-dampening-weight_decay": {
        "optimizer": {"name": "sgd", "learning_rate": 0.05, "momentum": 0.8, "dampening": 0.3, "weight_decay": 0.01}
    },
    "sgd-nesterov": {"optimizer": {"name": "sgd", "learning_rate": 0.05, "momentum": 0.9, "nesterov": True}},
    "adam": {"optimizer": {"name": "adam", "learning_rate": 0.01}},
    "adam-betas-eps": {"optimizer": {"name": "adam", "learning_rate": 0.02, "betas": [0.8, 0.95], "eps": 1e-6}},
    "adam-amsgrad-weight_decay": {"optimizer": {"name": "adam", "learning_rate": 0.01, "amsgrad": True, "weight_decay": 0.05}},
    "adamw": {"optimizer": {"name": "adamw", "learning_rate": 0.01}},
    "adamw-amsgrad-beta1-small": {
        "optimizer": {"name": "adamw", "learning_rate": 0.01, "betas": [0.3, 0.9], "weight_decay": 0.1, "amsgrad": True}
    },
    "rmsprop": {"optimizer": {"name": "rmsprop", "learning_rate": 0.01}},
    "rmsprop-centered-momentum-weight_decay": {
        "optimizer": {"name": "rmsprop", "learning_rate": 0.005, "alpha": 0.9, "centered": True, "momentum": 0.5, "weight_decay": 0.01}
    },
    "adagrad": {"optimizer": {"name": "adagrad", "learning_rate": 0.1}},
    "adagrad-lr_decay-accumulator-weight_decay": {
        "optimizer": {"name": "adagrad", "learning_rate": 0.1, "lr_decay": 0.05, "initial_accumulator_value": 0.1, "weight_decay": 0.02}
    },
    "sgd-momentum-clip_norm": {"optimizer": {"name": "sgd", "learning_rate": 0.05, "momentum": 0.9, "clip_norm": 0.2}},
    "adam-clip_value": {"optimizer": {"name": "adam", "learning_rate": 0.01, "clip_value": 0.05}},
    "rmsprop-clip_norm": {"optimizer": {"name": "rmsprop", "learning_rate": 0.01, "clip_norm": 0.1}},
    "sgd-l1-l2": {"optimizer": {"name": "sgd", "learning_rate": 0.05}, "regularization": {"l1": 0.01, "l2": 0.05}},
    "adamw-l2-clip_norm": {"optimizer": {"name": "adamw", "learning_rate": 0.01, "clip_norm": 0.3}, "regularization": {"l2": 0.1}},
    "adagrad-l1-clip_value": {"optimizer": {"name": "adagrad", "learning_rate": 0.1, "clip_value": 0.1}, "regularization": {"l1": 0.02}},
}


def _problem() -> tuple[dict[str, Any], list[tuple[np.ndarray, np.ndarray]]]:
    """A seeded network (wire form) and one batch (x: 5 × 3, t: 5 × 2) per step."""
    rng = np.random.default_rng(20260101)
    network = {
        "layers": [
            {
                "weights": rng.normal(0, 0.5, (SIZES[1], SIZES[0])).tolist(),
                "bias": rng.normal(0, 0.1, SIZES[1]).tolist(),
                "activation": "tanh",
            },
            {"weights": rng.normal(0, 0.5, (SIZES[2], SIZES[1])).tolist(), "activation": "linear"},
        ]
    }
    batches = [(rng.normal(0, 1, (5, SIZES[0])), rng.normal(0, 1, (5, SIZES[2]))) for _ in range(STEPS)]
    return network, batches


def _service(
    client: TestClient, case: dict[str, Any], network: dict[str, Any], batches: list[tuple[np.ndarray, np.ndarray]]
) -> list[np.ndarray]:
    state = None
    for x, t in batches:
        body = {**case, "network": network, "x": x.tolist(), "t": t.tolist(), "optimizer_state": state}
        r = client.post("/v1/train-step", json=body)
        assert r.status_code == 200, r.text
        network, state = r.json()["network"], r.json()["optimizer_state"]
    assert state is not None
    assert state["step"] == STEPS
    return [np.array(p) for layer in network["layers"] for p in (layer["weights"], layer.get("bias")) if p is not None]


def _torch(case: dict[str, Any], network: dict[str, Any], batches: list[tuple[np.ndarray, np.ndarray]]) -> list[np.ndarray]:
    first, second = network["layers"]
    dtype = torch.float32 if case.get("dtype") == "float32" else torch.float64
    W1, b1, W2 = (torch.tensor(v, dtype=dtype, requires_grad=True) for v in (first["weights"], first["bias"], second["weights"]))
    params = [W1, b1, W2]
    spec = dict(case["optimizer"])
    name, clip_norm, clip_value = spec.pop("name"), spec.pop("clip_norm", None), spec.pop("clip_value", None)
    kwargs = {TORCH_NAMES.get(k, k): tuple(v) if isinstance(v, list) else v for k, v in spec.items()}
    opt = TORCH_CLASSES[name](params, foreach=False, **kwargs)
    reg = case.get("regularization", {})
    for x, t in batches:
        opt.zero_grad()
        y = torch.tanh(torch.from_numpy(x).to(dtype) @ W1.T + b1) @ W2.T
        E = 0.5 * ((y - torch.from_numpy(t).to(dtype)) ** 2).sum()
        for W in (W1, W2):
            E = E + reg.get("l1", 0.0) * W.abs().sum() + 0.5 * reg.get("l2", 0.0) * (W**2).sum()
        E.backward()
        if clip_norm is not None:
            torch.nn.utils.clip_grad_norm_(params, clip_norm, foreach=False)
        if clip_value is not None:
            torch.nn.utils.clip_grad_value_(params, clip_value, foreach=False)
        opt.step()
    return [p.detach().numpy() for p in params]


def _assert_equal(got: list[np.ndarray], want: list[np.ndarray]) -> None:
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=RTOL, atol=0)


@pytest.mark.parametrize("name", list(CASES))
def test_25_stateless_steps_equal_torch_optim(client: TestClient, name: str) -> None:
    network, batches = _problem()
    got = _service(client, CASES[name], network, batches)
    want = _torch(CASES[name], network, batches)
    assert not np.allclose(got[0], network["layers"][0]["weights"], rtol=1e-3), "the weights should have moved"
    _assert_equal(got, want)


@pytest.mark.parametrize(
    ("name", "wrong"),
    [
        ("adam", {"eps": 1e-7}),  # Keras's epsilon instead of torch's
        ("sgd-momentum", {"momentum": 0.89}),
        ("rmsprop", {"alpha": 0.9}),  # Keras's rho instead of torch's alpha
    ],
)
def test_comparison_fails_with_a_wrong_hyperparameter(client: TestClient, name: str, wrong: dict[str, Any]) -> None:
    network, batches = _problem()
    got = _service(client, {**CASES[name], "optimizer": {**CASES[name]["optimizer"], **wrong}}, network, batches)
    want = _torch(CASES[name], network, batches)
    with pytest.raises(AssertionError):
        _assert_equal(got, want)


@pytest.mark.parametrize("name", ["sgd-nesterov", "adam-amsgrad-weight_decay", "rmsprop-centered-momentum-weight_decay", "adagrad"])
def test_float32_steps_agree_with_torch_float32(client: TestClient, name: str) -> None:
    """In float32 both sides round differently (sums in another order): agreement to float32 precision, not bit for bit."""
    network, batches = _problem()
    case = {**CASES[name], "dtype": "float32"}
    got, want = _service(client, case, network, batches), _torch(case, network, batches)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)
