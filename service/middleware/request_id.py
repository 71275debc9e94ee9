"""Request ids: ``X-Request-ID`` taken from the client (if it is a sane token) or generated, echoed, logged.

:class:`service.middleware.front.FrontMiddleware` sets it, echoes it and logs each request with these two functions.
"""

from __future__ import annotations

import logging
import re
import uuid

from starlette.datastructures import Headers
from starlette.types import Scope

log = logging.getLogger("service.access")

HEADER = "X-Request-ID"
_SANE = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def request_id_of(scope: Scope) -> str:
    """The client's ``X-Request-ID`` if it is a sane token, else a new one (arbitrary text is never echoed or logged)."""
    sent = Headers(scope=scope).get(HEADER, "")
    return sent if _SANE.fullmatch(sent) else uuid.uuid4().hex


def log_request(scope: Scope, status: int, seconds: float) -> None:
    """The request's one access-log line (its id comes from :data:`service.logs.request_id`; its tenant, if any, from the
    API-key middleware: never the key)."""
    if log.isEnabledFor(logging.INFO):
        log.info(
            "request",
            extra={
                "method": scope["method"],
                "path": scope["path"],
                "status": status,
                "duration_ms": round(1000 * seconds, 2),
                "tenant": scope.get("state", {}).get("tenant"),
            },
        )
