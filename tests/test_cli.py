"""The console script starts one worker per CPU, and gives each worker its share of BLAS threads."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from service import children, cli
from service.config import Settings, available_cpus, get_settings
from service.metrics import MULTIPROC_ENV


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No GRADIENT_WORKERS or BLAS variables, no job workers, a data dir of its own; what the tests set is undone afterwards."""
    for name in ("GRADIENT_WORKERS", "GRADIENT_BLAS_THREADS", MULTIPROC_ENV, children.ENV, *cli.BLAS_THREAD_VARIABLES):
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    monkeypatch.setenv("GRADIENT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GRADIENT_JOB_WORKERS", "0")


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
    assert Settings().workers == 0  # one per CPU
    assert _run_with(monkeypatch, [])["workers"] == available_cpus() >= 1


def test_workers_from_the_environment_and_the_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADIENT_WORKERS", "3")
    assert _run_with(monkeypatch, [])["workers"] == 3
    assert _run_with(monkeypatch, ["--workers", "5"])["workers"] == 5


def test_workers_share_the_cpus_between_their_blas_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    _run_with(monkeypatch, ["--workers", "1"])
    assert {os.environ[name] for name in cli.BLAS_THREAD_VARIABLES} == {str(available_cpus())}


def test_an_operators_blas_setting_wins_unless_blas_threads_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "7")
    _run_with(monkeypatch, ["--workers", str(2 * available_cpus())])
    assert os.environ["OPENBLAS_NUM_THREADS"] == "7"
    assert os.environ["OMP_NUM_THREADS"] == "1"
    _run_with(monkeypatch, ["--blas-threads", "3"])
    assert {os.environ[name] for name in cli.BLAS_THREAD_VARIABLES} == {"3"}
