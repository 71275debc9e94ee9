"""The error a client raises when the service answers with problem+json (RFC 9457)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson


@dataclass(frozen=True)
class ProblemItem:
    pointer: str  #: JSON Pointer into the request body
    detail: str


@dataclass
class ProblemError(Exception):
    """The service answered with an error (RFC 9457 problem details)."""

    status: int
    type: str
    title: str
    detail: str
    errors: list[ProblemItem] = field(default_factory=list)
    errors_omitted: int = 0

    def __str__(self) -> str:
        return f"{self.status} {self.title}: {self.detail}"

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> ProblemError:
        items = [ProblemItem(e["pointer"], e["detail"]) for e in raw.get("errors", [])]
        return cls(raw["status"], raw["type"], raw["title"], raw.get("detail", ""), items, raw.get("errors_omitted", 0))

    @classmethod
    def from_response(cls, response: httpx.Response) -> ProblemError:
        try:
            raw = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raw = None
        if not (isinstance(raw, dict) and {"type", "title", "status"} <= raw.keys()):  # not problem+json (e.g. a proxy's page)
            return cls(response.status_code, "about:blank", response.reason_phrase, response.text[:500])
        return cls.from_json(raw)
