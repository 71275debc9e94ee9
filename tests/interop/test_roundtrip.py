"""import∘export is the identity on the network JSON, for every format the service writes (no framework needed)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from service.interop import FORMATS, read_network, write_network
from service.interop.activation_forms import RECORDS, keras_forms, onnx_forms, written
from service.interop.errors import NotExpressible
from service.interop.network import name_and_params
from tests.conformance.cases import EVERY
from tests.interop.helpers import post_file, random_network


def carries(format: str, spec: Any) -> bool:
    """Whether the activation's record claims a form that ``format`` writes it in (the tests below check the claim)."""
    name, params = name_and_params(spec)
    claimed = (keras_forms if format == "keras" else onnx_forms)(RECORDS[name][1])
    try:
        written(format, (name, params), claimed, "")
    except NotExpressible:
        return False
    return True


#: What each format must carry back: every activation at its defaults and with changed parameters, as its record claims.
CARRIED = {"safetensors": EVERY, "onnx": [h for h in EVERY if carries("onnx", h)], "keras": [h for h in EVERY if carries("keras", h)]}


def chain(activations: list[Any], bias: bool, seed: int) -> dict[str, Any]:
    return random_network(np.random.default_rng(seed), [3] + [2] * len(activations), activations, bias)


def test_the_format_list_names_every_writer_and_reader() -> None:
    assert [f.name for f in FORMATS] == ["keras", "keras_json", "safetensors", "onnx"]
    assert [f.name for f in FORMATS if f.writes] == ["keras", "safetensors", "onnx"]


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("format", ["safetensors", "onnx", "keras"])
def test_export_then_import_gives_the_same_network(format: str, bias: bool) -> None:
    network = chain(CARRIED[format], bias, seed=1)
    exported = write_network(format, network, "float32")
    back = read_network(format, exported.content).network
    for l, (sent, got) in enumerate(zip(network["layers"], back["layers"], strict=True)):
        np.testing.assert_array_equal(got["weights"], np.float32(sent["weights"]), err_msg=f"layer {l}")  # float32 in, float32 out: exact
        assert (got["bias"] is None) == (not bias)
        if bias:
            np.testing.assert_array_equal(got["bias"], np.float32(sent["bias"]))
        assert got["activation"] == sent["activation"], f"layer {l}"


@pytest.mark.parametrize("format", ["onnx", "keras"])
def test_what_a_format_cannot_carry_is_refused_naming_the_activation_and_the_format(format: str) -> None:
    for h in EVERY:
        if h in CARRIED[format]:
            continue
        with pytest.raises(NotExpressible, match=f"{'Keras' if format == 'keras' else 'ONNX'} .*{name_and_params(h)[0]}") as refused:
            write_network(format, chain([h], True, seed=6))
        assert refused.value.pointer == "/network/layers/0/activation"


def test_float64_survives_export_and_import_exactly() -> None:
    network = chain(["tanh", "linear"], True, seed=2)
    network["layers"][0]["weights"][0][0] = 0.1  # not a float32
    for format in ("safetensors", "onnx", "keras"):
        back = read_network(format, write_network(format, network, "float64").content).network
        assert back["layers"][0]["weights"].dtype == np.float64
        assert back["layers"][0]["weights"][0, 0] == 0.1


def test_over_http_export_then_import_is_the_identity_on_the_json(client: TestClient) -> None:
    network = chain(["tanh", {"name": "leaky_relu", "negative_slope": 0.2}, "softmax"], True, seed=3)
    for format in ("safetensors", "onnx", "keras"):
        exported = client.post("/v1/networks/export", params={"format": format}, json={"network": network, "dtype": "float64"})
        assert exported.status_code == 200, exported.text
        assert exported.headers["content-disposition"].startswith("attachment; filename=")
        imported = post_file(client, format, exported.content)
        assert imported.status_code == 200, imported.text
        assert imported.json()["network"] == network, format  # float64 tensors: every number comes back exactly
        as_float32 = client.post("/v1/networks/export", params={"format": format}, json={"network": network})
        layers = post_file(client, format, as_float32.content).json()["network"]["layers"]
        for got, sent in zip(layers, network["layers"], strict=True):  # float32 tensors: the numbers rounded to float32
            np.testing.assert_array_equal(np.float32(got["weights"]), np.float32(sent["weights"]))
            assert got["activation"] == sent["activation"]


def test_activations_come_back_in_their_canonical_spelling() -> None:
    """An alias becomes its name and parameters at their defaults are left out: the same network, one spelling."""
    network = chain(["swish", {"name": "leaky_relu", "negative_slope": 0.01}, {"name": "elu", "alpha": 1.0}], False, seed=5)
    for format in ("safetensors", "onnx", "keras"):
        back = read_network(format, write_network(format, network).content).network
        assert [layer["activation"] for layer in back["layers"]] == ["silu", "leaky_relu", "elu"], format


def test_multipart_upload_is_taken_like_a_raw_body(client: TestClient) -> None:
    data = write_network("onnx", chain(["tanh"], False, seed=4)).content
    raw = post_file(client, "onnx", data).json()
    form = client.post("/v1/networks/import", params={"format": "onnx"}, files={"file": ("network.onnx", data)})
    assert form.status_code == 200, form.text
    assert form.json() == raw
