"""Request ids: ``X-Request-ID`` taken from the client (if it is a sane token) or generated, echoed, logged."""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.logs import request_id

log = logging.getLogger("service.access")

HEADER = "X-Request-ID"
_SANE = re.compile(r"[A-Za-z0-9._:-]{1,128}")


class RequestIdMiddleware:
    """Sets :data:`service.logs.request_id`, adds ``X-Request-ID`` to the response and logs one line per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = Headers(scope=scope).get(HEADER, "")
        rid = sent if _SANE.fullmatch(sent) else uuid.uuid4().hex  # never echo arbitrary text into headers and logs
        request_id.set(rid)  # not reset: the 500 handler, outside this middleware, still reads it
        status = 500
        start = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).append(HEADER, rid)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round(1000 * (time.perf_counter() - start), 2),
                    "tenant": scope.get("state", {}).get("tenant"),  # set by the API-key middleware; never the key
                },
            )
