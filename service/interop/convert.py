"""``read_network`` and ``write_network``: a file in one of :data:`~service.interop.formats.FORMATS` ⇄ the wire network."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from service.interop.archive import refuse_pickle
from service.interop.errors import BadArgument
from service.interop.formats import BY_NAME
from service.interop.network import WireNetwork, from_wire

# The readers import h5py, onnx (1.4 s) and safetensors: each is imported on its format's first use, so
# the service starts as fast as before and a worker that never converts never loads them.

#: The default of ``max_uncompressed_bytes``; the service passes its setting ``max_import_uncompressed_bytes``.
DEFAULT_MAX_UNCOMPRESSED_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class Imported:
    """A network read from a file: the wire form (NumPy arrays, W out × in) and what was read (``source``)."""

    network: WireNetwork
    source: dict[str, Any]  #: format, each layer's tensors (key, shape and dtype as stored, transposed or not), what was skipped


@dataclass(frozen=True)
class Exported:
    """A network written as a file."""

    content: bytes
    media_type: str
    filename: str


def _only(format: str, given: dict[str, Any]) -> None:
    unused = [name for name, value in given.items() if value is not None]
    if unused:
        raise BadArgument(f"{', '.join(unused)} only appl{'ies' if len(unused) == 1 else 'y'} to safetensors, not to {format}", "")


def read_network(
    format: str,
    data: bytes,
    *,
    activations: Sequence[Any] | None = None,
    prefix: str | None = None,
    layers: Sequence[str] | None = None,
    max_uncompressed_bytes: int = DEFAULT_MAX_UNCOMPRESSED_BYTES,
) -> Imported:
    """The network in ``data``, a file in ``format``; raises an :class:`~service.interop.errors.InteropError` saying what and where.

    ``activations`` (one per layer, names or objects), ``prefix`` and ``layers`` (key stems) apply to safetensors.
    ``max_uncompressed_bytes`` bounds what a zip unpacks (a zip bomb stops there). Nothing in the file is executed:
    pickles are refused, and so are references to other files (ONNX external data, HDF5 external links).
    """
    if format not in BY_NAME:
        raise BadArgument(f"unknown format {format!r}; the formats are {', '.join(BY_NAME)}", "")
    refuse_pickle(data)
    if format == "safetensors":
        from service.interop.safetensors_format import read_safetensors

        result = read_safetensors(data, activations=activations, prefix=prefix, layers=layers)
    else:
        _only(format, {"activations": activations, "prefix": prefix, "layers": layers})
        if format in ("keras", "keras_json"):
            from service.interop.keras_format import read_keras, read_keras_json

            result = read_keras(data, max_uncompressed_bytes=max_uncompressed_bytes) if format == "keras" else read_keras_json(data)
        else:
            from service.interop.onnx_format import read_onnx

            result = read_onnx(data)
    return Imported(result["network"], {"format": format, **result["source"]})


def write_network(format: str, network: Mapping[str, Any], dtype: str = "float32") -> Exported:
    """``network`` (wire form: arrays or nested lists) as a file in ``format``, its tensors in ``dtype``.

    Raises :class:`~service.interop.errors.NotExpressible` for an activation the format cannot carry.
    """
    described = BY_NAME.get(format)
    if described is None or not described.writes:
        writable = ", ".join(f.name for f in BY_NAME.values() if f.writes)
        raise BadArgument(f"cannot write format {format!r}; the formats written are {writable}", "")
    if dtype not in ("float32", "float64"):
        raise BadArgument(f"dtype {dtype!r}: float32 or float64", "/dtype")
    checked = from_wire(network)
    if format == "keras":
        from service.interop.keras_format import write_keras as write
    elif format == "safetensors":
        from service.interop.safetensors_format import write_safetensors as write
    else:
        from service.interop.onnx_format import write_onnx as write
    return Exported(write(checked, dtype), described.media_type, described.filename)
