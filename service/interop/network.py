"""The network as read from or written to a file: the service's wire form, with NumPy arrays.

``{"layers": [{"weights": K × M array, "bias": K array or None, "activation": name or object}]}``;
W is always out × in inside (a Keras kernel or an ONNX ``MatMul`` matrix is its transpose).
The checks every format shares live here: tensor dtypes, finiteness, shapes that chain, and
activations that the engine knows (by its canonical names, parameters at their defaults omitted).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NotRequired, TypedDict

import numpy as np

from service.engine import get_activation
from service.engine.activations import catalog
from service.engine.arrays import Array
from service.engine.errors import EngineError
from service.interop.errors import BadArgument, NonFiniteWeight, ShapeMismatch, UnsupportedDtype

#: An activation as on the wire: a name, or ``{"name": ..., parameter: value}``.
ActivationSpec = str | dict[str, Any]


class WireLayer(TypedDict):
    weights: Array
    bias: Array | None
    activation: ActivationSpec
    trainable: NotRequired[bool]  #: present (False) only for a frozen layer, in the formats that carry it (Keras)


class WireNetwork(TypedDict):
    layers: list[WireLayer]


#: Source dtypes taken as they are, and those widened exactly to float32 (every float16 and bfloat16 value is a float32).
KEPT = {"float32", "float64"}
WIDENED = {"float16", "bfloat16"}


def tensor(value: Any, where: str) -> Array:
    """A float32 or float64 array of ``value`` (float16 / bfloat16 widened to float32); refuses other dtypes and NaN/Inf."""
    array = np.asarray(value)
    name = array.dtype.name
    if name in WIDENED:
        array = array.astype(np.float32)
    elif name not in KEPT:
        raise UnsupportedDtype(f"has dtype {name}; weights must be float32 or float64 (float16 and bfloat16 are widened to float32)", where)
    if not np.isfinite(array).all():
        bad = int(np.count_nonzero(~np.isfinite(array)))
        raise NonFiniteWeight(f"has {bad} NaN or infinite entr{'y' if bad == 1 else 'ies'}; every weight and bias must be finite", where)
    return array


def matrix(value: Any, where: str) -> Array:
    array = tensor(value, where)
    if array.ndim != 2 or 0 in array.shape:
        raise ShapeMismatch(f"has shape {list(array.shape)}; a dense layer's weights are a non-empty matrix", where)
    return array


def vector(value: Any, K: int, where: str) -> Array:
    array = tensor(value, where)
    if array.shape != (K,):
        raise ShapeMismatch(f"has shape {list(array.shape)}; the bias of a layer with {K} outputs has shape [{K}]", where)
    return array


def check_chain(layers: list[WireLayer], where: list[str]) -> None:
    """Layer l's W has as many columns as layer l−1's has rows; ``where[l]`` locates layer l's weights in the file."""
    for l in range(1, len(layers)):
        K_prev, M = layers[l - 1]["weights"].shape[0], layers[l]["weights"].shape[1]
        if K_prev != M:
            raise ShapeMismatch(f"layer {l} takes {M} inputs but layer {l - 1} has {K_prev} outputs; the layers do not chain", where[l])


_DEFAULTS: dict[str, dict[str, Any]] = {e.name: {p.name: p.default for p in e.parameters} for e in catalog()}


def activation(name: str, where: str, **params: Any) -> ActivationSpec:
    """The engine's spec for ``name`` with ``params``: its canonical name, parameters at their defaults left out.

    Refuses (BadArgument) a name or parameter the engine does not take.
    """
    try:
        canonical = get_activation(name, **params).name
    except EngineError as exc:
        raise BadArgument(str(exc), where) from None
    given = {k: v for k, v in params.items() if v != _DEFAULTS[canonical].get(k)}
    return {"name": canonical, **given} if given else canonical


def parse_activation(spec: Any, where: str) -> ActivationSpec:
    """A spec as sent (a name or an object), checked and made canonical."""
    if isinstance(spec, str):
        return activation(spec, where)
    if isinstance(spec, Mapping) and isinstance(spec.get("name"), str):
        return activation(spec["name"], where, **{k: v for k, v in spec.items() if k != "name"})
    raise BadArgument("an activation is a name or an object with a name and parameters", where)


def name_and_params(spec: ActivationSpec) -> tuple[str, dict[str, Any]]:
    """The canonical name and every parameter (defaults filled in) of a checked spec."""
    if isinstance(spec, str):
        canonical = get_activation(spec).name
        return canonical, dict(_DEFAULTS[canonical])
    canonical = get_activation(spec["name"], **{k: v for k, v in spec.items() if k != "name"}).name
    return canonical, {**_DEFAULTS[canonical], **{k: v for k, v in spec.items() if k != "name"}}


def from_wire(network: Mapping[str, Any]) -> WireNetwork:
    """A network in wire form (arrays or nested lists) checked as the writers need it."""
    layers: list[WireLayer] = []
    for l, layer in enumerate(network["layers"]):
        at = f"/network/layers/{l}"
        W = matrix(layer["weights"], f"{at}/weights")
        b = None if layer.get("bias") is None else vector(layer["bias"], W.shape[0], f"{at}/bias")
        wire: WireLayer = {"weights": W, "bias": b, "activation": parse_activation(layer.get("activation", "linear"), f"{at}/activation")}
        if layer.get("trainable", True) is False:
            wire["trainable"] = False
        layers.append(wire)
    check_chain(layers, [f"/network/layers/{l}/weights" for l in range(len(layers))])
    return {"layers": layers}


def tensor_source(key: str, array: Array, dtype: str, transposed: bool = False) -> dict[str, Any]:
    """What ``source`` says about one tensor read: its key, shape as stored, dtype as stored, and the transpose applied."""
    return {"key": key, "shape": list(array.shape[::-1] if transposed else array.shape), "dtype": dtype, "transposed": transposed}
