"""A Keras 3 model config (config.json, or ``model.to_json()``) read as a chain of dense layers.

Only a Sequential, or a Functional model whose layers form a single chain, of ``Dense`` layers is
taken. ``InputLayer`` gives the input size; ``Dropout`` is skipped (the identity at inference,
listed in ``skipped``); an activation layer (``Activation``, ``ReLU``, ``LeakyReLU``, ``ELU``,
``Softmax``) becomes the activation of the ``Dense`` before it when that one is linear. Any other
layer is refused by name. Keras's activation names and layers map to the engine's as each activation's
record says (its ``forms.keras``: Keras's ``leaky_relu`` has slope 0.2, its ``softplus`` no threshold).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from service.interop.activation_forms import KERAS_FUNCTIONS, KERAS_LAYERS, MISSING, describe_keras_layer, read_keras_layer
from service.interop.errors import CorruptFile, ShapeMismatch, UnsupportedLayer
from service.interop.network import ActivationSpec, activation

ACTIVATION_LAYERS = ("Activation", *KERAS_LAYERS)
SKIPPED_LAYERS = {"Dropout": "Dropout is the identity at inference (the service computes inference-mode gradients); skipped"}


def snake_case(class_name: str) -> str:
    """A layer class's name as Keras names its group in model.weights.h5: ``LeakyReLU`` → ``leaky_re_lu``."""
    name = re.sub(r"\W+", "", class_name)
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_names(class_names: list[str]) -> list[str]:
    """The group names Keras gives a container's layers: the snake-case class name, then ``_1``, ``_2`` … for repeats."""
    seen: dict[str, int] = {}
    names = []
    for class_name in class_names:
        base = snake_case(class_name)
        if base in seen:
            seen[base] += 1
            names.append(f"{base}_{seen[base]}")
        else:
            seen[base] = 0
            names.append(base)
    return names


@dataclass
class Dense:
    """One Dense layer of the config: where its weights are (``store``: its group in model.weights.h5)."""

    name: str
    units: int
    use_bias: bool
    activation: ActivationSpec
    where: str  #: its place in the config, as a JSON Pointer
    store: str
    activation_from: str  #: the layer whose activation this is (the Dense itself, or an activation layer folded in)
    trainable: bool = True  #: Keras's ``trainable`` of the Dense (False: frozen)


@dataclass
class Chain:
    dense: list[Dense] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    input_size: int | None = None


def _keras_activation(name: Any, where: str, layer: str) -> ActivationSpec:
    if not isinstance(name, str) or name not in KERAS_FUNCTIONS:
        raise UnsupportedLayer(
            f"layer {layer!r} has activation {name!r}, which the service does not have; it takes: {', '.join(sorted(KERAS_FUNCTIONS))}",
            where,
        )
    engine_name, params = KERAS_FUNCTIONS[name]
    return activation(engine_name, where, **params)


def _activation_layer(class_name: str, config: dict[str, Any], where: str, layer: str) -> ActivationSpec:
    """The engine's spec for a standalone activation layer."""
    if class_name == "Activation":
        return _keras_activation(config.get("activation"), f"{where}/config/activation", layer)
    found = read_keras_layer(class_name, lambda key: config.get(key, MISSING))
    if found is None:
        given = ", ".join(f"{k}={v!r}" for k, v in config.items() if k not in ("name", "trainable", "dtype"))
        raise UnsupportedLayer(
            f"layer {layer!r} is a {class_name} with {given}; the service reads a {class_name} as {describe_keras_layer(class_name)}", where
        )
    return activation(found[0], where, **found[1])


def _chained(layers: list[dict[str, Any]], config: dict[str, Any], at: str) -> None:
    """Refuse a Functional model whose layers are not one chain, each taking the previous one's output."""
    for i, layer in enumerate(layers[1:], start=1):
        nodes = layer.get("inbound_nodes") or []
        args = nodes[0].get("args", []) if len(nodes) == 1 and isinstance(nodes[0], dict) else []
        history = args[0].get("config", {}).get("keras_history", [None]) if len(args) == 1 and isinstance(args[0], dict) else [None]
        previous = layers[i - 1].get("name", layers[i - 1].get("config", {}).get("name"))
        if len(nodes) != 1 or len(args) != 1 or history[0] != previous:
            raise UnsupportedLayer(
                f"layer {layer.get('name')!r} does not take exactly the output of the layer before it ({previous!r}); "
                "the service takes a single chain of layers",
                f"{at}/layers/{i}/inbound_nodes",
            )
    outputs = config.get("output_layers")
    last = layers[-1].get("name")
    if outputs not in ([last, 0, 0], [[last, 0, 0]]):
        raise UnsupportedLayer(f"the model's output is {outputs!r}, not the last layer {last!r}", f"{at}/output_layers")


#: The layers a dense chain may have besides its Dense layers.
_KNOWN = frozenset({"InputLayer", "Dense"})


def _only_dense_layers(layers: list[dict[str, Any]], at: str) -> None:
    """UnsupportedLayer naming the first layer that is none of Dense, InputLayer, a skipped or an activation layer."""
    for i, layer in enumerate(layers):
        class_name = layer.get("class_name")
        if class_name not in _KNOWN and class_name not in SKIPPED_LAYERS and class_name not in ACTIVATION_LAYERS:
            name = str((layer.get("config") or {}).get("name", layer.get("name", f"layer {i}")))
            raise UnsupportedLayer(
                f"layer {name!r} is a {class_name}, which is not a dense layer; the service runs Dense layers only "
                f"(with InputLayer, Dropout and the activation layers {', '.join(ACTIVATION_LAYERS)})",
                f"{at}/config/layers/{i}",
            )


def read_config(model: Any, at: str) -> Chain:
    """The dense chain of a model config (``at``: the config's place in the file, for pointers)."""
    if not isinstance(model, dict) or model.get("class_name") not in ("Sequential", "Functional", "Model"):
        kind = model.get("class_name") if isinstance(model, dict) else type(model).__name__
        raise UnsupportedLayer(f"the model is a {kind}; the service reads a Sequential or Functional Keras model", f"{at}/class_name")
    config = model.get("config")
    layers = config.get("layers") if isinstance(config, dict) else None
    if not isinstance(layers, list) or not all(isinstance(layer, dict) for layer in layers) or not layers:
        raise CorruptFile("the model config has no list of layers", f"{at}/config/layers")
    _only_dense_layers(layers, at)  # a Conv2D or an LSTM is named first, before any shape of it is looked at
    functional = model["class_name"] != "Sequential"
    if functional:
        _chained(layers, dict(config or {}), f"{at}/config")
    # Keras names weight groups by the layers of `model.layers`: a Sequential's leaves out its InputLayer.
    stored = layers[1:] if not functional and layers[0].get("class_name") == "InputLayer" else layers
    offset = len(layers) - len(stored)
    groups = unique_names([str(layer.get("class_name")) for layer in stored])
    chain = Chain()
    folded: set[int] = set()
    for i, layer in enumerate(layers):
        class_name, cfg = layer.get("class_name"), layer.get("config") or {}
        name, where = str(cfg.get("name", layer.get("name", f"layer {i}"))), f"{at}/config/layers/{i}"
        if class_name == "InputLayer":
            shape = cfg.get("batch_shape") or cfg.get("batch_input_shape")
            if not (isinstance(shape, list) and len(shape) == 2 and isinstance(shape[1], int)):
                raise ShapeMismatch(f"the input layer {name!r} has shape {shape}; a dense network takes [batch, features]", where)
            chain.input_size = shape[1]
        elif class_name == "Dense":
            if cfg.get("quantization_config") or cfg.get("lora_rank"):
                raise UnsupportedLayer(f"layer {name!r} is a quantized or LoRA Dense; the service takes plain float weights", where)
            units, use_bias = cfg.get("units"), cfg.get("use_bias", True)
            if not isinstance(units, int) or units < 1 or not isinstance(use_bias, bool):
                raise CorruptFile(f"layer {name!r} has units={units!r}, use_bias={use_bias!r}", f"{where}/config")
            h = _keras_activation(cfg.get("activation", "linear"), f"{where}/config/activation", name)
            trainable = cfg.get("trainable", True)
            if not isinstance(trainable, bool):
                raise CorruptFile(f"layer {name!r} has trainable={trainable!r}; Keras writes true or false", f"{where}/config/trainable")
            chain.dense.append(Dense(name, units, use_bias, h, where, f"layers/{groups[i - offset]}", name, trainable))
        elif class_name in SKIPPED_LAYERS:
            chain.skipped.append({"layer": name, "type": class_name, "reason": SKIPPED_LAYERS[class_name]})
        elif class_name in ACTIVATION_LAYERS:
            h = _activation_layer(class_name, cfg, where, name)
            if not chain.dense:
                raise UnsupportedLayer(
                    f"layer {name!r} ({class_name}) comes before any Dense layer; the service has no input activation", where
                )
            previous = chain.dense[-1]
            if previous.activation != "linear" or id(previous) in folded:
                raise UnsupportedLayer(
                    f"layer {name!r} ({class_name}) follows Dense {previous.name!r}, whose activation is already "
                    f"{previous.activation!r}; a layer of the service has one activation",
                    where,
                )
            previous.activation, previous.activation_from = h, name
            folded.add(id(previous))
    if not chain.dense:
        raise UnsupportedLayer("the model has no Dense layer", f"{at}/config/layers")
    return chain
