"""What every error response must look like: one problem+json shape, small, never echoing the input."""

from __future__ import annotations

from typing import Any

import orjson

from service.api.problems import problem_response
from service.errors import ServiceError

PROBLEM_KEYS = {"type", "title", "status", "detail", "errors", "errors_omitted"}
MAX_PROBLEM_BYTES = 64 * 1024


def assert_problem(
    status: int,
    headers: Any,
    body: bytes,
    expected: int,
    *,
    pointer: str | None = None,
    words: tuple[str, ...] | list[str] = (),
    not_echoed: bytes = b"",
) -> dict[str, Any]:
    """The response is ``expected`` as problem+json in the service's one shape; returns the parsed problem.

    With ``pointer``, one of its errors points there, and its detail contains each of ``words``.
    """
    assert status == expected, body[:2000]
    assert headers["content-type"] == "application/problem+json"
    assert len(body) < MAX_PROBLEM_BYTES
    problem: dict[str, Any] = orjson.loads(body)  # strict JSON: orjson refuses NaN and Infinity
    assert problem.keys() == PROBLEM_KEYS
    assert problem["status"] == expected
    assert problem["type"].startswith("urn:gradient-service:problem:")
    assert len(problem["errors"]) <= 20
    assert all(e.keys() == {"pointer", "detail"} for e in problem["errors"])
    assert "Traceback" not in problem["detail"]
    if not_echoed:
        assert not_echoed not in body
    if pointer is not None:
        pointers = [e["pointer"] for e in problem["errors"]]
        assert pointer in pointers, problem
        detail = next(e["detail"] for e in problem["errors"] if e["pointer"] == pointer)
        for word in words:
            assert word in detail, (word, detail)
    return problem


def assert_response_problem(
    r: Any, expected: int, pointer: str | None = None, words: tuple[str, ...] | list[str] = (), *, not_echoed: bytes = b""
) -> dict[str, Any]:
    """:func:`assert_problem` of an httpx (or TestClient) response."""
    return assert_problem(r.status_code, r.headers, r.content, expected, pointer=pointer, words=words, not_echoed=not_echoed)


def answer(exc: ServiceError) -> tuple[int, dict[str, str], dict[str, Any]]:
    """The status, headers and problem document the service answers a domain error with."""
    response = problem_response(exc)
    return response.status_code, dict(response.headers), orjson.loads(bytes(response.body))
