"""A PyTorch state_dict saved with safetensors: ``N.weight`` (out × in, as W) and ``N.bias`` of an nn.Sequential.

The file holds tensors only, no code and no activations. Layers are the keys ``<prefix><stem>.weight``
in the numeric order of their stems (``0``, ``2``, ``4`` …: the activations between Linear layers
have no parameters), or the stems given in ``layers``. Activations come as an argument, one per
layer, or from the file's metadata when this service wrote it (``gradient_service.activations``).
F16 and BF16 tensors are widened to float32 (exactly); other non-float dtypes are refused.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import safetensors
from safetensors.numpy import save

from service.engine.arrays import Array
from service.interop.errors import BadArgument, CorruptFile, KeyMismatch, UnsupportedDtype
from service.interop.network import WireLayer, WireNetwork, check_chain, matrix, parse_activation, tensor_source, vector

METADATA_KEY = "gradient_service.activations"
#: safetensors' own reader (typed here: the binding has no annotations): [(key, {"dtype", "shape", "data"})]
_deserialize: Callable[[bytes], list[tuple[str, dict[str, Any]]]] = safetensors.deserialize
_DTYPES: dict[str, np.dtype[Any]] = {"F32": np.dtype("<f4"), "F64": np.dtype("<f8"), "F16": np.dtype("<f2")}


def _array(key: str, info: dict[str, Any]) -> tuple[Array, str]:
    """The tensor's values (F16, BF16 widened to float32) and its dtype as stored."""
    dtype, shape, data = info["dtype"], info["shape"], info["data"]
    if dtype == "BF16":  # a bfloat16 is the top half of a float32: widening is exact
        bits = np.frombuffer(data, dtype="<u2").astype(np.uint32) << 16
        return bits.view(np.float32).reshape(shape), dtype
    if dtype not in _DTYPES:
        raise UnsupportedDtype(f"has dtype {dtype}; weights must be F32 or F64 (F16 and BF16 are widened to float32)", f"/{key}")
    values = np.frombuffer(data, dtype=_DTYPES[dtype]).reshape(shape)
    return (values.astype(np.float32) if dtype == "F16" else values.astype(values.dtype.newbyteorder("="))), dtype


def _metadata(data: bytes) -> dict[str, str]:
    size = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + size])  # safetensors.deserialize has read and checked this header already
    metadata = header.get("__metadata__") or {}
    return {str(k): str(v) for k, v in metadata.items()}


def _stems(keys: list[str], prefix: str) -> list[str]:
    """``<prefix>N.weight`` stems in numeric order; every key must be such a weight or its bias."""
    stems = []
    for key in keys:
        if not key.startswith(prefix):
            raise KeyMismatch(f"does not start with the prefix {prefix!r}; pass prefix= or layers= to say which keys are layers", f"/{key}")
        stem, _, kind = key[len(prefix) :].rpartition(".")
        if kind not in ("weight", "bias") or not stem.isdigit():
            raise KeyMismatch(
                "is not <N>.weight or <N>.bias of an nn.Sequential of Linear layers (a BatchNorm's or a Conv's tensor?); "
                "pass layers= with the key stems of the Linear layers if the names differ",
                f"/{key}",
            )
        if kind == "weight":
            stems.append(stem)
    return sorted(stems, key=int)


def read_safetensors(
    data: bytes, *, activations: Sequence[Any] | None = None, prefix: str | None = None, layers: Sequence[str] | None = None
) -> dict[str, Any]:
    """The network of a safetensors state_dict, its activations from ``activations`` or the file's metadata."""
    try:
        tensors = dict(_deserialize(data))
        metadata = _metadata(data)
    except (safetensors.SafetensorError, ValueError) as exc:
        raise CorruptFile(f"is not a safetensors file ({exc})", "") from None
    prefix = prefix or ""
    if layers is None:
        stems = [prefix + s for s in _stems(sorted(tensors), prefix)]
    else:
        stems = [prefix + s for s in layers]
        extra = sorted(set(tensors) - {f"{s}.{kind}" for s in stems for kind in ("weight", "bias")})
        if extra:
            raise KeyMismatch(f"is not the weight or bias of a layer in layers={list(layers)}", f"/{extra[0]}")
    if not stems:
        raise KeyMismatch("the file has no <N>.weight tensor: no Linear layer", "")
    if activations is None:
        if METADATA_KEY not in metadata:
            raise BadArgument(f"a state_dict carries no activations: pass activations, one per Linear layer ({len(stems)} here)", "")
        activations = json.loads(metadata[METADATA_KEY])
        taken_from = "file metadata"
    else:
        taken_from = "argument"
    if not isinstance(activations, list | tuple) or len(activations) != len(stems):
        count = len(activations) if isinstance(activations, list | tuple) else "no list of"
        raise BadArgument(f"has {count} activations; the file has {len(stems)} Linear layers ({', '.join(stems)})", "/activations")
    result: list[WireLayer] = []
    sources = []
    for l, (stem, h) in enumerate(zip(stems, activations, strict=True)):
        if f"{stem}.weight" not in tensors:
            raise KeyMismatch(f"is missing (the weight of layer {stem!r})", f"/{stem}.weight")
        W_raw, W_dtype = _array(f"{stem}.weight", tensors[f"{stem}.weight"])
        W = matrix(W_raw, f"/{stem}.weight")
        b, b_source = None, None
        if f"{stem}.bias" in tensors:
            b_raw, b_dtype = _array(f"{stem}.bias", tensors[f"{stem}.bias"])
            b = vector(b_raw, W.shape[0], f"/{stem}.bias")
            b_source = tensor_source(f"{stem}.bias", b, b_dtype)
        result.append({"weights": W, "bias": b, "activation": parse_activation(h, f"/activations/{l}")})
        sources.append({"name": stem, "type": "Linear", "weights": tensor_source(f"{stem}.weight", W, W_dtype), "bias": b_source})
    check_chain(result, [f"/{s}.weight" for s in stems])
    network: WireNetwork = {"layers": result}
    return {"network": network, "source": {"layers": sources, "activations_from": taken_from, "skipped": []}}


def write_safetensors(network: WireNetwork, dtype: str) -> bytes:
    """``0.weight``, ``0.bias``, ``2.weight`` … as ``nn.Sequential(Linear, activation, Linear, …)``'s state_dict names them."""
    tensors: dict[str, np.ndarray[Any, Any]] = {}
    for l, layer in enumerate(network["layers"]):
        tensors[f"{2 * l}.weight"] = np.ascontiguousarray(layer["weights"], dtype=dtype)
        if layer["bias"] is not None:
            tensors[f"{2 * l}.bias"] = np.ascontiguousarray(layer["bias"], dtype=dtype)
    activations = json.dumps([layer["activation"] for layer in network["layers"]])
    return bytes(save(tensors, metadata={METADATA_KEY: activations}))
