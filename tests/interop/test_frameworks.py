"""Files made by Keras 3 (torch backend), PyTorch (safetensors, both ONNX exporters) and read back by them.

Tolerances: a float32 source against the float64 primer numbers, rtol 1e-6; float32 against torch autograd or a
framework's float32 forward pass, rtol 1e-5 and atol 1e-5 (as tests/conformance, for gradients near 0).
"""

from __future__ import annotations

import json
import warnings
from functools import partial
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from service.client import Client
from service.client.frameworks import from_keras, from_torch
from service.interop.network import parse_activation
from tests.conformance import torch_reference
from tests.conformance.cases import EVERY, in_torch_module
from tests.interop.helpers import post_file, quietly_export_onnx, random_network

#: The frameworks' own deprecation and user warnings (Keras on NumPy 2's copy keyword, the exporters) are theirs, not ours.
pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning"), pytest.mark.filterwarnings("ignore::UserWarning")]
TOL = {"rtol": 1e-5, "atol": 1e-5}

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import keras
    import onnxruntime
    import torch
    from safetensors.torch import load as load_safetensors
    from safetensors.torch import save as save_safetensors
    from torch import nn

#: Each activation PyTorch has a module for (at its defaults, and with changed parameters), as its record's module and the spec.
TORCH: list[tuple[Any, Any]] = [(partial(torch_reference.module, h), h) for h in EVERY if in_torch_module(h)]


def test_the_primers_keras_model_gives_the_primers_gradients(client: TestClient, primer: dict[str, Any], tmp_path: Any) -> None:
    W1 = np.array([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]])
    W2 = np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]])
    model = keras.Sequential(
        [keras.Input((2,)), keras.layers.Dense(3, activation="tanh", use_bias=False), keras.layers.Dense(2, use_bias=False)]
    )
    model.set_weights([W1.T, W2.T])
    model.save(tmp_path / "primer.keras")
    imported = post_file(client, "keras", (tmp_path / "primer.keras").read_bytes())
    assert imported.status_code == 200, imported.text
    assert [layer["weights"]["transposed"] for layer in imported.json()["source"]["layers"]] == [True, True]
    r = client.post("/v1/backward", json={"network": imported.json()["network"], "x": [1.0, 2.0], "t": [1.0, 1.15]})
    assert r.status_code == 200, r.text
    want, got = primer["expected_float64"], r.json()
    np.testing.assert_allclose(got["loss"], want["loss"], rtol=1e-6)
    np.testing.assert_allclose(got["y"], want["y"], rtol=1e-6)
    for l in range(2):
        np.testing.assert_allclose(got["layers"][l]["grad_weights"], want["layers"][l]["grad_weights"], rtol=1e-6)
    keras_json = {"config": model.to_json(), "weights": [w.tolist() for w in model.get_weights()]}
    same = post_file(client, "keras_json", json.dumps(keras_json).encode())
    assert same.status_code == 200, same.text
    np.testing.assert_allclose(same.json()["network"]["layers"][1]["weights"], W2, rtol=1e-7)
    assert [layer.activation for layer in from_keras(model)] == ["tanh", "linear"]


def test_keras_layers_the_service_cannot_run_are_refused_by_name(client: TestClient, tmp_path: Any) -> None:
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.BatchNormalization(name="bn"), keras.layers.Dense(1)])
    model.save(tmp_path / "bn.keras")
    r = post_file(client, "keras", (tmp_path / "bn.keras").read_bytes())
    assert r.status_code == 422
    assert "'bn' is a BatchNormalization" in r.json()["detail"]


def _mlp(rng: np.random.Generator, depth: int, bias: bool, case: int) -> tuple[Any, list[Any]]:
    sizes = [int(s) for s in rng.integers(2, 6, depth + 1)]
    picks = [TORCH[(case * 7 + l * 3) % len(TORCH)] for l in range(depth)]
    modules: list[Any] = []
    for l, (make, _) in enumerate(picks):
        modules += [nn.Linear(sizes[l], sizes[l + 1], bias=bias), make()]
    return nn.Sequential(*modules), [spec for _, spec in picks]


def _as_exported(spec: Any, label: str) -> Any:
    """What the file says: the TorchScript exporter writes nn.Softplus(beta, threshold) without its threshold (read as 20)."""
    if label == "onnx/torchscript" and isinstance(spec, dict) and spec["name"] == "softplus":
        kept = {k: v for k, v in spec.items() if k != "threshold"}
        return kept if len(kept) > 1 else "softplus"
    return spec


CASES = [(depth, bias, case) for case, (depth, bias) in enumerate((d, b) for d in (1, 2, 3, 4) for b in (True, False) for _ in range(3))]


@pytest.mark.parametrize(("depth", "bias", "case"), CASES)
def test_torch_mlps_via_safetensors_and_both_onnx_exporters_give_autograds_gradients(
    client: TestClient, depth: int, bias: bool, case: int
) -> None:
    torch.manual_seed(case)
    rng = np.random.default_rng(case)
    module, specs = _mlp(rng, depth, bias, case)
    x = rng.normal(size=(4, module[0].in_features)).astype(np.float32)
    t = rng.normal(size=(4, module[-2].out_features)).astype(np.float32)
    linears = [m for m in module if isinstance(m, nn.Linear)]
    Ws = [m.weight.detach().numpy() for m in linears]
    bs = [None if m.bias is None else m.bias.detach().numpy() for m in linears]
    want = torch_reference.backward(Ws, bs, specs, x, t, "half_sse", "sum", "float32")
    files = {
        "safetensors": (save_safetensors(module.state_dict()), {"activations": json.dumps(specs)}),
        "onnx/torchscript": (quietly_export_onnx(module, torch.from_numpy(x), dynamo=False), {}),
        "onnx/dynamo": (quietly_export_onnx(module, torch.from_numpy(x), dynamo=True), {}),
    }
    for label, (data, query) in files.items():
        imported = post_file(client, label.split("/")[0], data, **query)
        assert imported.status_code == 200, f"{label}: {imported.text}"
        network = imported.json()["network"]
        assert [layer["activation"] for layer in network["layers"]] == [_as_exported(h, label) for h in specs], label
        r = client.post("/v1/backward", json={"network": network, "x": x.tolist(), "t": t.tolist(), "dtype": "float32"})
        assert r.status_code == 200, r.text
        got = r.json()
        np.testing.assert_allclose(got["y"], want.y, **TOL, err_msg=label)
        for l, layer in enumerate(got["layers"]):
            np.testing.assert_allclose(layer["grad_weights"], want.grad_W[l], **TOL, err_msg=f"{label} layer {l}")
            if bias:
                np.testing.assert_allclose(layer["grad_bias"], want.grad_b[l], **TOL, err_msg=f"{label} layer {l}")
    assert [parse_activation(layer.activation, "") for layer in from_torch(module)] == specs  # full parameters, the same activations


KERAS_CARRIES = ["tanh", "sigmoid", "relu", {"name": "leaky_relu", "negative_slope": 0.01}, "selu", "silu", "softmax", "linear"]


@pytest.mark.parametrize("bias", [True, False])
def test_exported_files_run_in_keras_torch_and_onnxruntime_as_forward_says(client: TestClient, bias: bool, tmp_path: Any) -> None:
    rng = np.random.default_rng(11)
    network = random_network(rng, [4, 5, 3, 3, 3, 5, 4, 3, 2], KERAS_CARRIES, bias)
    x = rng.normal(size=(6, 4)).astype(np.float32)
    y = np.asarray(client.post("/v1/forward", json={"network": network, "x": x.tolist(), "dtype": "float32"}).json()["y"])

    def export(format: str) -> bytes:
        r = client.post("/v1/networks/export", params={"format": format}, json={"network": network})
        assert r.status_code == 200, r.text
        return r.content

    (tmp_path / "n.keras").write_bytes(export("keras"))
    model = keras.saving.load_model(tmp_path / "n.keras")
    np.testing.assert_allclose(model.predict(x, verbose=0), y, **TOL, err_msg="keras")

    session = onnxruntime.InferenceSession(export("onnx"), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(session.run(None, {"x": x})[0], y, **TOL, err_msg="onnxruntime")

    modules: list[Any] = []
    for layer, h in zip(network["layers"], KERAS_CARRIES, strict=True):
        K, M = np.shape(layer["weights"])
        modules += [nn.Linear(M, K, bias=bias), torch_reference.module(h)]
    torch_module = nn.Sequential(*modules)
    torch_module.load_state_dict(load_safetensors(export("safetensors")), strict=True)
    with torch.no_grad():
        np.testing.assert_allclose(torch_module(torch.from_numpy(x)).numpy(), y, **TOL, err_msg="torch")


def test_keras_trainable_goes_both_ways(client: TestClient, tmp_path: Any) -> None:
    """A frozen layer (`trainable: false`) is written as Keras's trainable False, and a Keras model's frozen layer is read as one."""
    network = random_network(np.random.default_rng(5), [3, 4, 2], ["tanh", "linear"], True)
    network["layers"][0]["trainable"] = False
    r = client.post("/v1/networks/export", params={"format": "keras"}, json={"network": network})
    (tmp_path / "n.keras").write_bytes(r.content)
    model = keras.saving.load_model(tmp_path / "n.keras")
    assert [layer.trainable for layer in model.layers] == [False, True]
    assert len(model.trainable_weights) == 2  # the second layer's kernel and bias only

    model.layers[0].trainable, model.layers[1].trainable = True, False
    model.save(tmp_path / "m.keras")
    imported = post_file(client, "keras", (tmp_path / "m.keras").read_bytes()).json()["network"]["layers"]
    assert ["trainable" in layer for layer in imported] == [False, True]
    assert imported[1]["trainable"] is False


def test_the_client_imports_and_exports(client: TestClient, tmp_path: Any) -> None:
    module = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    (tmp_path / "m.safetensors").write_bytes(save_safetensors(module.state_dict()))
    api = Client(http=client)
    imported = api.import_network(tmp_path / "m.safetensors", format="safetensors", activations=["tanh", "linear"])
    np.testing.assert_array_equal(np.float32(imported.network[0].weights), module[0].weight.detach().numpy())  # float32 via JSON
    assert imported.source["format"] == "safetensors"
    data = api.export_network(from_torch(module), format="onnx")
    again = api.import_network(data, format="onnx")
    assert [layer.activation for layer in again.network] == ["tanh", "linear"]
    session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
    x = np.array([[0.5, -1.0]], np.float32)
    with torch.no_grad():
        np.testing.assert_allclose(session.run(None, {"x": x})[0], module(torch.from_numpy(x)).numpy(), **TOL)


def test_live_frozen_parameters_are_read_as_frozen() -> None:
    """from_torch: requires_grad False on a Linear is trainable False (its bias alone: train_bias False); from_keras: trainable."""
    module = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    module[0].requires_grad_(False)
    module[2].bias.requires_grad_(False)
    first, second = from_torch(module)
    assert (first.trainable, first.train_bias) == (False, True)
    assert (second.trainable, second.train_bias) == (True, False)
    module[0].bias.requires_grad_(True)  # a frozen weight under a training bias: the service cannot say that
    with pytest.raises(ValueError, match="trains its bias but not its weight"):
        from_torch(module)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3, activation="tanh"), keras.layers.Dense(1)])
    model.layers[0].trainable = False
    assert [layer.trainable for layer in from_keras(model)] == [False, True]


def test_the_client_refuses_what_the_importer_refuses() -> None:
    """from_keras reads the ReLU layer and checks Softmax's axis as the .keras importer does (both from the records); from_torch dim."""
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(3), keras.layers.ReLU(max_value=6.0)])
    assert [layer.activation for layer in from_keras(model)] == ["relu6"]
    for odd in (keras.layers.Softmax(axis=0), keras.layers.ReLU(max_value=3.0)):
        with pytest.raises(ValueError, match=type(odd).__name__):
            from_keras(keras.Sequential([keras.Input((3,)), keras.layers.Dense(3), odd]))
    with pytest.raises(ValueError, match="dim=0"):
        from_torch(nn.Sequential(nn.Linear(2, 3), nn.Softmax(dim=0)))
