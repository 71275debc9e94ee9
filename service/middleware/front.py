"""The outermost middleware: every HTTP request gets its id and its access-log line, and is measured for /metrics.

One pure-ASGI layer for what were two (request ids, metrics): each layer costs a call and a ``send`` wrapper per
message, and the primer's request pays for every one. What each part does is where it was:
:mod:`service.middleware.request_id` (the id, the log line), :mod:`service.api.metrics_middleware` (the route label),
:mod:`service.metrics` (the series).
"""

from __future__ import annotations

import time

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service import metrics
from service.api.metrics_middleware import route_label
from service.logs import request_id
from service.middleware.request_id import HEADER, log_request, request_id_of


class FrontMiddleware:
    """Sets the request id (echoed in ``X-Request-ID``, logged once per request) and records the request's metrics."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        root_path = scope.get("root_path", "")
        rid = request_id_of(scope)
        request_id.set(rid)  # not reset: the 500 handler, outside this middleware, still reads it
        measures = metrics.RequestMeasures()
        token = metrics.CURRENT.set(measures)
        status, received, sent = 500, 0, 0  # 500: what the client gets if the app raises before it starts a response

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
            return message

        async def send_measured(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).append(HEADER, rid)
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, counting_receive, send_measured)
        finally:
            seconds = time.perf_counter() - start
            metrics.CURRENT.reset(token)
            log_request(scope, status, seconds)
            metrics.observe(route_label(scope, root_path), scope["method"], status, seconds, received, sent, measures)
