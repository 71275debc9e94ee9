"""The embedded backend: ``gradient-service`` alone runs jobs (its own worker processes), and killing its whole
process group and starting it again on the same GRADIENT_DATA_DIR resumes every job, bit for bit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.jobs.conftest import FAST, REFERENCE, wait_for
from tests.jobs.test_trainings import N, T, X, request, tensor
from tests.server import ROOT, ServerProcess, _wait_ready, free_port

pytestmark = pytest.mark.slow


@contextmanager
def service(data_dir: Path, log_name: str) -> Iterator[ServerProcess]:
    """``python -m service.cli`` in a process group of its own (web and job workers), on ``data_dir``."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), **FAST, **REFERENCE, "GRADIENT_DATA_DIR": str(data_dir), "GRADIENT_DRAIN_SECONDS": "0"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log_path = data_dir / log_name
    cmd = [sys.executable, "-m", "service.cli", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    with log_path.open("wb") as log:
        process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    server = ServerProcess(f"http://127.0.0.1:{port}", port, process, log_path)
    try:
        _wait_ready(server, 60)
        yield server
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(30)


def test_killing_the_process_group_and_starting_again_resumes_every_job(tmp_path: Path) -> None:
    epochs = 60
    body = {**request(epochs), "x": tensor(X), "t": tensor(T)}  # inline data: stored as a dataset
    with service(tmp_path, "first.log") as s:
        ids = [httpx.post(f"{s.url}/v1/trainings", json={**body, "seed": seed}, timeout=60).json()["id"] for seed in (1, 2)]
        wait_for(f"{s.url}/v1/trainings/{ids[0]}", lambda j: j["progress"]["step"] >= 100, what="step 100")
        os.killpg(s.process.pid, signal.SIGKILL)
        s.process.wait()
    with service(tmp_path, "second.log") as s:
        for seed, job_id in zip((1, 2), ids, strict=True):
            job = wait_for(f"{s.url}/v1/trainings/{job_id}", lambda j: j["state"] in ("succeeded", "failed"), timeout=120, what="resumed")
            assert job["state"] == "succeeded", job
            steps = httpx.get(f"{s.url}/v1/trainings/{job_id}/metrics", params={"max_points": 100_000}).json()["steps"]
            assert steps == list(range(1, epochs * N // 128 + 1))
            result = httpx.get(f"{s.url}/v1/trainings/{job_id}/result").json()
            reference = httpx.post(f"{s.url}/v1/train", json={**body, "seed": seed}, timeout=180).json()
            assert result == reference
