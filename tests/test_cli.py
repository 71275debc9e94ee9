"""The console script starts one worker per CPU unless told otherwise."""

from __future__ import annotations

from typing import Any

import pytest

from service import cli
from service.config import Settings, available_cpus, get_settings


def _run_with(monkeypatch: pytest.MonkeyPatch, argv: list[str]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    monkeypatch.setattr(cli.uvicorn, "run", lambda app, **options: seen.update(options, app=app))
    get_settings.cache_clear()
    try:
        cli.main(argv)
    finally:
        get_settings.cache_clear()
    return seen


def test_workers_default_to_the_available_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GRADIENT_WORKERS", raising=False)
    assert Settings().workers == available_cpus() >= 1
    assert _run_with(monkeypatch, [])["workers"] == available_cpus()


def test_workers_from_the_environment_and_the_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADIENT_WORKERS", "3")
    assert _run_with(monkeypatch, [])["workers"] == 3
    assert _run_with(monkeypatch, ["--workers", "5"])["workers"] == 5
