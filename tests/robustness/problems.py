"""What every error response must look like: one problem+json shape, small, never echoing the input."""

from __future__ import annotations

from typing import Any

import orjson

PROBLEM_KEYS = {"type", "title", "status", "detail", "errors", "errors_omitted"}
MAX_PROBLEM_BYTES = 64 * 1024


def assert_problem(status: int, headers: Any, body: bytes, expected: int, *, not_echoed: bytes = b"") -> dict[str, Any]:
    """The response is ``expected`` as problem+json in the service's one shape; returns the parsed problem."""
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
    return problem
