"""CPU work leaves the event loop for a worker thread, except for bodies too small to be worth the hop."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.api import compute
from tests.api.test_binary_tensors import request


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
    assert len(r.request.content) > compute.INLINE_MAX_BODY_BYTES
    assert threads == ["AnyIO worker thread"]


def test_the_primer_example_is_computed_inline(client: TestClient, threads: list[str], primer: dict[str, Any]) -> None:
    r = client.post("/v1/backward", json=primer["request"])
    assert r.status_code == 200
    assert len(r.request.content) <= compute.INLINE_MAX_BODY_BYTES
    assert threads != ["AnyIO worker thread"]
    assert len(threads) == 1
