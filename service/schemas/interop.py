"""/v1/networks/import and /export on the wire: a file and its query in, a network out; a network in, a file out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import BaseModel, Field

from service.errors import invalid, pointer
from service.interop import ExportFormatName, FormatName, Imported
from service.limits import LayerShape, check_network
from service.schemas.base import WireModel
from service.schemas.files import Upload
from service.schemas.network import Dtype, Network


@dataclass(frozen=True)
class ImportInputs:
    """:func:`service.interop.read_network`'s arguments."""

    format: str
    data: bytes
    activations: list[Any] | None
    prefix: str | None
    layers: list[str] | None


class ImportQuery(WireModel):
    """How to read the file: its format, and for a safetensors state_dict its activations and keys."""

    format: FormatName = Field(description="the file's format")
    activations: str | None = Field(
        None, description='safetensors: one per layer, `tanh,linear` or a JSON array (`["tanh", {"name": "elu", "alpha": 0.5}]`)'
    )
    prefix: str | None = Field(None, description="safetensors: a prefix of every key to strip, e.g. `model.`")
    layers: str | None = Field(None, description="safetensors: the layers' key stems in order, e.g. `fc1,fc2`")

    def activation_list(self) -> list[Any] | None:
        """``tanh,linear``, or a JSON array for activations with parameters (``["tanh", {"name": "leaky_relu", …}]``)."""
        if self.activations is None:
            return None
        if self.activations.lstrip().startswith("["):
            try:
                value = orjson.loads(self.activations)
            except orjson.JSONDecodeError as exc:
                raise invalid([(pointer("activations"), f"is not a JSON array ({exc})")]) from None
            if not isinstance(value, list):
                raise invalid([(pointer("activations"), "must be a JSON array or comma-separated names")])
            return value
        return [name.strip() for name in self.activations.split(",")]


def import_inputs(upload: Upload[ImportQuery]) -> ImportInputs:
    """The reader's arguments from the file and its query."""
    q = upload.query
    stems = None if q.layers is None else [s.strip() for s in q.layers.split(",")]
    return ImportInputs(q.format, upload.data, q.activation_list(), q.prefix, stems)


def import_body(imported: Imported) -> dict[str, Any]:
    """The import response, after checking the network read against the limits (as any network sent is)."""
    layers = imported.network["layers"]
    check_network(
        [LayerShape(K=l["weights"].shape[0], M=l["weights"].shape[1], bias=0 if l["bias"] is None else l["bias"].size) for l in layers], 0
    )
    wire = [{k: v for k, v in layer.items() if not (k == "bias" and v is None)} for layer in layers]
    return {"network": {"layers": wire}, "source": imported.source}


class ExportRequest(WireModel):
    """A network to write as a file."""

    network: Network = Field(description="the network to write; W out × in (a Keras kernel is written as its transpose)")
    dtype: Dtype = Field("float32", description="the dtype of the file's tensors (float32: what Keras, PyTorch and ONNX use by default)")

    def to_engine(self) -> tuple[dict[str, Any], str]:
        """The network as :func:`service.interop.write_network` takes it (within the limits), and the dtype."""
        check_network(self.network.shapes(), 0)
        return self.network.as_arrays(), self.dtype


class ImportResponse(BaseModel):
    """The network read from the file, in the service's form, and what was read from where."""

    network: Network = Field(description="ready to send as `network` to /v1/forward, /v1/backward, /v1/train-step or /v1/train")
    source: dict[str, Any] = Field(
        description="what was read: the format, each layer's tensors (key in the file, shape and dtype as stored, whether it was "
        "transposed), where each activation came from, and the layers skipped (e.g. Dropout) with the reason"
    )


__all__ = ["ExportFormatName", "ExportRequest", "ImportInputs", "ImportQuery", "ImportResponse", "import_body", "import_inputs"]
