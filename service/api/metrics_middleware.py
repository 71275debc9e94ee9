"""The route label of a request's metrics: its matched route's template, never the raw path.

:class:`service.middleware.front.FrontMiddleware` (pure ASGI: it wraps ``receive`` and ``send`` to count bytes and read
the status, adds no task and no buffering, and leaves streaming and cancellation alone) measures every HTTP request.
"""

from __future__ import annotations

from starlette.types import Scope

UNMATCHED = "<unmatched>"


def route_label(scope: Scope, root_path: str) -> str:
    """The matched route's template (``/v1/backward``) or mount (``/docs-assets``), so labels stay few; never the raw path."""
    template = getattr(scope.get("route"), "path_format", None)
    if isinstance(template, str) and template:
        return template
    mounted = scope.get("root_path", "")  # a Mount appends its prefix to root_path
    return mounted[len(root_path) :] if len(mounted) > len(root_path) else UNMATCHED
