"""Fixtures of the training-job tests: a real Redis (Debian's redis-server on a free loopback port), and the same
deployment — web process, worker processes, data directory — on either backend (``backend`` is parametrized)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from service import children
from tests.server import ROOT, ServerProcess, free_port, running_server

REDIS = shutil.which("redis-server")


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A redis-server of this test session on 127.0.0.1 (no persistence), stopped after."""
    if REDIS is None:
        pytest.skip("redis-server is not installed: apt-get install redis-server (.ci/run installs it)")
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [REDIS, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import redis

    client = redis.Redis(host="127.0.0.1", port=port)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(10)


@dataclass
class Deployment:
    """Web process and worker processes of one backend on one data directory; workers are started and killed by the test."""

    backend: str
    env: dict[str, str]
    data_dir: Path
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    stack: ExitStack = field(default_factory=ExitStack)
    server: ServerProcess | None = None
    log_dir: Path | None = None  # the workers' logs (default: the data dir)

    @property
    def logs_at(self) -> Path:
        return self.log_dir or self.data_dir

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url

    def restart_web(self) -> None:
        """Stop the web process (SIGKILL: nothing in it may matter) and start a new one on the same store."""
        assert self.server is not None
        self.server.process.kill()
        self.server.process.wait()
        self.server = self.stack.enter_context(self.web())

    def start_worker(self) -> subprocess.Popen[bytes]:
        full = {**os.environ, "PYTHONPATH": str(ROOT), children.ENV: str(os.getpid()), **self.env}  # it ends with this test process
        full.pop("PROMETHEUS_MULTIPROC_DIR", None)
        with (self.logs_at / f"worker-{len(self.workers)}.log").open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "service.cli", "worker"], cwd=ROOT, env=full, stdout=log, stderr=subprocess.STDOUT
            )
        self.workers.append(process)
        return process

    @contextmanager
    def web(self) -> Iterator[ServerProcess]:
        with running_server({**self.env, "GRADIENT_JOB_WORKERS": "0"}) as server:
            yield server

    def stop(self) -> None:
        self.stack.close()
        for w in self.workers:
            if w.poll() is None:
                w.send_signal(signal.SIGTERM)
        for w in self.workers:
            try:
                w.wait(30)
            except subprocess.TimeoutExpired:
                w.kill()
                w.wait()

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.logs_at.glob("worker-*.log")))


#: Short leases and frequent checkpoints, so that recovery in a test takes a second or two.
FAST = {"GRADIENT_JOB_LEASE_SECONDS": "1.5", "GRADIENT_JOB_CHECKPOINT_STEPS": "50", "GRADIENT_JOB_CHECKPOINT_SECONDS": "0.5"}


#: /v1/train may take the reference runs the jobs are compared with in one request.
REFERENCE = {"GRADIENT_MAX_TRAIN_STEPS": "4000", "GRADIENT_MAX_COMPUTE_SECONDS": "120"}


def deploy(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, env: dict[str, str] | None = None
) -> Iterator[Deployment]:
    """A web process (no workers of its own) and one worker process on the backend ``request.param``, with ``env`` added."""
    tmp_path = tmp_path_factory.mktemp(f"jobs-{request.param}")
    full = {**FAST, **REFERENCE, "GRADIENT_DATA_DIR": str(tmp_path), "GRADIENT_JOBS_BACKEND": request.param, **(env or {})}
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        import redis

        redis.Redis.from_url(url).flushdb()
        full["GRADIENT_REDIS_URL"] = url
    with deployed(Deployment(request.param, full, tmp_path)) as d:
        yield d


@contextmanager
def deployed(d: Deployment, workers: int = 1) -> Iterator[Deployment]:
    """``d`` running: its web process and ``workers`` worker processes, stopped after the block (logs printed on a failure to start)."""
    try:
        d.server = d.stack.enter_context(d.web())
        for _ in range(workers):
            d.start_worker()
        yield d
    except BaseException:
        print(d.logs()[-5000:])
        raise
    finally:
        d.stop()


@pytest.fixture(scope="module", params=["embedded", "redis"])
def deployment(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """The same deployment on each backend: a web process (no workers of its own) and one worker process, shared by a module."""
    yield from deploy(request, tmp_path_factory)


def wait_for(url: str, predicate: object, timeout: float = 60, what: str = "", headers: dict[str, str] | None = None) -> dict[str, object]:
    """Poll the job at ``url`` until ``predicate(job)``."""
    deadline = time.monotonic() + timeout
    while True:
        job = httpx.get(url, timeout=10, headers=headers).json()
        if predicate(job):  # type: ignore[operator]
            return dict(job)
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: {job}")
        time.sleep(0.05)
