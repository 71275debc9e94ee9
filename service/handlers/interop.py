"""/v1/networks/import and /v1/networks/export: a Keras, safetensors or ONNX file ⇄ the wire network."""

from __future__ import annotations

from typing import Any

from service.config import get_settings
from service.engine.arrays import Checkpoint, no_checkpoint
from service.interop import read_network, write_network
from service.schemas.files import FileAnswer, Upload
from service.schemas.interop import ExportRequest, ImportQuery, import_body, import_inputs


def import_network(upload: Upload[ImportQuery], checkpoint: Checkpoint = no_checkpoint) -> dict[str, Any]:
    """The network in the file (W out × in, Keras kernels transposed, ONNX Gemm's transB honoured) and what was read."""
    i = import_inputs(upload)
    imported = read_network(
        i.format,
        i.data,
        activations=i.activations,
        prefix=i.prefix,
        layers=i.layers,
        max_uncompressed_bytes=get_settings().max_import_uncompressed_bytes,
    )
    return import_body(imported)


def export_network(req: ExportRequest, checkpoint: Checkpoint = no_checkpoint, *, format: str) -> FileAnswer:
    """The network as a file of ``format`` that Keras, PyTorch (safetensors) or onnxruntime loads."""
    network, dtype = req.to_engine()
    exported = write_network(format, network, dtype)
    return FileAnswer(exported.content, exported.media_type, exported.filename)
