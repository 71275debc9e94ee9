"""POST /v1/networks/import and /export on the wire: a file in, a network out; a network in, a file out."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from service.schemas.base import WireModel
from service.schemas.network import Dtype, NetworkIn
from service.schemas.responses import NetworkOut


class ExportRequest(WireModel):
    """A network to write as a file."""

    network: NetworkIn
    dtype: Dtype = Field("float32", description="the dtype of the file's tensors (float32: what Keras, PyTorch and ONNX use by default)")

    def wire_network(self) -> dict[str, Any]:
        """The network as :func:`service.interop.write_network` takes it."""
        return {
            "layers": [
                {"weights": layer.weights, "bias": layer.bias, "activation": activation}
                for layer, activation in zip(self.network.layers, self.network.activations(), strict=True)
            ]
        }


class ImportResponse(BaseModel):
    network: NetworkOut = Field(description="ready to send as `network` to /v1/forward, /v1/backward, /v1/train-step or /v1/train")
    source: dict[str, Any] = Field(
        description="what was read: the format, each layer's tensors (key in the file, shape and dtype as stored, whether it was "
        "transposed), where each activation came from, and the layers skipped (e.g. Dropout) with the reason"
    )
