"""Pure ASGI middleware that measures every HTTP request for :mod:`service.metrics`.

Pure ASGI (not Starlette's ``BaseHTTPMiddleware``): it wraps ``receive`` and
``send`` to count bytes and read the status, adds no task and no buffering, and
leaves streaming and cancellation alone.
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service import metrics

UNMATCHED = "<unmatched>"


def _route(scope: Scope, root_path: str) -> str:
    """The matched route's template (``/v1/backward``) or mount (``/docs-assets``), so labels stay few; never the raw path."""
    template = getattr(scope.get("route"), "path_format", None)
    if isinstance(template, str) and template:
        return template
    mounted = scope.get("root_path", "")  # a Mount appends its prefix to root_path
    return mounted[len(root_path) :] if len(mounted) > len(root_path) else UNMATCHED


class MetricsMiddleware:
    """Counts requests by route and status, and observes latency and body sizes."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        root_path = scope.get("root_path", "")
        measures = metrics.RequestMeasures()
        token = metrics.CURRENT.set(measures)
        received = sent = 0
        status = 500  # what the client gets if the app raises before it starts a response

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
            return message

        async def counting_send(message: Message) -> None:
            nonlocal sent, status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, counting_receive, counting_send)
        finally:
            metrics.CURRENT.reset(token)
            metrics.observe(_route(scope, root_path), scope["method"], status, time.perf_counter() - start, received, sent, measures)
