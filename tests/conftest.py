"""Shared fixtures: the app under test and the primer's worked example."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.main import create_app
from tests.server import ServerProcess, running_server

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def primer() -> dict[str, Any]:
    """tests/data/primer-example.json, copied from ../shared/seed/."""
    return json.loads((DATA / "primer-example.json").read_text())


@pytest.fixture(scope="session")
def client() -> Iterator[TestClient]:
    with TestClient(create_app()) as c:
        yield c


@pytest.fixture(scope="session")
def server_process() -> Iterator[ServerProcess]:
    """One real ``gradient-service`` process (uvicorn, one worker) on a free 127.0.0.1 port, shared by the session."""
    with running_server() as server:
        yield server
