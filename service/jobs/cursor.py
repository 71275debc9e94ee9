"""The cursor of a page of jobs: where the last job of the page stands in the newest-first order (its creation time and id).

Opaque to clients; a cursor that is not one is an :class:`~service.errors.InvalidRequest` pointing at ``cursor``.
"""

from __future__ import annotations

import re

from service.errors import invalid

_CURSOR = re.compile(r"(\d+(?:\.\d+)?(?:e[+-]?\d+)?)~([0-9a-f]{32})")


def cursor_of(created: float, job_id: str) -> str:
    """The cursor after the job created at ``created`` with id ``job_id``."""
    return f"{created!r}~{job_id}"


def after_cursor(cursor: str) -> tuple[float, str]:
    """The creation time and id a cursor points after."""
    match = _CURSOR.fullmatch(cursor)
    if match is None:
        raise invalid([("/cursor", "is not a cursor this service gave (send the `next` of the previous page, or none for the first)")])
    return float(match[1]), match[2]
