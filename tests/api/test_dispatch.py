"""CPU work leaves the event loop for a worker thread, except for bodies too small to be worth the hop."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.api import compute
from service.config import get_settings
from tests.helpers.tensors import request


@pytest.fixture
def threads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    names: list[str] = []

    def dump(body: dict[str, Any]) -> bytes:
        names.append(threading.current_thread().name)
        return original(body)

    original = compute.dump
    monkeypatch.setattr(compute, "dump", dump)
    return names


def test_large_bodies_are_computed_off_the_event_loop(client: TestClient, threads: list[str]) -> None:
    body = request("float64", False, "json")
    r = client.post("/v1/backward", json=body)
    assert r.status_code == 200
    assert len(r.request.content) > get_settings().inline_max_body_bytes
    assert threads == ["AnyIO worker thread"]


def test_the_primer_example_is_computed_inline(client: TestClient, threads: list[str], primer: dict[str, Any]) -> None:
    r = client.post("/v1/backward", json=primer["request"])
    assert r.status_code == 200
    assert len(r.request.content) <= get_settings().inline_max_body_bytes
    assert threads != ["AnyIO worker thread"]
    assert len(threads) == 1


def test_a_client_that_leaves_mid_body_is_not_an_unexpected_error(caplog: pytest.LogCaptureFixture) -> None:
    """A load generator stopping mid-request: a quiet 400, not a logged 500."""
    import asyncio

    from service.main import create_app

    app = create_app()
    messages = iter([{"type": "http.request", "body": b'{"network": ', "more_body": True}, {"type": "http.disconnect"}])
    sent: list[dict[str, Any]] = []
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/backward",
        "raw_path": b"/v1/backward",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"100000")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
        "state": {},
    }

    async def receive() -> dict[str, Any]:
        return next(messages, {"type": "http.disconnect"})

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 400
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
