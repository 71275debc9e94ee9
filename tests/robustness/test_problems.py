"""The shape check every robustness test relies on does refuse what it should."""

from __future__ import annotations

import pytest

from tests.helpers.problems import assert_problem

GOOD = b'{"type":"urn:gradient-service:problem:x","title":"X","status":422,"detail":"d","errors":[],"errors_omitted":0}'
PROBLEM = {"content-type": "application/problem+json"}


def test_a_conforming_problem_passes() -> None:
    assert assert_problem(422, PROBLEM, GOOD, 422)["detail"] == "d"


@pytest.mark.parametrize(
    ("status", "headers", "body"),
    [
        (500, PROBLEM, GOOD.replace(b"422", b"500")),  # not the expected status
        (422, {"content-type": "application/json"}, GOOD),  # FastAPI's default media type
        (422, PROBLEM, b'{"detail":[{"loc":["body"],"msg":"x","input":NaN}]}'),  # FastAPI's default 422, not strict JSON
        (422, PROBLEM, GOOD.replace(b'"errors_omitted":0', b'"input":1,"errors_omitted":0')),  # an extra member
        (422, PROBLEM, GOOD[:-1] + b"," + b'"pad":"' + b"x" * 70_000 + b'"}'),  # over 64 KiB
    ],
    ids=["status", "media type", "fastapi default", "extra member", "too large"],
)
def test_a_nonconforming_response_fails(status: int, headers: dict[str, str], body: bytes) -> None:
    with pytest.raises((AssertionError, ValueError)):
        assert_problem(status, headers, body, 422)
