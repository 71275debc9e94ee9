"""Every file the import refuses: its status, problem type and a message naming what and where (never a 500).

The files are made by mutating what the service's own writers produce, or with h5py / onnx / zipfile directly.
"""

from __future__ import annotations

import io
import json
import pickle
import zipfile
from typing import Any

import h5py
import numpy as np
import onnx
import pytest
from fastapi.testclient import TestClient
from onnx import TensorProto, helper, numpy_helper
from safetensors.numpy import save

from service.config import get_settings
from service.interop import write_network
from tests.interop.helpers import OCTET, post_file, problem

NETWORK = {
    "layers": [{"weights": [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]], "activation": "tanh"}, {"weights": [[0.1, 0.2, 0.3]], "bias": [0.5]}]
}
TYPE = "urn:gradient-service:problem:"


def keras_file(edit_config: Any = None, edit_h5: Any = None, members: dict[str, bytes] | None = None) -> bytes:
    """The service's own .keras export of NETWORK, its config and weights edited."""
    src = zipfile.ZipFile(io.BytesIO(write_network("keras", NETWORK).content))
    config = json.loads(src.read("config.json"))
    h5 = src.read("model.weights.h5")
    if edit_config:
        edit_config(config)
    if edit_h5:
        buffer = io.BytesIO(h5)
        with h5py.File(buffer, "a") as f:
            edit_h5(f)
        h5 = buffer.getvalue()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("metadata.json", src.read("metadata.json"))
        z.writestr("config.json", json.dumps(config))
        z.writestr("model.weights.h5", h5)
        for name, content in (members or {}).items():
            z.writestr(name, content, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def onnx_model(nodes: list[Any], initializers: list[Any], out: str = "y", K: int = 2) -> bytes:
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 2])],
        [helper.make_tensor_value_info(out, TensorProto.FLOAT, ["N", K])],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)])
    model.ir_version = 9
    return bytes(model.SerializeToString())


W = numpy_helper.from_array(np.eye(2, dtype=np.float32), "W")


def test_a_conv2d_layer_is_refused_by_name(client: TestClient) -> None:
    def conv(config: dict[str, Any]) -> None:
        config["config"]["layers"][1]["class_name"] = "Conv2D"

    p = problem(client, "keras", keras_file(conv))
    assert p["type"] == TYPE + "unsupported-layer"
    assert "'dense_0' is a Conv2D" in p["detail"]
    assert p["errors"][0]["pointer"] == "/config.json/config/layers/1"


@pytest.mark.parametrize("layer", ["Conv2D", "LSTM"])
def test_a_layer_that_is_not_dense_is_named_before_its_input_shape_is_looked_at(client: TestClient, layer: str) -> None:
    """A Conv2D model's input is an image ([batch, 8, 8, 1]): the answer names the Conv2D, not the input's shape."""

    def not_dense(config: dict[str, Any]) -> None:
        layers = config["config"]["layers"]
        layers[0]["config"]["batch_shape"] = [None, 8, 8, 1]
        layers[1]["class_name"] = layer

    p = problem(client, "keras", keras_file(not_dense))
    assert p["type"] == TYPE + "unsupported-layer"
    assert f"'dense_0' is a {layer}, which is not a dense layer" in p["detail"]
    assert p["errors"][0]["pointer"] == "/config.json/config/layers/1"


def test_an_onnx_conv_is_named_by_its_node(client: TestClient) -> None:
    nodes = [helper.make_node("Conv", ["x", "W"], ["y"], name="conv1")]
    p = problem(client, "onnx", onnx_model(nodes, [W]))
    assert p["type"] == TYPE + "unsupported-layer"
    assert "node 'conv1' (Conv)" in p["detail"]
    assert p["errors"][0]["pointer"] == "/graph/node/0"


def test_an_activation_keras_does_not_have_is_refused_naming_the_layer(client: TestClient) -> None:
    def sparsemax(config: dict[str, Any]) -> None:
        config["config"]["layers"][1]["config"]["activation"] = "sparsemax"

    p = problem(client, "keras", keras_file(sparsemax))
    assert p["type"] == TYPE + "unsupported-layer"
    assert "'dense_0' has activation 'sparsemax'" in p["detail"]


def test_a_missing_bias_dataset_is_a_key_mismatch(client: TestClient) -> None:
    p = problem(client, "keras", keras_file(edit_h5=lambda f: f["layers/dense_1/vars"].pop("1")))
    assert p["type"] == TYPE + "key-mismatch"
    assert p["errors"][0]["pointer"] == "/model.weights.h5/layers/dense_1/vars"
    assert "missing 1" in p["detail"]


def test_a_kernel_of_the_wrong_shape_is_named(client: TestClient) -> None:
    def wrong(f: h5py.File) -> None:
        del f["layers/dense/vars/0"]
        f["layers/dense/vars"].create_dataset("0", data=np.zeros((2, 4), np.float32))

    p = problem(client, "keras", keras_file(edit_h5=wrong))
    assert p["type"] == TYPE + "key-mismatch"
    assert "has 3 units" in p["detail"]


def test_an_hdf5_external_link_is_refused(client: TestClient) -> None:
    def link(f: h5py.File) -> None:
        del f["layers/dense/vars/0"]
        f["layers/dense/vars/0"] = h5py.ExternalLink("/etc/passwd.h5", "/data")

    p = problem(client, "keras", keras_file(edit_h5=link))
    assert p["type"] == TYPE + "unsafe-file"
    assert "ExternalLink" in p["detail"]


def test_a_zip_bomb_stops_at_the_uncompressed_limit(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(get_settings(), "max_import_uncompressed_bytes", 1 << 20)
    bomb = keras_file(members={"assets/zeros.bin": bytes(8 << 20)})  # 8 MiB of zeros deflate to ~8 KiB
    assert len(bomb) < 100_000
    p = problem(client, "keras", bomb)
    assert p["type"] == TYPE + "file-too-large"
    assert "max_import_uncompressed_bytes" in p["detail"]


@pytest.mark.parametrize("format", ["keras", "onnx", "safetensors"])
def test_a_truncated_file_is_corrupt(client: TestClient, format: str) -> None:
    data = write_network(format, NETWORK).content
    query = {"activations": "tanh,linear"} if format == "safetensors" else {}
    p = problem(client, format, data[: len(data) // 2], **query)
    assert p["type"] == TYPE + "corrupt-file", p


def test_a_torch_save_pickle_is_refused_pointing_at_safetensors(client: TestClient) -> None:
    import torch

    buffer = io.BytesIO()
    torch.save({"0.weight": torch.zeros(2, 2)}, buffer)
    for data in (buffer.getvalue(), pickle.dumps({"0.weight": [[0.0]]})):
        for format in ("safetensors", "keras", "onnx"):
            p = problem(client, format, data)
            assert p["type"] == TYPE + "unsafe-file"
            assert "safetensors.torch.save_file" in p["detail"]


def test_safetensors_layers_that_do_not_chain(client: TestClient) -> None:
    data = save({"0.weight": np.zeros((3, 2), np.float32), "2.weight": np.zeros((2, 4), np.float32)})
    p = problem(client, "safetensors", data, activations="tanh,linear")
    assert p["type"] == TYPE + "shape-mismatch"
    assert p["errors"][0]["pointer"] == "/2.weight"
    assert "takes 4 inputs but layer 0 has 3 outputs" in p["detail"]


def test_safetensors_extra_key_of_a_batchnorm(client: TestClient) -> None:
    data = save({"0.weight": np.zeros((3, 2), np.float32), "1.running_mean": np.zeros(3, np.float32)})
    p = problem(client, "safetensors", data, activations="tanh")
    assert p["type"] == TYPE + "key-mismatch"
    assert p["errors"][0]["pointer"] == "/1.running_mean"


def test_safetensors_needs_one_activation_per_layer(client: TestClient) -> None:
    data = save({"0.weight": np.zeros((3, 2), np.float32), "2.weight": np.zeros((1, 3), np.float32)})
    p = problem(client, "safetensors", data)
    assert p["type"] == TYPE + "bad-import-argument"
    assert "pass activations" in p["detail"]
    p = problem(client, "safetensors", data, activations="tanh")
    assert "has 1 activations; the file has 2 Linear layers" in p["detail"]
    p = problem(client, "safetensors", data, activations="tanh,nope")
    assert p["errors"][0]["pointer"] == "/activations/1"


def test_safetensors_prefix_and_layer_stems(client: TestClient) -> None:
    data = save({"model.fc1.weight": np.ones((3, 2), np.float32), "model.fc2.weight": np.ones((1, 3), np.float32)})
    r = post_file(client, "safetensors", data, activations="tanh,linear", prefix="model.", layers="fc1,fc2")
    assert r.status_code == 200, r.text
    assert [layer["name"] for layer in r.json()["source"]["layers"]] == ["model.fc1", "model.fc2"]
    p = problem(client, "safetensors", data, activations="tanh,linear")
    assert p["type"] == TYPE + "key-mismatch"


def test_safetensors_integer_tensor_is_refused_and_float16_is_widened(client: TestClient) -> None:
    p = problem(client, "safetensors", save({"0.weight": np.ones((3, 2), np.int8)}), activations="tanh")
    assert p["type"] == TYPE + "unsupported-dtype"
    assert "I8" in p["detail"]
    r = post_file(client, "safetensors", save({"0.weight": np.full((3, 2), 0.1, np.float16)}), activations="tanh")
    assert r.status_code == 200, r.text
    assert r.json()["source"]["layers"][0]["weights"]["dtype"] == "F16"
    assert np.float32(r.json()["network"]["layers"][0]["weights"][0][0]) == np.float32(np.float16(0.1))  # widened exactly


def test_a_non_finite_weight_is_named(client: TestClient) -> None:
    W = np.zeros((3, 2), np.float32)
    W[1, 0] = np.nan
    p = problem(client, "safetensors", save({"0.weight": W}), activations="tanh")
    assert p["type"] == TYPE + "non-finite-weight"
    assert p["errors"][0]["pointer"] == "/0.weight"


def test_an_unsupported_onnx_op_is_named_by_its_node(client: TestClient) -> None:
    nodes = [helper.make_node("Gemm", ["x", "W"], ["a"], name="dense"), helper.make_node("Cos", ["a"], ["y"], name="weird_cos")]
    p = problem(client, "onnx", onnx_model(nodes, [W]))
    assert p["type"] == TYPE + "unsupported-layer"
    assert "node 'weird_cos' (Cos)" in p["detail"]
    assert p["errors"][0]["pointer"] == "/graph/node/1"


def test_onnx_hardsigmoid_with_tf_keras_2_slope_is_refused(client: TestClient) -> None:
    nodes = [helper.make_node("Gemm", ["x", "W"], ["a"], name="g"), helper.make_node("HardSigmoid", ["a"], ["y"], name="hs", alpha=0.2)]
    p = problem(client, "onnx", onnx_model(nodes, [W]))
    assert p["type"] == TYPE + "unsupported-layer"
    assert "alpha=0.2" in p["detail"]


def test_onnx_gemm_with_transposed_data_is_refused_and_alpha_beta_fold_in(client: TestClient) -> None:
    b = numpy_helper.from_array(np.array([1.0, 2.0], np.float32), "b")
    p = problem(client, "onnx", onnx_model([helper.make_node("Gemm", ["x", "W"], ["y"], name="g", transA=1)], [W]))
    assert "transA=1" in p["detail"]
    scaled = helper.make_node("Gemm", ["x", "W", "b"], ["y"], name="g", alpha=2.0, beta=0.5, transB=0)
    r = post_file(client, "onnx", onnx_model([scaled], [W, b]))
    assert r.status_code == 200, r.text
    assert r.json()["network"]["layers"][0] == {"weights": [[2.0, 0.0], [0.0, 2.0]], "bias": [0.5, 1.0], "activation": "linear"}


def test_onnx_matmul_add_is_a_layer_with_bias(client: TestClient) -> None:
    B = numpy_helper.from_array(np.array([[1.0, 2.0], [3.0, 4.0]], np.float32), "B")  # in × out
    b = numpy_helper.from_array(np.array([0.5, -0.5], np.float32), "b")
    nodes = [helper.make_node("MatMul", ["x", "B"], ["m"], name="mm"), helper.make_node("Add", ["m", "b"], ["y"], name="add")]
    r = post_file(client, "onnx", onnx_model(nodes, [B, b]))
    assert r.status_code == 200, r.text
    assert r.json()["network"]["layers"][0]["weights"] == [[1.0, 3.0], [2.0, 4.0]]
    assert r.json()["source"]["layers"][0]["weights"]["transposed"] is True


def test_onnx_external_data_is_refused_before_anything_is_read(client: TestClient) -> None:
    t = TensorProto(name="W", data_type=TensorProto.FLOAT, dims=[2, 2], data_location=TensorProto.EXTERNAL)
    t.external_data.add(key="location", value="../../etc/shadow")
    p = problem(client, "onnx", onnx_model([helper.make_node("Gemm", ["x", "W"], ["y"], name="g")], [t]))
    assert p["type"] == TYPE + "unsafe-file"
    assert "external data" in p["detail"]


def test_http_limits_and_media_types(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    data = write_network("onnx", NETWORK).content
    wrong = client.post("/v1/networks/import", params={"format": "onnx"}, content=data, headers={"content-type": "text/plain"})
    assert wrong.status_code == 415
    two = client.post("/v1/networks/import", params={"format": "onnx"}, files=[("a", ("a.onnx", data)), ("b", ("b.onnx", data))])
    assert two.status_code == 400
    assert "2 file fields" in two.json()["detail"]
    unknown = post_file(client, "pickle", data)
    assert unknown.status_code == 422
    monkeypatch.setattr(get_settings(), "max_body_bytes", 1024)
    big = client.post("/v1/networks/import", params={"format": "onnx"}, content=bytes(4096), headers=OCTET)
    assert big.status_code == 413


def test_export_refuses_what_the_format_cannot_carry(client: TestClient) -> None:
    network = {"layers": [{"weights": [[1.0]], "activation": {"name": "gelu", "approximate": "tanh"}}]}
    r = client.post("/v1/networks/export", params={"format": "keras"}, json={"network": network})
    assert r.status_code == 422
    assert r.json()["type"] == TYPE + "not-expressible"
    assert r.json()["errors"][0]["pointer"] == "/network/layers/0/activation"
    assert client.post("/v1/networks/export", params={"format": "keras_json"}, json={"network": network}).status_code == 422


def test_a_valid_onnx_model_that_is_not_a_chain(client: TestClient) -> None:
    nodes = [helper.make_node("Gemm", ["x", "W"], ["a"], name="g1"), helper.make_node("Add", ["a", "x"], ["y"], name="residual")]
    p = problem(client, "onnx", onnx_model(nodes, [W]))
    assert p["type"] == TYPE + "unsupported-layer"
    assert "residual" in p["detail"]
    assert onnx.load_model_from_string(onnx_model(nodes, [W]))  # a valid model all the same
