"""POST /v1/networks/import and /v1/networks/export: Keras, PyTorch (safetensors) and ONNX files ⇄ the wire network.

HTTP binding only: the handlers are service/handlers/interop.py, the conversion :mod:`service.interop`.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from service.api.body import json_body
from service.api.compute import compute, compute_upload
from service.api.problems import ERROR_RESPONSES
from service.handlers import interop
from service.interop import FORMATS, ExportFormatName
from service.interop.formats import describe
from service.schemas.interop import ExportRequest, ImportQuery, ImportResponse

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


@router.post(
    "/networks/import",
    response_model=ImportResponse,
    operation_id="import_network",
    summary="A network from a Keras, PyTorch (safetensors) or ONNX file",
    description="The file is the body (`Content-Type: application/octet-stream`) or the one file field of a form "
    "(`curl -F file=@model.keras`). Formats:\n\n" + describe(),
    openapi_extra=_FILE_BODY,
)
async def import_network(request: Request, query: Annotated[ImportQuery, Query()]) -> Response:
    """The network in the file, W out × in, and `source`: what was read from where."""
    return await compute_upload(request, query, interop.import_network)


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
    return await compute(request, ExportRequest, partial(interop.export_network, format=format))
