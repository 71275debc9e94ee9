"""Every activation's registry record against every framework form it claims, and the claims cover the formats.

For each record (service/engine/activations*.py, ``forms``): its PyTorch module and function give the engine's z and
∂E/∂a (float64: rtol 1e-12, atol 1e-14; 1e-7 where torch's float64 backward uses float32 constants: hardsigmoid's 1/6,
celu's); each ONNX form, written and run in onnxruntime, gives the engine's z (float32: rtol 1e-5, atol 1e-6) and reads
back as the same activation; each Keras function and layer, in Keras 3 on the torch backend, gives the engine's z
(float32, the same tolerance), reads back (file and live model) as the same activation, and every network the record
says Keras carries loads in Keras with the same z. A format a record has no form for says why (NoForm), and an export
to it is a 422 naming the activation and the format. The checks are shown to fail on a wrong form.
Each record runs at its defaults and with every parameter changed (tests/conformance/cases.py: ``changed``).
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

import numpy as np
import onnx
import pytest
import torch
from fastapi.testclient import TestClient

from service.client.frameworks import from_torch
from service.engine import get_activation
from service.engine.activations import records
from service.engine.forms import Fixed, Forms, KerasFunction, KerasLayer, NoForm, OnnxForm, OnnxNode, Param, Torch, carried
from service.interop import (
    onnx_format,  # its FORMS are read from the records now, not from a test's patched ones
    read_network,
    write_network,
)
from service.interop.activation_forms import RECORDS
from service.interop.network import activation, name_and_params
from service.interop.onnx_format import OPSET
from tests.conformance.cases import changed
from tests.conformance.torch_reference import resolve

os.environ.setdefault("KERAS_BACKEND", "torch")  # before any import of keras

RECORDS_BY_NAME = [(entry.describe.name, entry, forms) for entry, forms in records()]
NAMES = [name for name, _, _ in RECORDS_BY_NAME]
A = np.array([np.linspace(-4.9, 4.7, 13), np.linspace(3.3, -2.1, 13)])  # two rows (softmax), no kink hit exactly
F32 = {"rtol": 1e-5, "atol": 1e-6}
F64 = {"rtol": 1e-12, "atol": 1e-14}
FLOAT32_CONSTANTS = {"hard_sigmoid", "celu"}  # torch's float64 backward multiplies by float32-rounded constants


def specs(name: str) -> list[tuple[str, dict[str, Any]]]:
    """The record at its defaults and with every parameter changed: (name, every parameter)."""
    entry = next(e for n, e, _ in RECORDS_BY_NAME if n == name)
    other = changed(entry)
    return [name_and_params(name)] + ([name_and_params(other)] if other is not None else [])


def canonical(name: str, params: dict[str, Any]) -> Any:
    return activation(name, "", **params)


def forms_of(name: str) -> Forms:
    return RECORDS[name][1]


# --- the claims cover the formats ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_each_format_has_a_form_or_says_why_not(name: str) -> None:
    forms, defaults = forms_of(name), RECORDS[name][0]
    claims: list[Any] = [forms.torch.module, forms.torch.function, forms.keras, forms.onnx]
    for claim in claims:
        assert isinstance(claim, str | NoForm) or claim, f"{name}: an empty claim; say NoForm(why)"
        if isinstance(claim, NoForm):
            assert claim.why, f"{name}: NoForm says why"
    assert not (isinstance(forms.torch.module, NoForm) and isinstance(forms.torch.function, NoForm)) or forms.torch.fixed == {}
    every: list[Any] = []
    if not isinstance(forms.keras, NoForm):
        every += [*forms.keras.functions, *forms.keras.layers]
    if not isinstance(forms.onnx, NoForm):
        every += list(forms.onnx)
    for form in every:  # a form speaks of the record's own parameters only
        assert carried(form) | set(form.implies) <= set(defaults), f"{name}: {form}"


@pytest.mark.parametrize("name", NAMES)
def test_the_image_bounds_the_values(name: str) -> None:
    for spec_name, params in specs(name):
        h = get_activation(spec_name, **params)
        z = h.forward(A)
        image = h.image
        assert (image.low <= z).all(), f"{name} {params}: {image}"
        assert (z <= image.high).all(), f"{name} {params}: {image}"
        if image.open:
            assert (image.low < z).all(), f"{name} {params}: {image}"
            assert (z < image.high).all(), f"{name} {params}: {image}"


def test_an_export_to_a_format_without_a_form_is_a_422_naming_both(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    defaults, forms = RECORDS["softsign"]
    none = replace(forms, keras=NoForm("no Keras for this test"), onnx=NoForm("no ONNX for this test"))
    monkeypatch.setitem(RECORDS, "softsign", (defaults, none))
    network = {"layers": [{"weights": [[1.0, 2.0]], "activation": "softsign"}]}
    for format, label in (("keras", "Keras"), ("onnx", "ONNX")):
        r = client.post("/v1/networks/export", params={"format": format}, json={"network": network})
        assert r.status_code == 422, r.text
        assert r.json()["detail"].endswith(f"{label} has no softsign activation: no {label} for this test")
        assert r.json()["errors"][0]["pointer"] == "/network/layers/0/activation"
    assert client.post("/v1/networks/export", params={"format": "safetensors"}, json={"network": network}).status_code == 200


# --- PyTorch -----------------------------------------------------------------------------------------------------


def check_torch(name: str, params: dict[str, Any], form: Torch) -> None:
    """The record's torch module and function against the engine: z and the vjp, float64."""
    h = get_activation(name, **params)
    g = np.random.default_rng(len(name)).normal(size=A.shape)
    fixed = {k: v.value for k, v in form.fixed.items()}
    computed = []
    if isinstance(form.module, str):
        module = getattr(torch.nn, form.module)(**params, **fixed)
        computed.append(module)
        layers = from_torch(torch.nn.Sequential(torch.nn.Linear(2, 2), module))
        assert canonical(*name_and_params(layers[0].activation)) == canonical(name, params), "from_torch"
    if isinstance(form.function, str):
        function = resolve(form.function)
        computed.append(lambda a: function(a, **params, **fixed))
    backward = {"rtol": 1e-7, "atol": 1e-14} if name in FLOAT32_CONSTANTS else F64
    for f in computed:
        at = torch.tensor(A, requires_grad=True)
        zt = f(at)
        zt.backward(torch.tensor(g))
        np.testing.assert_allclose(h.forward(A), zt.detach().numpy(), **F64, err_msg=f"{name} {params}: z")
        np.testing.assert_allclose(h.vjp(A, h.forward(A), g), at.grad.numpy(), **backward, err_msg=f"{name} {params}: vjp")


@pytest.mark.parametrize("name", NAMES)
def test_the_torch_forms_compute_the_engines_numbers(name: str) -> None:
    for spec_name, params in specs(name):
        check_torch(spec_name, params, forms_of(name).torch)


def test_the_torch_check_fails_on_a_wrong_function() -> None:
    with pytest.raises(AssertionError):
        check_torch("softsign", {}, Torch(NoForm("-"), "torch.tanh"))
    with pytest.raises(AssertionError):
        check_torch("elu", {"alpha": 0.5}, Torch("CELU", NoForm("-")))  # the same parameter, another module


# --- ONNX --------------------------------------------------------------------------------------------------------


def onnx_cases(name: str) -> list[tuple[OnnxForm, dict[str, Any]]]:
    """Each ONNX form of the record with the parameters it can carry (defaults, then changed, where it carries them)."""
    forms = forms_of(name).onnx
    assert not isinstance(forms, NoForm)
    out = []
    for form in forms:
        for _, params in specs(name):
            kept = {k: v if k in carried(form) else form.implies.get(k, RECORDS[name][0][k]) for k, v in params.items()}
            if (form, kept) not in out:
                out.append((form, kept))
    return out


def check_onnx(name: str, form: OnnxForm, params: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """``form`` written (as the record's only one), run in onnxruntime against the engine's z, and read back as the activation."""
    import onnxruntime

    defaults, forms = RECORDS[name]
    monkeypatch.setitem(RECORDS, name, (defaults, replace(forms, onnx=(replace(form, writes=True),))))
    spec = canonical(name, params)
    network = {"layers": [{"weights": np.eye(13).tolist(), "bias": [0.0] * 13, "activation": spec}]}  # opset 10's Gemm needs C
    try:
        data = write_network("onnx", network, "float32").content
    except onnx.checker.ValidationError:  # a form of the opsets before 11 (Clip's min and max as attributes)
        monkeypatch.setattr(onnx_format, "OPSET", 10)
        data = write_network("onnx", network, "float32").content
        monkeypatch.setattr(onnx_format, "OPSET", OPSET)
    session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
    z = session.run(None, {"x": A.astype(np.float32)})[0]
    np.testing.assert_allclose(z, get_activation(name, **params).forward(A), **F32, err_msg=f"{name} {params}")
    monkeypatch.setitem(RECORDS, name, (defaults, forms))
    assert read_network("onnx", data).network["layers"][0]["activation"] == spec


@pytest.mark.parametrize("name", NAMES)
def test_every_onnx_form_runs_in_onnxruntime_as_the_engine_and_reads_back(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for form, params in onnx_cases(name):
        check_onnx(name, form, params, monkeypatch)


def test_the_onnx_check_fails_on_a_wrong_form(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(AssertionError):
        check_onnx("softsign", OnnxForm((OnnxNode("Tanh"),)), {}, monkeypatch)
    with pytest.raises(AssertionError):  # the right parameter in the wrong op
        check_onnx(
            "leaky_relu", OnnxForm((OnnxNode("Elu", attrs={"alpha": Param("negative_slope")}),)), {"negative_slope": 0.3}, monkeypatch
        )


# --- Keras 3 (torch backend) -------------------------------------------------------------------------------------


def keras_model(form: KerasFunction | KerasLayer, params: dict[str, Any]) -> Any:
    """Dense(13) with W = I and the form: its activation name, or a linear Dense and the layer."""
    import keras

    if isinstance(form, KerasFunction):
        layers = [keras.layers.Dense(13, activation=form.name)]
    else:
        config = {k: params[v.name] if isinstance(v, Param) else v.value for k, v in form.config.items()}
        layers = [keras.layers.Dense(13), getattr(keras.layers, form.class_name)(**config)]
    model = keras.Sequential([keras.Input((13,)), *layers])
    model.layers[0].set_weights([np.eye(13, dtype=np.float32), np.zeros(13, np.float32)])
    return model


def check_keras(name: str, form: KerasFunction | KerasLayer, params: dict[str, Any], tmp_path: Any) -> None:
    """A Keras model with ``form`` gives the engine's z, and reads back (file and live model) as the activation."""
    from service.client.frameworks import from_keras

    model = keras_model(form, params)
    np.testing.assert_allclose(model.predict(A.astype(np.float32), verbose=0), get_activation(name, **params).forward(A), **F32)
    model.save(tmp_path / "m.keras")
    spec = canonical(name, params)
    assert read_network("keras", (tmp_path / "m.keras").read_bytes()).network["layers"][0]["activation"] == spec
    assert canonical(*name_and_params(from_keras(model)[0].activation)) == spec


def keras_cases(name: str) -> list[tuple[KerasFunction | KerasLayer, dict[str, Any]]]:
    forms = forms_of(name).keras
    if isinstance(forms, NoForm):
        return []
    out: list[tuple[KerasFunction | KerasLayer, dict[str, Any]]] = []
    for form in (*forms.functions, *forms.layers):
        for _, params in specs(name):
            kept = {k: v if k in carried(form) else form.implies.get(k, RECORDS[name][0][k]) for k, v in params.items()}
            if (form, kept) not in out:
                out.append((form, kept))
    return out


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")
@pytest.mark.parametrize("name", NAMES)
def test_every_keras_form_computes_the_engines_numbers_and_reads_back(name: str, tmp_path: Any) -> None:
    for form, params in keras_cases(name):
        check_keras(name, form, params, tmp_path)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")
@pytest.mark.parametrize("name", NAMES)
def test_what_the_record_says_keras_carries_loads_in_keras_as_the_engine(name: str, tmp_path: Any) -> None:
    import keras

    from service.interop.errors import NotExpressible

    for spec_name, params in specs(name):
        network = {"layers": [{"weights": np.eye(13).tolist(), "bias": [0.0] * 13, "activation": canonical(spec_name, params)}]}
        try:
            data = write_network("keras", network).content
        except NotExpressible:
            continue  # tests/interop/test_roundtrip.py: refused exactly where the record has no form that carries it
        (tmp_path / "n.keras").write_bytes(data)
        z = keras.saving.load_model(tmp_path / "n.keras").predict(A.astype(np.float32), verbose=0)
        np.testing.assert_allclose(z, get_activation(spec_name, **params).forward(A), **F32, err_msg=f"{name} {params}")


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")
def test_the_keras_check_fails_on_a_wrong_form(tmp_path: Any) -> None:
    with pytest.raises(AssertionError):
        check_keras("softsign", KerasFunction("tanh"), {}, tmp_path)
    with pytest.raises(AssertionError):
        check_keras("relu6", KerasLayer("ReLU", {"max_value": Fixed(3.0)}), {}, tmp_path)  # clips at 3, not 6
