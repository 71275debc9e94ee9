"""Optional API keys, checked from the headers alone, before the body is read."""

from __future__ import annotations

import hmac

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from service.api.problems import problem_response
from service.errors import Unauthorized

#: What a key protects: the API. Probes (an orchestrator sends no key), /metrics (scraped inside the cluster), the docs
#: and their assets, and the learner's page (whose API calls send the key the user gives it) stay open.
PROTECTED_PREFIX = "/v1/"


def needs_key(path: str) -> bool:
    """Whether a request to ``path`` needs a key when the server has keys."""
    return path.startswith(PROTECTED_PREFIX)


class ApiKeyMiddleware:
    """401 unless ``Authorization: Bearer <key>`` or ``X-API-Key: <key>`` carries one of ``keys``."""

    def __init__(self, app: ASGIApp, keys: list[str]) -> None:
        self.app = app
        self.keys = [k.encode() for k in keys]

    def _accepts(self, headers: Headers) -> bool:
        auth = headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        sent = token.strip() if scheme.lower() == "bearer" else headers.get("x-api-key", "")
        # compare with every key, so the time taken does not reveal which one nearly matched
        return sum(hmac.compare_digest(sent.encode(), key) for key in self.keys) > 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not needs_key(scope["path"]) or scope["method"] == "OPTIONS":
            await self.app(scope, receive, send)
            return
        if self._accepts(Headers(scope=scope)):
            await self.app(scope, receive, send)
            return
        problem = Unauthorized("this server needs an API key: send it as `Authorization: Bearer <key>` or `X-API-Key: <key>`")
        await problem_response(problem)(scope, receive, send)
