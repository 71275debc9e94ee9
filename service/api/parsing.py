"""Validating a request body, in the worker thread that computes it: its numeric arrays go straight into NumPy.

:func:`service.schemas.json_arrays.validate_json` reads the arrays with simdjson, a piece of at most 256 KiB
per call, and leaves pydantic only the document's skeleton, so no call holds the GIL for long: /livez answers
within 100 ms while the largest allowed body (32 MiB) is parsed (``benchmarks/livez.py``). Parsing in a
separate process, which that once needed, no longer pays: there are no parse processes.
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel

from service.schemas.json_arrays import validate_json

M = TypeVar("M", bound=BaseModel)


def parse(body: bytes | bytearray, model: type[M]) -> M:
    """``body`` validated as ``model``; a ValidationError becomes its domain error. Call it from a worker thread."""
    return validate_json(body, model)


def parse_and_free(body: bytearray, model: type[M]) -> M:
    """:func:`parse`, then the body's bytes are freed: from here on the request's arrays are all its computation holds
    (for 17-digit numbers the JSON is 2.5 times their float64 arrays)."""
    parsed = parse(body, model)
    body.clear()
    return parsed
