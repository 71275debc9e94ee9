"""Reading a JSON request body: once, from bytes, within the size limit.

FastAPI's own body handling parses with the stdlib ``json`` on the event loop
and then validates the resulting Python objects a second time. The computing
routes instead take the raw bytes and hand them to pydantic-core's JSON
validator, which checks them and builds the arrays in one pass (in a worker
thread, see :mod:`service.api.compute`); it is read in the route, not through a
FastAPI dependency, which costs ~0.1 ms per request. :func:`json_body` keeps the OpenAPI
docs complete by declaring the request body that the route parses itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Request
from pydantic import BaseModel

from service.api.gate import gate
from service.config import get_settings
from service.errors import ProblemError
from service.metrics import count_rejection


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


@asynccontextmanager
async def json_bytes(request: Request) -> AsyncIterator[bytearray]:
    """The body's bytes, read once this request holds a computation slot, which it keeps for the block.

    415 unless the body is JSON and 413 if its declared length is over
    ``max_body_bytes``, both at once; then a slot of the :mod:`~service.api.gate`
    (a fast 503 if there is none), and only then the body, which is not read at
    all while the request waits: a queue of requests holds no bodies in memory.
    """
    if not _is_json(request.headers.get("content-type", "")):
        raise ProblemError(
            415,
            "send the body as JSON with the header Content-Type: application/json",
            [],
            "unsupported-media-type",
            "Unsupported Media Type",
        )
    async with _within_limit(request) as body:
        yield body


#: What the import route takes: the file as the body, or one file field of an HTML form (browsers, ``curl -F``).
FILE_MEDIA_TYPES = ("application/octet-stream", "multipart/form-data")


@asynccontextmanager
async def file_bytes(request: Request) -> AsyncIterator[bytes]:
    """A file sent as the raw body (``application/octet-stream``) or as the one file field of ``multipart/form-data``.

    The same limits as :func:`json_bytes` (413 over ``max_body_bytes``, a computation slot held for the block);
    415 for any other Content-Type.
    """
    content_type = request.headers.get("content-type", "")
    media = content_type.split(";", 1)[0].strip().lower()
    if media not in FILE_MEDIA_TYPES:
        raise ProblemError(
            415,
            "send the file as the body with Content-Type: application/octet-stream, or as one file field of multipart/form-data",
            [],
            "unsupported-media-type",
            "Unsupported Media Type",
        )
    async with _within_limit(request) as body:
        yield bytes(body) if media == "application/octet-stream" else form_file(bytes(body), content_type)


def form_file(body: bytes, content_type: str) -> bytes:
    """The content of the one file field of a multipart/form-data body (400 for none, several, or a malformed body)."""
    from python_multipart.multipart import MultipartParser, parse_options_header

    _, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if not boundary:
        raise ProblemError(
            400, "the multipart/form-data Content-Type has no boundary", [], "malformed-multipart", "Malformed multipart body"
        )
    parts: list[tuple[bytes, bytearray]] = []  # (Content-Disposition, content) of each part
    header: list[bytes] = [b"", b""]

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header[0] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header[1] += data[start:end]

    def on_header_end() -> None:
        if header[0].lower() == b"content-disposition":
            parts[-1] = (header[1], parts[-1][1])
        header[0], header[1] = b"", b""

    def on_part_begin() -> None:
        parts.append((b"", bytearray()))

    def on_part_data(data: bytes, start: int, end: int) -> None:
        parts[-1][1].extend(data[start:end])

    callbacks: Any = {
        "on_part_begin": on_part_begin,
        "on_part_data": on_part_data,
        "on_header_field": on_header_field,
        "on_header_value": on_header_value,
        "on_header_end": on_header_end,
    }
    try:
        parser = MultipartParser(boundary, callbacks)
        parser.write(body)
        parser.finalize()
    except Exception as exc:  # python-multipart's MultipartParseError and friends
        raise ProblemError(
            400, f"the multipart/form-data body is malformed ({exc})", [], "malformed-multipart", "Malformed multipart body"
        ) from None
    files = [content for disposition, content in parts if b"filename=" in disposition]
    if len(files) != 1:
        detail = f"the form has {len(files)} file fields; send exactly one (e.g. curl -F file=@model.keras)"
        raise ProblemError(400, detail, [("", detail)], "malformed-multipart", "Malformed multipart body")
    return bytes(files[0])


@asynccontextmanager
async def _within_limit(request: Request) -> AsyncIterator[bytearray]:
    limit = get_settings().max_body_bytes
    header = request.headers.get("content-length", "")
    declared = int(header) if header.isdigit() else None
    if declared is not None and declared > limit:
        raise too_large(limit, declared)
    async with gate(declared).slot():
        yield await _read(request, limit)


async def _read(request: Request, limit: int) -> bytearray:
    body = bytearray()  # one growing buffer: large, so malloc maps it and frees it back to the OS
    async for chunk in request.stream():
        if len(body) + len(chunk) > limit:
            raise too_large(limit, len(body) + len(chunk))
        body += chunk
    return body


def too_large(limit: int, size: int, when: str = "") -> ProblemError:
    """The 413 for a body of at least ``size`` bytes (``when``: e.g. "after gzip decoding")."""
    count_rejection("max_body_bytes")
    sent = f"the body has at least {size:,} bytes{' ' + when if when else ''}"
    return ProblemError(413, f"{sent}; the limit max_body_bytes is {limit:,}", [("", sent)], "body-too-large", "Content Too Large")


#: The models named by :func:`json_body`; their schemas join the OpenAPI components.
REQUEST_MODELS: list[type[BaseModel]] = []


def json_body(model: type[BaseModel], examples: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """``openapi_extra`` declaring ``model`` as the JSON request body the route parses itself.

    ``examples`` are OpenAPI named examples (``{name: {"summary", "value"}}``); the docs page
    offers them in a list and prefills the first.
    """
    REQUEST_MODELS.append(model)
    media: dict[str, Any] = {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}
    if examples:
        media["examples"] = examples
    return {"requestBody": {"required": True, "content": {"application/json": media}}}
