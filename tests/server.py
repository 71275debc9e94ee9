"""A real server process for tests: the console script on a free 127.0.0.1 port.

``running_server()`` starts ``python -m service.cli`` (uvicorn, one or several
workers) from this checkout, waits until ``/readyz`` answers 200, and on exit
sends SIGTERM and waits for the process to end. Its output goes to a log file
that failures print.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ServerProcess:
    """A running ``gradient-service``: its base URL, process and log."""

    url: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _wait_ready(server: ServerProcess, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"the server exited with {server.process.returncode}:\n{server.log()}")
        try:
            if httpx.get(f"{server.url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"the server was not ready within {timeout} s:\n{server.log()}")


@contextmanager
def running_server(env: dict[str, str] | None = None, workers: int = 1, start_timeout: float = 60) -> Iterator[ServerProcess]:
    """Run the service in a subprocess; ``env`` adds or overrides ``GRADIENT_*`` settings.

    The drain after SIGTERM defaults to 0 here so that stopping is quick; tests of the
    drain set ``GRADIENT_DRAIN_SECONDS`` themselves.
    """
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="gradient-server-") as tmp:
        log_path = Path(tmp) / "server.log"
        full_env = {**os.environ, "PYTHONPATH": str(ROOT), "GRADIENT_DRAIN_SECONDS": "0", **(env or {})}
        full_env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # a scrape must see this server's samples only
        cmd = [sys.executable, "-m", "service.cli", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
        with log_path.open("wb") as log:
            process = subprocess.Popen(cmd, cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT)
        server = ServerProcess(f"http://127.0.0.1:{port}", port, process, log_path)
        try:
            _wait_ready(server, start_timeout)
            yield server
        finally:
            stop(server)


def stop(server: ServerProcess, timeout: float = 30) -> int:
    """SIGTERM, then wait (SIGKILL past ``timeout``); returns the exit code."""
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
    try:
        return server.process.wait(timeout)
    except subprocess.TimeoutExpired:
        server.process.kill()
        return server.process.wait()
