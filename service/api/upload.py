"""Uploaded files: the raw body, or the one file field of a multipart/form-data form (browsers, ``curl -F``)."""

from __future__ import annotations

from typing import Any

from service.api.media import media_type
from service.errors import MalformedBody


def form_file(body: bytes | bytearray, content_type: str) -> bytes:
    """The file: the body itself, or the content of the one file field of a multipart/form-data body.

    A malformed form, or one with no or several file fields, is a :class:`~service.errors.MalformedBody` (400).
    CPU-bound for a large body: call it in a worker thread.
    """
    if media_type(content_type) != "multipart/form-data":
        return bytes(body)
    from python_multipart.multipart import MultipartParser, parse_options_header

    _, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if not boundary:
        raise MalformedBody("the multipart/form-data Content-Type has no boundary", what="multipart")
    parts: list[tuple[bytes, bytearray]] = []  # (Content-Disposition, content) of each part
    header: list[bytes] = [b"", b""]

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header[0] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header[1] += data[start:end]

    def on_header_end() -> None:
        if header[0].lower() == b"content-disposition":
            parts[-1] = (header[1], parts[-1][1])
        header[0], header[1] = b"", b""

    def on_part_begin() -> None:
        parts.append((b"", bytearray()))

    def on_part_data(data: bytes, start: int, end: int) -> None:
        parts[-1][1].extend(data[start:end])

    callbacks: Any = {
        "on_part_begin": on_part_begin,
        "on_part_data": on_part_data,
        "on_header_field": on_header_field,
        "on_header_value": on_header_value,
        "on_header_end": on_header_end,
    }
    try:
        parser = MultipartParser(boundary, callbacks)
        parser.write(bytes(body))
        parser.finalize()
    except Exception as exc:  # python-multipart's MultipartParseError and friends
        raise MalformedBody(f"the multipart/form-data body is malformed ({exc})", what="multipart") from None
    files = [content for disposition, content in parts if b"filename=" in disposition]
    if len(files) != 1:
        detail = f"the form has {len(files)} file fields; send exactly one (e.g. curl -F file=@model.keras)"
        raise MalformedBody(detail, [("", detail)], what="multipart")
    return bytes(files[0])
