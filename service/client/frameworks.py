"""A PyTorch ``nn.Sequential`` or a Keras model as the client's network: a list of :class:`Layer`, W out × in.

Neither framework is imported here: a module is read through its attributes (class names, ``weight``,
``get_weights``), so the client needs torch or Keras only where the caller already has them. Layers
that are the identity at inference (``Dropout``, ``Identity``, ``InputLayer``) are skipped; any other
layer that is not ``Linear`` / ``Dense`` or an activation raises ``ValueError`` naming it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from service.client.network import Layer

Spec = str | Mapping[str, Any]

#: torch.nn activation modules → the service's activation (from the module's attributes).
_TORCH: dict[str, Callable[[Any], Spec]] = {
    "Tanh": lambda m: "tanh",
    "Sigmoid": lambda m: "sigmoid",
    "ReLU": lambda m: "relu",
    "LeakyReLU": lambda m: {"name": "leaky_relu", "negative_slope": float(m.negative_slope)},
    "ELU": lambda m: {"name": "elu", "alpha": float(m.alpha)},
    "SELU": lambda m: "selu",
    "CELU": lambda m: {"name": "celu", "alpha": float(m.alpha)},
    "GELU": lambda m: {"name": "gelu", "approximate": m.approximate},
    "SiLU": lambda m: "silu",
    "Mish": lambda m: "mish",
    "Softplus": lambda m: {"name": "softplus", "beta": float(m.beta), "threshold": float(m.threshold)},
    "Softsign": lambda m: "softsign",
    "ReLU6": lambda m: "relu6",
    "Hardsigmoid": lambda m: "hard_sigmoid",
    "Hardswish": lambda m: "hard_silu",
    "Hardtanh": lambda m: {"name": "hard_tanh", "min_val": float(m.min_val), "max_val": float(m.max_val)},
    "LogSigmoid": lambda m: "log_sigmoid",
    "Softmax": lambda m: _last_axis("softmax", m.dim, (None, -1, 1)),
    "LogSoftmax": lambda m: _last_axis("log_softmax", m.dim, (None, -1, 1)),
}
_TORCH_IDENTITY = {"Identity", "Dropout", "Flatten"}

#: Keras activation function names → the service's (Keras's leaky_relu has slope 0.2).
_KERAS_NAMES: dict[str, Spec] = {"swish": "silu", "hard_swish": "hard_silu", "leaky_relu": {"name": "leaky_relu", "negative_slope": 0.2}}
_KERAS_IDENTITY = {"InputLayer", "Dropout"}


def _last_axis(name: str, axis: Any, ok: tuple[Any, ...]) -> Spec:
    if axis not in ok:
        raise ValueError(f"{name} over axis {axis}: the service's is over the units (the last axis)")
    return name


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
            _fold(layers, _TORCH[kind](child), f"module {index} ({kind})")
        elif kind not in _TORCH_IDENTITY:
            raise ValueError(f"module {index} is a {kind}; the service takes Linear layers and activations ({', '.join(_TORCH)})")
    if not layers:
        raise ValueError("the module has no Linear layer")
    return layers


def _keras_activation(function: Any) -> Spec:
    name = getattr(function, "__name__", str(function))
    return _KERAS_NAMES.get(name, name)


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
        elif kind == "LeakyReLU":
            _fold(layers, {"name": "leaky_relu", "negative_slope": float(layer.negative_slope)}, f"layer {layer.name!r}")
        elif kind == "ELU":
            _fold(layers, {"name": "elu", "alpha": float(layer.alpha)}, f"layer {layer.name!r}")
        elif kind == "Softmax":
            _fold(layers, "softmax", f"layer {layer.name!r}")
        elif kind not in _KERAS_IDENTITY:
            raise ValueError(f"layer {layer.name!r} is a {kind}; the service takes Dense layers and activation layers")
    if not layers:
        raise ValueError("the model has no Dense layer")
    return layers
