"""Media types of requests: the one place a Content-Type or an Accept header is read."""

from __future__ import annotations

NDJSON = "application/x-ndjson"


def media_type(content_type: str | None) -> str:
    """The media type of a Content-Type header, without parameters, lower case ("" if none)."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def is_json(content_type: str | None) -> bool:
    """Whether a Content-Type is JSON: ``application/json`` or any ``application/*+json``."""
    media = media_type(content_type)
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def accepts(accept: str | None, media: str) -> bool:
    """Whether an Accept header lists ``media`` (parameters such as ``q`` ignored)."""
    return any(media_type(part) == media for part in (accept or "").split(","))
