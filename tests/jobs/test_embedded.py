"""The embedded backend: ``gradient-service`` alone runs jobs (its own worker processes), and killing its whole
process group and starting it again on the same GRADIENT_DATA_DIR resumes every job, bit for bit."""

from __future__ import annotations

import os
import signal
from contextlib import AbstractContextManager
from pathlib import Path

import httpx
import pytest

from tests.jobs.conftest import FAST, REFERENCE, wait_for
from tests.jobs.test_trainings import N, T, X, request, tensor
from tests.server import ServerProcess, console_script

pytestmark = pytest.mark.slow


def service(data_dir: Path, log_name: str) -> AbstractContextManager[ServerProcess]:
    """The console script on ``data_dir`` (web and its job worker), in a process group of its own."""
    return console_script(data_dir, data_dir / log_name, {**FAST, **REFERENCE})


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
