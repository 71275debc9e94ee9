"""Hostile bodies get a small, clear 4xx problem+json, never a 500 and never an echo of what was sent."""

from __future__ import annotations

import gzip
from typing import Any

import numpy as np
import orjson
import pytest
from fastapi.testclient import TestClient

from tests.helpers.problems import assert_problem

JSON = {"content-type": "application/json"}
PRIMER_NETWORK = (
    b'{"layers": [{"weights": [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]], "activation": "tanh"},'
    b' {"weights": [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]}]}'
)


def post(client: TestClient, body: bytes, path: str = "/v1/backward", headers: dict[str, str] | None = None) -> Any:
    return client.post(path, content=body, headers=headers or JSON)


def problem(r: Any, status: int, not_echoed: bytes = b"") -> dict[str, Any]:
    return assert_problem(r.status_code, r.headers, r.content, status, not_echoed=not_echoed)


def test_100k_deep_nesting_is_a_small_422(client: TestClient) -> None:
    body = b'{"network": ' + b"[" * 100_000 + b"]" * 100_000 + b', "x": [1.0, 2.0], "t": [1.0, 1.15]}'
    p = problem(post(client, body), 422)
    assert "nested deeper" in p["errors"][0]["detail"]


def test_5000_digit_number_is_a_422(client: TestClient) -> None:
    digits = b"9" * 5000
    body = b'{"network": ' + PRIMER_NETWORK + b', "x": [' + digits + b', 2.0], "t": [1.0, 1.15]}'
    p = problem(post(client, body), 422, not_echoed=digits[:50])
    assert "digits" in p["detail"]


def test_5000_digit_fraction_is_accepted_as_its_float(client: TestClient) -> None:
    """Many digits after the point are still a valid float64 (rounded), so the request computes."""
    body = b'{"network": ' + PRIMER_NETWORK + b', "x": [1.' + b"0" * 5000 + b', 2.0], "t": [1.0, 1.15]}'
    assert post(client, body).status_code == 200


def test_200k_invalid_items_give_a_small_422(client: TestClient) -> None:
    body = b'{"network": ' + PRIMER_NETWORK + b', "x": [' + b",".join([b'"SECRET"'] * 200_000) + b'], "t": [1.0, 1.15]}'
    p = problem(post(client, body), 422, not_echoed=b"SECRET")
    assert len(p["errors"]) + p["errors_omitted"] >= 1
    assert p["errors"][0]["pointer"] == "/x/0"


BAD_NUMBERS = [b"NaN", b"Infinity", b"-Infinity", b'"nan"', b"1e400", b"-1e400", b"true", b"false", b'"1.5"', b'"0"', b"null"]


@pytest.mark.parametrize("token", BAD_NUMBERS, ids=[t.decode() for t in BAD_NUMBERS])
@pytest.mark.parametrize("field", ["weights", "x"])
def test_bad_number_at_a_random_position_is_pointed_at(client: TestClient, token: bytes, field: str) -> None:
    """Two bad values at random (seeded) places of a 12 × 7 matrix: the first is the first error listed."""
    rng = np.random.default_rng(sum(token) + len(field))
    values = [[f"{v:.3f}".encode() for v in row] for row in rng.uniform(-1, 1, size=(12, 7))]
    first, second = sorted(rng.choice(12 * 7, size=2, replace=False))
    for k in (first, second):
        values[k // 7][k % 7] = token
    matrix = b"[" + b", ".join(b"[" + b", ".join(row) + b"]" for row in values) + b"]"
    row = b"[[" + b", ".join([b"0.5"] * 7) + b"]]"  # 1 × 7: one point for the 12 × 7 W, or the W for 12 points
    weights, x = (matrix, row) if field == "weights" else (row, matrix)
    body = b'{"network": {"layers": [{"weights": ' + weights + b"}]}, " + b'"x": ' + x + b"}"
    p = problem(post(client, body, "/v1/forward"), 422)
    base = "/network/layers/0/weights" if field == "weights" else "/x"
    assert p["errors"][0]["pointer"] == f"{base}/{first // 7}/{first % 7}"
    assert "number" in p["errors"][0]["detail"]


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"])
def test_missing_or_wrong_content_type_is_415(client: TestClient, primer: dict[str, Any], content_type: str | None) -> None:
    headers = {} if content_type is None else {"content-type": content_type}
    r = client.post("/v1/backward", content=b'{"x": 1}', headers=headers)
    problem(r, 415)


def test_json_with_charset_is_accepted(client: TestClient, primer: dict[str, Any]) -> None:
    r = post(client, orjson.dumps(primer["request"]), headers={"content-type": "application/json; charset=utf-8"})
    assert r.status_code == 200


@pytest.mark.parametrize("encoding", ["br", "deflate", "compress", "zstd", "gzip, br"])
def test_unknown_content_encoding_is_415(client: TestClient, encoding: str) -> None:
    p = problem(post(client, b"{}", headers={**JSON, "content-encoding": encoding}), 415)
    assert "gzip" in p["detail"]


def test_gzip_body_is_accepted(client: TestClient, primer: dict[str, Any]) -> None:
    plain = post(client, orjson.dumps(primer["request"]))
    zipped = post(client, gzip.compress(orjson.dumps(primer["request"])), headers={**JSON, "content-encoding": "gzip"})
    assert zipped.status_code == 200
    assert zipped.content == plain.content


def test_gzip_bomb_is_413_after_the_limit(client: TestClient) -> None:
    """256 MiB of zeros gzip to ~250 KiB; decoding stops at max_body_bytes + 1 bytes."""
    bomb = gzip.compress(b"0" * (256 * 1024 * 1024), compresslevel=9)
    assert len(bomb) < 2 * 1024 * 1024
    p = problem(post(client, bomb, headers={**JSON, "content-encoding": "gzip"}), 413)
    assert "after gzip decoding" in p["detail"]


BROKEN_GZIP = {
    "garbage": b"not gzip at all",
    "truncated": gzip.compress(b'{"x": [1.0, 2.0]}')[:-12],
    "trailing bytes": gzip.compress(b'{"x": [1.0, 2.0]}') + b"{}",
}


@pytest.mark.parametrize("body", BROKEN_GZIP.values(), ids=BROKEN_GZIP.keys())
def test_broken_gzip_is_400(client: TestClient, body: bytes) -> None:
    p = problem(post(client, body, headers={**JSON, "content-encoding": "gzip"}), 400)
    assert "gzip" in p["detail"]


@pytest.mark.parametrize(("method", "path", "status"), [("GET", "/v1/nope", 404), ("GET", "/v1/backward", 405), ("DELETE", "/livez", 405)])
def test_starlettes_own_errors_are_problem_json(client: TestClient, method: str, path: str, status: int) -> None:
    problem(client.request(method, path), status)


# Lists of bad items: pydantic reports every bad item by default, and each error
# costs ~1 KB of server memory: 10M bad layers in a 29 MiB body took 110 s and 12 GB.
# With fail_fast, a list stops at its first bad item: one error, whatever the length.
BAD_LISTS = {
    "layers": b'{"network": {"layers": [' + b"{}," * 999_999 + b'{}]}, "x": [1.0]}',
    "optimizer slots": b'{"network": {"layers": [{"weights": [[1.0]]}]}, "x": [1.0], "t": [1.0], "optimizer": {"name": "sgd"},'
    b' "optimizer_state": {"step": 0, "slots": {"m": [' + b"{}," * 999_999 + b"{}]}}}",
}


@pytest.mark.parametrize("body", BAD_LISTS.values(), ids=BAD_LISTS.keys())
def test_a_million_bad_items_cost_one_error(client: TestClient, body: bytes) -> None:
    p = problem(post(client, body, "/v1/train-step"), 422)
    assert p["errors_omitted"] == 0


def test_a_hundred_thousand_empty_rows_cost_one_error(client: TestClient) -> None:
    """Without fail_fast: 100k errors (~200 MB); a 32 MiB body of `[],` would need ~20 GB."""
    body = b'{"network": {"layers": [{"weights": [[1.0]]}]}, "x": [' + b"[]," * 99_999 + b"[]]}"
    p = problem(post(client, body, "/v1/forward"), 422)
    assert p["errors_omitted"] == 0


def test_a_huge_key_is_not_echoed_in_full(client: TestClient) -> None:
    """A 1 MB optimizer slot name: the 422 points at it, cut short, and stays under 64 KiB."""
    key = "k" * 1_000_000
    body = {
        "network": {"layers": [{"weights": [[1.0]]}]},
        "x": [1.0],
        "t": [1.0],
        "optimizer": {"name": "sgd"},
        "optimizer_state": {"step": 0, "slots": {key: []}},
    }
    p = problem(post(client, orjson.dumps(body), "/v1/train-step"), 422, not_echoed=key[:2000].encode())
    assert p["errors"][0]["pointer"].startswith("/optimizer_state/slots/kkk")
