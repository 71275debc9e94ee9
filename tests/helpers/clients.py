"""The type of the ``make_client`` fixture (tests/robustness/conftest.py), for the tests that take it."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

#: ``make_client(GRADIENT_MAX_LAYERS="3", ...)``: a TestClient of an app built with those settings.
MakeClient = Callable[..., TestClient]
