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

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import Request
from pydantic import BaseModel
from starlette.requests import ClientDisconnect

from service.api.gate import gate, receiving
from service.api.media import is_json, media_type
from service.api.memory import memory, numbers_in
from service.config import get_settings
from service.errors import BodyTimeout, BodyTooLarge, UnsupportedMediaType
from service.jobs.files import check_room, full, is_full, temporary_name
from service.metrics import count_rejection


@asynccontextmanager
async def json_bytes(request: Request, limit: str = "max_body_bytes", timeout: str = "body_timeout_seconds") -> AsyncIterator[bytearray]:
    """The body's bytes, received within the deadline, then held with a computation slot for the block.

    415 at once unless the body is JSON; the rest as :func:`_within_limit` says. ``limit`` and ``timeout``
    name the settings that bound it (POST /v1/datasets has its own).
    """
    if not is_json(request.headers.get("content-type", "")):
        raise UnsupportedMediaType("send the body as JSON with the header Content-Type: application/json")
    async with _within_limit(request, limit, timeout) as body:
        yield body


#: What the import route takes: the file as the body, or one file field of an HTML form (browsers, ``curl -F``).
FILE_MEDIA_TYPES = ("application/octet-stream", "multipart/form-data")


@asynccontextmanager
async def file_bytes(request: Request) -> AsyncIterator[tuple[bytearray, str]]:
    """The body's bytes and its Content-Type, for a file sent as the raw body (``application/octet-stream``)
    or as the one file field of ``multipart/form-data`` (:func:`service.api.upload.form_file` takes it out).

    The same limits as :func:`json_bytes` (413 over ``max_body_bytes``, a computation slot held for the block);
    415 for any other Content-Type.
    """
    content_type = request.headers.get("content-type", "")
    if media_type(content_type) not in FILE_MEDIA_TYPES:
        raise UnsupportedMediaType(
            "send the file as the body with Content-Type: application/octet-stream, or as one file field of multipart/form-data"
        )
    async with _within_limit(request) as body:
        yield body, content_type


@asynccontextmanager
async def _within_limit(
    request: Request, limit_name: str = "max_body_bytes", timeout_name: str = "body_timeout_seconds"
) -> AsyncIterator[bytearray]:
    """The body, received within its deadline, then held with a computation slot and its memory for the block.

    Receiving and computing are bounded apart, so a slow sender never holds a computation slot:

    1. 413 at once if the declared length is over ``max_body_bytes``, or its computation could never fit the memory budget;
    2. the body is received under :func:`~service.api.gate.receiving` (a large body may wait for room there) within
       ``body_timeout_seconds`` of the request's start, waiting included (408 after, the connection closed);
    3. then the computation's estimated peak memory (:mod:`~service.api.memory`: 503 if it does not fit now), which
       covers the body while it waits, and a slot of the :mod:`~service.api.gate` (a fast 503 if there is none),
       both held for the block.
    """
    settings = get_settings()
    limit: int = getattr(settings, limit_name)
    header = request.headers.get("content-length", "")
    declared = int(header) if header.isdigit() else None
    if declared is not None and declared > limit:
        raise too_large(limit, declared, name=limit_name)
    budget = memory()
    if declared is not None:
        budget.check_fits(declared)
    body = bytearray()  # one growing buffer: large, so malloc maps it and frees it back to the OS
    seconds: float = getattr(settings, timeout_name)
    try:
        async with asyncio.timeout(seconds), receiving(declared):  # one deadline for waiting for room and receiving
            commas = await _read(request, limit, body, limit_name)
    except TimeoutError:
        raise _timed_out(body, seconds, declared, timeout_name) from None
    # looking for binary tensors in 32 MiB takes a few ms: off the event loop for any but a small body
    small = len(body) <= settings.small_body_bytes
    numbers = numbers_in(body, commas) if small else await asyncio.to_thread(numbers_in, body, commas)
    # memory first: a body that waits for a computation slot holds its memory too, so the queue is bounded by the budget
    with budget.reserve(len(body), numbers):
        async with gate(len(body)).slot():
            yield body


async def _read(request: Request, limit: int, body: bytearray, name: str = "max_body_bytes") -> int:
    """Append the body to ``body`` as it arrives (413 past ``limit`` bytes); returns its commas, counted chunk by chunk
    while the rest arrives (the memory estimate's numbers, service/api/memory.py). ASGI messages are read directly:
    Starlette's ``request.stream()`` is an async generator, a few µs more for every request."""
    receive = request.receive
    commas = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk: bytes = message.get("body", b"")
        if len(body) + len(chunk) > limit:
            raise too_large(limit, len(body) + len(chunk), name=name)
        body += chunk
        commas += chunk.count(b",")
        if not message.get("more_body", False):
            return commas


def _timed_out(body: bytearray | int, seconds: float, declared: int | None, name: str = "body_timeout_seconds") -> BodyTimeout:
    count_rejection(name)
    size = body if isinstance(body, int) else len(body)
    sent = f"{size:,} bytes of the body arrived in {seconds:g} s" + (f" (of {declared:,} declared)" if declared is not None else "")
    return BodyTimeout(f"{sent}; the limit {name} is {seconds:g}: send the body faster, or a smaller one", [("", sent)])


def too_large(limit: int, size: int, when: str = "", name: str = "max_body_bytes") -> BodyTooLarge:
    """The refusal of a body of at least ``size`` bytes (``when``: e.g. "after gzip decoding"; ``name``: the limit's setting)."""
    count_rejection(name)
    sent = f"the body has at least {size:,} bytes{' ' + when if when else ''}"
    return BodyTooLarge(f"{sent}; the limit {name} is {limit:,}", [("", sent)])


@asynccontextmanager
async def body_to_disk(request: Request, directory: Path) -> AsyncIterator[Path]:
    """A file body (POST /v1/datasets), streamed into a temporary file in ``directory`` as it arrives; removed after the block.

    413 past ``max_dataset_body_bytes``, 408 after ``dataset_body_timeout_seconds``, 507 if it would leave less than
    ``min_free_disk_bytes`` free (checked on the declared length before anything is written, and as it arrives) or
    the disk fills. It is never whole in memory, and receiving it holds no computation slot. The file's name carries
    this process's id, so what a killed process leaves is recognized and cleaned at the next start.
    """
    settings = get_settings()
    limit, seconds, reserve = settings.max_dataset_body_bytes, settings.dataset_body_timeout_seconds, settings.min_free_disk_bytes
    header = request.headers.get("content-length", "")
    declared = int(header) if header.isdigit() else None
    if declared is not None and declared > limit:
        raise too_large(limit, declared, name="max_dataset_body_bytes")
    check_room(directory, declared or 0, reserve)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / temporary_name(".upload-")
    size, checked = 0, 0
    try:
        with path.open("wb") as f:
            try:
                async with asyncio.timeout(seconds):
                    async for chunk in request.stream():
                        size += len(chunk)
                        if size > limit:
                            raise too_large(limit, size, name="max_dataset_body_bytes")
                        if size - checked > DISK_CHECK_BYTES:  # a body without a length, or a disk that others fill
                            check_room(directory, 0, reserve)
                            checked = size
                        f.write(chunk)
            except TimeoutError:
                raise _timed_out(size, seconds, declared, "dataset_body_timeout_seconds") from None
            except OSError as exc:
                raise full(exc) if is_full(exc) else exc from None
        yield path
    finally:
        path.unlink(missing_ok=True)


#: Bytes of a file body received between two looks at the disk's free space.
DISK_CHECK_BYTES = 16 * 1024 * 1024


def json_body(model: type[BaseModel], examples: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """``openapi_extra`` declaring ``model`` as the JSON request body the route parses itself (the document's builder,
    service.api.openapi, describes every model an operation names).

    ``examples`` are OpenAPI named examples (``{name: {"summary", "value"}}``); the docs page
    offers them in a list and prefills the first.
    """
    media: dict[str, Any] = {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}
    if examples:
        media["examples"] = examples
    return {"requestBody": {"required": True, "content": {"application/json": media}}}
