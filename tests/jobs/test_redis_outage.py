"""Redis goes away for 10 s and comes back (a real redis-server with AOF, stopped and started again), while a job runs.

During the gap the job routes answer 503 problem+json naming the backend, with Retry-After, and /readyz is 503
(/livez stays 200); after it, with nothing restarted by hand, the job finishes and its result equals an
undisturbed run's bit for bit, on the same worker process throughout.
"""

from __future__ import annotations

import io
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from tests.jobs.conftest import FAST, REFERENCE, Deployment, deployed, wait_for
from tests.jobs.test_trainings import T, X, request, tensor
from tests.server import free_port

pytestmark = pytest.mark.slow

REDIS = shutil.which("redis-server")
GAP_SECONDS = 10


class RedisServer:
    """A redis-server of this test on a fixed loopback port and folder, with AOF (everysec), that can be stopped and started."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        assert REDIS is not None
        cmd = [REDIS, "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.folder), "--save", ""]
        cmd += ["--appendonly", "yes", "--appendfsync", "everysec"]
        self.process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import redis

        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(self.url).ping()
                return
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)

    def stop(self) -> None:
        """As an operator stops it (SIGTERM: redis-server writes its AOF and exits)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(10)
        self.process = None


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    if REDIS is None:
        pytest.skip("redis-server is not installed: apt-get install redis-server (.ci/run installs it)")
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def deployment(redis_server: RedisServer, tmp_path: Path) -> Iterator[Deployment]:
    env = {**FAST, **REFERENCE, "GRADIENT_DATA_DIR": str(tmp_path / "data"), "GRADIENT_JOBS_BACKEND": "redis"}
    (tmp_path / "data").mkdir()
    with deployed(Deployment("redis", {**env, "GRADIENT_REDIS_URL": redis_server.url}, tmp_path / "data", log_dir=tmp_path)) as d:
        yield d


def problem(r: httpx.Response) -> dict[str, Any]:
    assert r.status_code == 503, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert int(r.headers["retry-after"]) >= 1
    body = dict(r.json())
    assert body["type"] == "urn:gradient-service:problem:redis-unavailable"
    return body


def test_a_redis_outage_is_503_meanwhile_and_the_job_finishes_bit_for_bit(deployment: Deployment, redis_server: RedisServer) -> None:
    d = deployment
    buf = io.BytesIO()
    np.savez(buf, x=X, t=T)
    dataset = httpx.post(f"{d.url}/v1/datasets", content=buf.getvalue(), headers={"Content-Type": "application/octet-stream"}, timeout=60)
    assert dataset.status_code == 201, dataset.text
    epochs = 40  # 320 steps of a 784-128-10 network
    job = httpx.post(f"{d.url}/v1/trainings", json={**request(epochs), "dataset": dataset.json()["id"]}, timeout=60).json()["id"]
    wait_for(f"{d.url}/v1/trainings/{job}", lambda j: j["progress"]["step"] >= 50, what="running")
    worker = d.workers[0]
    pid = worker.pid

    redis_server.stop()
    gap_started = time.monotonic()
    problem(httpx.get(f"{d.url}/v1/trainings/{job}", timeout=30))
    problem(httpx.get(f"{d.url}/v1/trainings", timeout=30))
    problem(httpx.post(f"{d.url}/v1/trainings", json={**request(1), "dataset": dataset.json()["id"]}, timeout=30))
    problem(httpx.get(f"{d.url}/v1/datasets/{dataset.json()['id']}", timeout=30))
    deadline = time.monotonic() + 5
    while (ready := httpx.get(f"{d.url}/readyz")).status_code != 503:
        assert time.monotonic() < deadline, "/readyz still 200 with Redis away"
        time.sleep(0.1)
    assert ready.json() == {"status": "unavailable", "backend": "redis"}
    assert httpx.get(f"{d.url}/livez").status_code == 200
    time.sleep(max(0.0, GAP_SECONDS - (time.monotonic() - gap_started)))
    assert worker.poll() is None, "the worker exited while Redis was away"

    redis_server.start()
    wait_ready = time.monotonic() + 10
    while httpx.get(f"{d.url}/readyz").status_code != 200:
        assert time.monotonic() < wait_ready, "/readyz did not come back"
        time.sleep(0.1)
    done = wait_for(f"{d.url}/v1/trainings/{job}", lambda j: j["state"] in ("succeeded", "failed"), timeout=120, what="after the outage")
    assert done["state"] == "succeeded", done
    assert worker.poll() is None
    assert worker.pid == pid
    assert len(d.workers) == 1  # nothing started by hand
    steps = httpx.get(f"{d.url}/v1/trainings/{job}/metrics", params={"max_points": 100_000}).json()["steps"]
    assert steps == list(range(1, epochs * 8 + 1))
    result = httpx.get(f"{d.url}/v1/trainings/{job}/result").json()
    reference = httpx.post(f"{d.url}/v1/train", json={**request(epochs), "x": tensor(X), "t": tensor(T)}, timeout=180).json()
    assert result == reference
    assert "CRITICAL" not in d.logs()  # Dramatiq's middleware is the one the service needs
