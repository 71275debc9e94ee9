"""Files on the wire: an uploaded one (with the validated query that says how to read it), and one sent back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

Q = TypeVar("Q")


@dataclass(frozen=True)
class Upload(Generic[Q]):
    """A file sent as the body (or as the one file field of a form), and the validated query parameters of its request."""

    query: Q
    data: bytes


@dataclass(frozen=True)
class FileAnswer:
    """A response that is a file: its bytes, media type and the name to save it under (empty: no Content-Disposition)."""

    content: bytes
    media_type: str
    filename: str = ""
