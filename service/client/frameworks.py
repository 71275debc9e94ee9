"""A PyTorch ``nn.Sequential`` or a Keras model as the client's network: a list of :class:`Layer`, W out × in.

Neither framework is imported here: a module is read through its attributes (class names, ``weight``,
``get_weights``), so the client needs torch or Keras only where the caller already has them. Layers
that are the identity at inference (``Dropout``, ``Identity``, ``InputLayer``) are skipped; any other
layer that is not ``Linear`` / ``Dense`` or an activation raises ``ValueError`` naming it. Which modules,
names and layers are activations, and how their attributes give the parameters, is each activation's
registry record (``forms.torch``, ``forms.keras``), as for the service's own Keras reader.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from functools import partial
from typing import Any

import numpy as np

from service.client.network import Layer
from service.engine.forms import Torch
from service.interop.activation_forms import KERAS_FUNCTIONS, KERAS_LAYERS, MISSING, RECORDS, describe_keras_layer, read, read_keras_layer

Spec = str | Mapping[str, Any]

#: torch.nn activation modules → the activation's name and its record's torch form (each record's ``forms.torch``).
_TORCH: dict[str, tuple[str, Torch]] = {
    f.torch.module: (name, f.torch) for name, (_, f) in RECORDS.items() if isinstance(f.torch.module, str)
}
_TORCH_IDENTITY = {"Dropout", "Flatten"}  # nn.Identity is linear's module
_KERAS_IDENTITY = {"InputLayer", "Dropout"}


def _spec(name: str, params: Mapping[str, Any]) -> Spec:
    """A name, or an object with every parameter (reals as floats)."""
    if not params:
        return name
    return {"name": name, **{k: float(v) if isinstance(v, int | float) and not isinstance(v, bool) else v for k, v in params.items()}}


def _attribute(obj: Any, key: str) -> Any:
    return getattr(obj, key, MISSING)


def _torch_activation(module: Any, what: str) -> Spec:
    name, form = _TORCH[type(module).__name__]
    for key, fixed in form.fixed.items():
        if read({key: fixed}, partial(_attribute, module)) is None:
            raise ValueError(
                f"{what} has {key}={getattr(module, key)!r}: the service's {name} needs {key}={fixed.value!r} (or {fixed.also})"
            )
    return _spec(name, {k: getattr(module, k) for k in RECORDS[name][0]})


def _fold(layers: list[Layer], h: Spec, what: str) -> None:
    """Give the last layer the activation ``h`` (it must be linear so far)."""
    if not layers or layers[-1].activation != "linear":
        raise ValueError(f"{what} does not follow a linear Linear/Dense layer; each layer of the service has one activation")
    layers[-1] = replace(layers[-1], activation=h)


def from_torch(module: Any) -> list[Layer]:
    """The layers of an ``nn.Sequential`` of ``Linear`` and activation modules (weights copied as NumPy arrays)."""
    layers: list[Layer] = []
    for index, child in enumerate(module.children() if hasattr(module, "children") else module):
        kind = type(child).__name__
        if kind == "Linear":
            bias = None if child.bias is None else child.bias.detach().cpu().numpy().copy()
            trains = bool(child.weight.requires_grad)  # a frozen parameter: requires_grad False
            bias_trains = child.bias is None or bool(child.bias.requires_grad)
            if not trains and bias_trains and child.bias is not None:
                raise ValueError(f"module {index} trains its bias but not its weight; the service freezes a layer or its bias alone")
            layers.append(Layer(child.weight.detach().cpu().numpy().copy(), bias, "linear", trains, not trains or bias_trains))
        elif kind in _TORCH:
            h = _torch_activation(child, f"module {index} ({kind})")
            if h != "linear":  # nn.Identity: nothing to fold
                _fold(layers, h, f"module {index} ({kind})")
        elif kind not in _TORCH_IDENTITY:
            raise ValueError(f"module {index} is a {kind}; the service takes Linear layers and activations ({', '.join(_TORCH)})")
    if not layers:
        raise ValueError("the module has no Linear layer")
    return layers


def _keras_activation(function: Any) -> Spec:
    name = getattr(function, "__name__", str(function))
    if name not in KERAS_FUNCTIONS:
        return name  # the service names what it does not have
    return _spec(*KERAS_FUNCTIONS[name])


def from_keras(model: Any) -> list[Layer]:
    """The layers of a Keras Sequential (or chain-shaped Functional) model of ``Dense`` and activation layers; kernels transposed."""
    layers: list[Layer] = []
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "Dense":
            arrays = [np.asarray(w) for w in layer.get_weights()]
            bias = arrays[1] if len(arrays) > 1 else None
            layers.append(Layer(np.ascontiguousarray(arrays[0].T), bias, _keras_activation(layer.activation), bool(layer.trainable)))
        elif kind == "Activation":
            _fold(layers, _keras_activation(layer.activation), f"layer {layer.name!r}")
        elif kind in KERAS_LAYERS:
            found = read_keras_layer(kind, partial(_attribute, layer))
            if found is None:
                raise ValueError(
                    f"layer {layer.name!r} is a {kind} the service does not have; it reads a {kind} as {describe_keras_layer(kind)}"
                )
            _fold(layers, _spec(*found), f"layer {layer.name!r}")
        elif kind not in _KERAS_IDENTITY:
            raise ValueError(f"layer {layer.name!r} is a {kind}; the service takes Dense layers and activation layers")
    if not layers:
        raise ValueError("the model has no Dense layer")
    return layers
