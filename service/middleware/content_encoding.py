"""Request bodies sent with ``Content-Encoding: gzip``, decoded as they stream in, within the size limit.

The limit applies to the decoded bytes, so a small gzip bomb is refused with a
413 after at most ``max_bytes`` (+1) decoded bytes; any other encoding is a 415.
"""

from __future__ import annotations

import asyncio
import zlib

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.body import too_large
from service.api.problems import problem_response
from service.errors import MalformedBody, UnsupportedMediaType

_GZIP = frozenset({"gzip", "x-gzip"})
_IDENTITY = frozenset({"", "identity"})


class ContentEncodingMiddleware:
    """Decodes gzip request bodies; 415 for an encoding other than gzip or identity."""

    def __init__(self, app: ASGIApp, max_bytes: int, path_limits: dict[str, tuple[int, str]] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.path_limits = path_limits or {}  # a path's own limit and its setting's name (POST /v1/datasets)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        encoding = Headers(scope=scope).get("content-encoding", "").strip().lower()
        if encoding in _IDENTITY:
            await self.app(scope, receive, send)
        elif encoding in _GZIP:
            # the decoded body has no declared length; body.py counts the decoded bytes as they come
            headers = [(k, v) for k, v in scope["headers"] if k not in (b"content-encoding", b"content-length")]
            max_bytes, name = self.path_limits.get(scope.get("path", ""), (self.max_bytes, "max_body_bytes"))
            await self.app({**scope, "headers": headers}, _GunzipReceive(receive, max_bytes, name), send)
        else:
            problem = UnsupportedMediaType(
                f"Content-Encoding {encoding!r} is not supported; send the body as it is or with Content-Encoding: gzip"
            )
            await problem_response(problem)(scope, receive, send)


#: Decoded bytes per step. Decoding runs on the event loop; between steps it serves others.
STEP_BYTES = 1 << 20


class _GunzipReceive:
    """A ``receive`` that gunzips the body in steps of at most STEP_BYTES, refusing more than ``max_bytes`` decoded bytes."""

    def __init__(self, receive: Receive, max_bytes: int, name: str = "max_body_bytes") -> None:
        self.name = name
        self.receive = receive
        self.max_bytes = max_bytes
        self.decoded = 0
        self.decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        self.pending = b""  # compressed bytes received but not yet decoded
        self.full = False  # the last step filled its output: zlib may hold more
        self.more_body = True

    async def __call__(self) -> Message:
        if self.pending or self.full:
            await asyncio.sleep(0)  # a step done: let the event loop serve other requests
        else:
            message = await self.receive()
            if message["type"] != "http.request":
                return message
            self.pending, self.more_body = message.get("body", b""), message.get("more_body", False)
        room = min(STEP_BYTES, self.max_bytes - self.decoded + 1)  # +1 tells "too large" from "exactly full"
        try:
            body = self.decompressor.decompress(self.pending, room)
        except zlib.error as exc:
            raise _not_gzip(str(exc)) from None
        self.pending, self.full = self.decompressor.unconsumed_tail, len(body) == room
        self.decoded += len(body)
        if self.decoded > self.max_bytes:
            raise too_large(self.max_bytes, self.decoded, "after gzip decoding", name=self.name)
        if self.decompressor.unused_data:
            raise _not_gzip("there are bytes after the end of the gzip stream")
        more = self.more_body or bool(self.pending) or (self.full and not self.decompressor.eof)
        if not more and not self.decompressor.eof:
            raise _not_gzip("the gzip stream ends early")
        return {"type": "http.request", "body": body, "more_body": more}


def _not_gzip(why: str) -> MalformedBody:
    return MalformedBody(f"the body is not valid gzip: {why}", [("", f"not valid gzip: {why}")], what="gzip")
