"""An in-process app built with environment overrides (settings are read when the app is created)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from fastapi.testclient import TestClient

from service.config import get_settings
from service.main import create_app
from tests.helpers.clients import MakeClient


@pytest.fixture
def make_client(monkeypatch: pytest.MonkeyPatch) -> Iterator[MakeClient]:
    """``make_client(GRADIENT_MAX_LAYERS="3", ...)``: a TestClient of an app built with those settings."""
    with ExitStack() as stack:

        def make(raise_server_exceptions: bool = True, **env: str) -> TestClient:
            for name, value in env.items():
                monkeypatch.setenv(name, value)
            get_settings.cache_clear()
            return stack.enter_context(TestClient(create_app(), raise_server_exceptions=raise_server_exceptions))

        yield make
    get_settings.cache_clear()
