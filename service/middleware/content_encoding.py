"""Request bodies sent with ``Content-Encoding: gzip``, decoded as they stream in, within the size limit.

The limit applies to the decoded bytes, so a small gzip bomb is refused with a
413 after at most ``max_bytes`` (+1) decoded bytes; any other encoding is a 415.
"""

from __future__ import annotations

import zlib

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.body import too_large
from service.errors import ProblemError, problem_response

_GZIP = frozenset({"gzip", "x-gzip"})
_IDENTITY = frozenset({"", "identity"})


class ContentEncodingMiddleware:
    """Decodes gzip request bodies; 415 for an encoding other than gzip or identity."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

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
            await self.app({**scope, "headers": headers}, _GunzipReceive(receive, self.max_bytes), send)
        else:
            problem = ProblemError(
                415,
                f"Content-Encoding {encoding!r} is not supported; send the body as it is or with Content-Encoding: gzip",
                [],
                "unsupported-media-type",
                "Unsupported Media Type",
            )
            await problem_response(problem)(scope, receive, send)


class _GunzipReceive:
    """A ``receive`` that gunzips each body chunk, refusing more than ``max_bytes`` decoded bytes."""

    def __init__(self, receive: Receive, max_bytes: int) -> None:
        self.receive = receive
        self.max_bytes = max_bytes
        self.decoded = 0
        self.decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)

    async def __call__(self) -> Message:
        message = await self.receive()
        if message["type"] != "http.request":
            return message
        room = self.max_bytes - self.decoded + 1  # one byte more than allowed tells "too large" from "exactly full"
        try:
            body = self.decompressor.decompress(message.get("body", b""), room)
        except zlib.error as exc:
            raise _not_gzip(str(exc)) from None
        self.decoded += len(body)
        if self.decoded > self.max_bytes:
            raise too_large(self.max_bytes, self.decoded, "after gzip decoding")
        if self.decompressor.unused_data:
            raise _not_gzip("there are bytes after the end of the gzip stream")
        if not message.get("more_body", False) and not self.decompressor.eof:
            raise _not_gzip("the gzip stream ends early")
        return {**message, "body": body}


def _not_gzip(why: str) -> ProblemError:
    return ProblemError(400, f"the body is not valid gzip: {why}", [("", f"not valid gzip: {why}")], "malformed-body", "Malformed body")
