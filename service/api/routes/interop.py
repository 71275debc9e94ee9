"""POST /v1/networks/import and /v1/networks/export: Keras, PyTorch (safetensors) and ONNX files ⇄ the wire network.

HTTP binding only: the conversion is :mod:`service.interop`, whose errors the handlers answer as 422.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from service.api.body import file_bytes, json_body, json_bytes
from service.api.compute import parse
from service.config import get_settings
from service.errors import ERROR_RESPONSES, invalid, pointer
from service.interop import FORMATS, ExportFormatName, FormatName, read_network, write_network
from service.interop.formats import describe
from service.limits import LayerShape, check_network
from service.schemas.interop import ExportRequest, ImportResponse
from service.schemas.responses import dump

router = APIRouter(prefix="/v1", tags=["networks"], responses=ERROR_RESPONSES)

_FILE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            "multipart/form-data": {
                "schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}, "required": ["file"]}
            },
        },
    }
}
_FILE_ANSWER: dict[int | str, Any] = {
    200: {
        "content": {f.media_type: {"schema": {"type": "string", "format": "binary"}} for f in FORMATS if f.writes},
        "description": "The file",
    }
}


def _activations(raw: str | None) -> list[Any] | None:
    """``tanh,linear``, or a JSON array for activations with parameters (``["tanh", {"name": "leaky_relu", …}]``)."""
    if raw is None:
        return None
    if raw.lstrip().startswith("["):
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise invalid([(pointer("activations"), f"is not a JSON array ({exc})")]) from None
        if not isinstance(value, list):
            raise invalid([(pointer("activations"), "must be a JSON array or comma-separated names")])
        return value
    return [name.strip() for name in raw.split(",")]


def _import(data: bytes, format: str, activations: list[Any] | None, prefix: str | None, layers: list[str] | None) -> bytes:
    imported = read_network(
        format,
        data,
        activations=activations,
        prefix=prefix,
        layers=layers,
        max_uncompressed_bytes=get_settings().max_import_uncompressed_bytes,
    )
    wire = imported.network["layers"]
    shapes = [LayerShape(K=w.shape[0], M=w.shape[1], bias=0 if b is None else b.size) for w, b in ((l["weights"], l["bias"]) for l in wire)]
    check_network(shapes, 0)
    layers_out = [{k: v for k, v in layer.items() if not (k == "bias" and v is None)} for layer in wire]
    return dump({"network": {"layers": layers_out}, "source": imported.source})


@router.post(
    "/networks/import",
    response_model=ImportResponse,
    operation_id="import_network",
    summary="A network from a Keras, PyTorch (safetensors) or ONNX file",
    description="The file is the body (`Content-Type: application/octet-stream`) or the one file field of a form "
    "(`curl -F file=@model.keras`). Formats:\n\n" + describe(),
    openapi_extra=_FILE_BODY,
)
async def import_network(
    request: Request,
    format: Annotated[FormatName, Query(description="the file's format")],
    activations: Annotated[
        str | None,
        Query(description='safetensors: one per layer, `tanh,linear` or a JSON array (`["tanh", {"name": "elu", "alpha": 0.5}]`)'),
    ] = None,
    prefix: Annotated[str | None, Query(description="safetensors: a prefix of every key to strip, e.g. `model.`")] = None,
    layers: Annotated[str | None, Query(description="safetensors: the layers' key stems in order, e.g. `fc1,fc2`")] = None,
) -> Response:
    """The network in the file, W out × in, and `source`: what was read from where."""
    stems = None if layers is None else [s.strip() for s in layers.split(",")]
    async with file_bytes(request) as data:
        content = await run_in_threadpool(_import, data, format, _activations(activations), prefix, stems)
    return Response(content, media_type="application/json")


def _export(body: bytes | bytearray, format: str) -> tuple[bytes, str, str]:
    req = parse(body, ExportRequest)
    check_network(req.network.shapes(), 0)
    exported = write_network(format, req.wire_network(), req.dtype)
    return exported.content, exported.media_type, exported.filename


@router.post(
    "/networks/export",
    operation_id="export_network",
    summary="A network as a Keras, PyTorch (safetensors) or ONNX file",
    response_class=Response,
    responses=_FILE_ANSWER,
    openapi_extra=json_body(ExportRequest),
)
async def export_network(request: Request, format: Annotated[ExportFormatName, Query(description="the file's format")]) -> Response:
    """The network as a file that Keras (`keras.saving.load_model`), PyTorch (`safetensors.torch.load_file`) or onnxruntime loads."""
    async with json_bytes(request) as body:
        content, media_type, filename = await run_in_threadpool(_export, body, format)
    return Response(content, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'})
