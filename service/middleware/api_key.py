"""API keys, checked from the headers alone, before the body is read; each key's tenant travels with the request.

The tenant (:mod:`service.tenants`) is put in the request's ``scope["state"]["tenant"]``, where the job and
dataset routes read it (:mod:`service.api.tenant`) and the access log names it.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from service.api.problems import problem_response
from service.errors import Unauthorized
from service.tenants import Keyring

#: What a key protects: the API. Probes (an orchestrator sends no key), /metrics (scraped inside the cluster), the docs
#: and their assets, and the learner's page (whose API calls send the key the user gives it) stay open.
PROTECTED_PREFIX = "/v1/"


def needs_key(path: str) -> bool:
    """Whether a request to ``path`` needs a key when the server has keys."""
    return path.startswith(PROTECTED_PREFIX)


def sent_key(headers: Headers) -> str:
    """The key a request carries: ``Authorization: Bearer <key>``, else ``X-API-Key`` ("" if none)."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else headers.get("x-api-key", "")


class ApiKeyMiddleware:
    """401 unless the request carries a key of ``keyring``; else its tenant goes into ``scope["state"]``."""

    def __init__(self, app: ASGIApp, keyring: Keyring) -> None:
        self.app = app
        self.keyring = keyring

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not needs_key(scope["path"]) or scope["method"] == "OPTIONS":
            await self.app(scope, receive, send)
            return
        tenant = self.keyring.tenant(sent_key(Headers(scope=scope)))
        if tenant is not None:
            scope.setdefault("state", {})["tenant"] = tenant
            await self.app(scope, receive, send)
            return
        problem = Unauthorized("this server needs an API key: send it as `Authorization: Bearer <key>` or `X-API-Key: <key>`")
        await problem_response(problem)(scope, receive, send)
