"""API keys (off by default), CORS (off unless origins are set), request ids, and the 500 that leaks nothing."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers.clients import MakeClient
from tests.helpers.problems import assert_problem

KEYS = {"GRADIENT_API_KEYS": "k-one, k-two"}


def test_no_key_needed_by_default(client: TestClient, primer: dict[str, Any]) -> None:
    assert client.post("/v1/backward", json=primer["request"]).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [{}, {"authorization": "Bearer nope"}, {"x-api-key": "k-on"}, {"authorization": "Basic k-one"}],
    ids=["none", "wrong", "prefix", "basic"],
)
def test_missing_or_wrong_key_is_401_before_the_body_is_read(make_client: MakeClient, headers: dict[str, str]) -> None:
    client = make_client(**KEYS)
    # a body the route would refuse (not JSON): the 401 shows the key was checked first
    r = client.post("/v1/backward", content=b"not json", headers={"content-type": "application/json", **headers})
    assert_problem(r.status_code, r.headers, r.content, 401)
    assert r.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("headers", [{"authorization": "Bearer k-one"}, {"x-api-key": "k-two"}], ids=["bearer", "x-api-key"])
def test_a_configured_key_is_accepted(make_client: MakeClient, primer: dict[str, Any], headers: dict[str, str]) -> None:
    client = make_client(**KEYS)
    assert client.post("/v1/backward", json=primer["request"], headers=headers).status_code == 200


def test_probes_metrics_docs_and_their_assets_need_no_key(make_client: MakeClient) -> None:
    """A key protects /v1/ only: a readiness probe, a Prometheus scrape and the docs pages send none."""
    client = make_client(**KEYS)
    for path in ("/livez", "/readyz", "/metrics", "/openapi.json", "/docs", "/docs-assets/swagger-ui.css", "/learn"):
        assert client.get(path).status_code == 200, path
    assert client.get("/v1/limits").status_code == 401  # the check: the API itself still needs one


def test_keys_never_appear_in_the_limits_or_settings_repr(make_client: MakeClient) -> None:
    from service.config import get_settings

    client = make_client(**KEYS)
    assert "k-one" not in client.get("/v1/limits", headers={"x-api-key": "k-one"}).text
    assert "k-one" not in repr(get_settings())


def test_cors_is_off_by_default(client: TestClient) -> None:
    r = client.options("/v1/backward", headers={"origin": "https://example.org", "access-control-request-method": "POST"})
    assert "access-control-allow-origin" not in r.headers
    r = client.get("/livez", headers={"origin": "https://example.org"})
    assert "access-control-allow-origin" not in r.headers


def test_cors_allows_configured_origins_only(make_client: MakeClient) -> None:
    client = make_client(GRADIENT_CORS_ORIGINS="https://teach.example.org")
    preflight = {
        "origin": "https://teach.example.org",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
    }
    r = client.options("/v1/backward", headers=preflight)
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "https://teach.example.org"
    r = client.get("/livez", headers={"origin": "https://evil.example.com"})
    assert "access-control-allow-origin" not in r.headers


def test_request_id_is_generated_or_kept(client: TestClient) -> None:
    generated = client.get("/livez").headers["x-request-id"]
    assert len(generated) == 32
    assert client.get("/livez", headers={"x-request-id": "abc-123"}).headers["x-request-id"] == "abc-123"
    assert client.get("/v1/nope", headers={"x-request-id": "abc-124"}).headers["x-request-id"] == "abc-124"


@pytest.mark.parametrize("sent", ["a" * 129, "two words", "new\\nline", "<script>"])
def test_insane_request_id_is_replaced(client: TestClient, sent: str) -> None:
    assert client.get("/livez", headers={"x-request-id": sent}).headers["x-request-id"] != sent


def test_unexpected_error_is_500_problem_without_traceback_logged_with_request_id(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(raise_server_exceptions=False)

    def boom() -> None:
        raise RuntimeError("internal secret: /etc/passwd")

    client.app.add_api_route("/boom", boom)  # type: ignore[attr-defined]
    with caplog.at_level(logging.ERROR, logger="service.errors"):
        r = client.get("/boom", headers={"x-request-id": "trace-me-42"})
    problem = assert_problem(r.status_code, r.headers, r.content, 500, not_echoed=b"secret")
    assert "trace-me-42" in problem["detail"]
    assert r.headers["x-request-id"] == "trace-me-42"
    [record] = [rec for rec in caplog.records if rec.name == "service.errors"]
    assert record.exc_info is not None
    assert record.request_id == "trace-me-42"
