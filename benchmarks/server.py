"""A real uvicorn server process for the benchmark, wrk to drive it, and its workers' peak memory."""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: Where the benchmark's servers write their logs.
LOG = Path(tempfile.gettempdir()) / "gradient-benchmark-server.log"

WRK_SCRIPT = """\
local f = assert(io.open(os.getenv("WRK_BODY"), "rb"))
wrk.body = f:read("*a")
f:close()
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A running ``benchmarks.app:app`` (the service plus a bare route) under uvicorn."""

    process: subprocess.Popen[bytes]
    port: int
    workers: int

    def worker_pids(self) -> list[int]:
        """The processes that serve requests: the children of uvicorn's supervisor (itself when workers is 1)."""
        if self.workers == 1:
            return [self.process.pid]
        children = [
            int(pid) for task in Path(f"/proc/{self.process.pid}/task").iterdir() for pid in (task / "children").read_text().split()
        ]
        return [pid for pid in children if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()]  # not the resource tracker

    def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        """One request over a fresh connection."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            return _exchange(conn, path, body)
        finally:
            conn.close()

    @contextmanager
    def client(self) -> Iterator[Callable[[str, bytes], float]]:
        """A keep-alive connection; each call posts a body and returns the seconds until the whole answer is read."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)

        def timed(path: str, body: bytes) -> float:
            start = time.perf_counter()
            status, _ = _exchange(conn, path, body)
            elapsed = time.perf_counter() - start
            if status != 200:
                raise RuntimeError(f"{path} answered {status}")
            return elapsed

        try:
            yield timed
        finally:
            conn.close()


def _exchange(conn: http.client.HTTPConnection, path: str, body: bytes) -> tuple[int, bytes]:
    conn.request("POST", path, body, {"Content-Type": "application/json"})
    response = conn.getresponse()
    return response.status, response.read()


@contextmanager
def serve(workers: int, blas_threads: int, app: str = "benchmarks.app:app", env: dict[str, str] | None = None) -> Iterator[Server]:
    """Start ``app`` as the console script starts the service (``service.cli``), on a free loopback port; stop it afterwards.

    No job worker runs beside it (training jobs are not what the benchmarks time); ``env`` adds settings."""
    port = _free_port()
    launch = f"import sys; from service.cli import main; main(sys.argv[1:], app={app!r})"
    command = [sys.executable, "-c", launch, "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    command += ["--blas-threads", str(blas_threads), "--log-level", "warning"]
    data = tempfile.mkdtemp(prefix="gradient-benchmark-data-")  # each server owns its data dir (one instance per data dir)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GRADIENT_JOB_WORKERS": "0", "GRADIENT_DATA_DIR": data, **(env or {})}
    log = open(LOG, "ab")  # noqa: SIM115 (closed when the server stops) — the access log would drown the table
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = Server(process, port, workers)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/livez")
                if conn.getresponse().status == 200 and len(server.worker_pids()) == workers:
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the benchmark server did not start") from None
                time.sleep(0.2)
        time.sleep(0.5)  # let every worker finish importing
        yield server
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        shutil.rmtree(data, ignore_errors=True)


@dataclass(frozen=True)
class WrkResult:
    requests_per_second: float
    mean_latency: float  # seconds
    requests: int


_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def wrk(server: Server, path: str, body: bytes, connections: int, seconds: float) -> WrkResult:
    """Drive ``path`` with wrk (one thread, ``connections`` keep-alive connections) posting ``body``."""
    executable = shutil.which("wrk")
    if executable is None:
        raise SystemExit("wrk is not installed: apt-get install wrk (Debian/Ubuntu) or brew install wrk")
    with tempfile.TemporaryDirectory() as tmp:
        script, body_file = Path(tmp, "post.lua"), Path(tmp, "body.json")
        script.write_text(WRK_SCRIPT)
        body_file.write_bytes(body)
        command = [executable, "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "60s", "-s", str(script)]
        out = subprocess.run(
            [*command, f"http://127.0.0.1:{server.port}{path}"],
            env={**os.environ, "WRK_BODY": str(body_file)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError(f"wrk saw failed requests on {path}:\n{out}")
    latency = re.search(r"Latency\s+([\d.]+)(us|ms|s|m)\b", out)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    count = re.search(r"(\d+) requests in", out)
    if latency is None or rps is None or count is None or int(count.group(1)) == 0:
        raise RuntimeError(f"could not read wrk's output:\n{out}")
    return WrkResult(float(rps.group(1)), float(latency.group(1)) * _UNITS[latency.group(2)], int(count.group(1)))


def _status(pid: int, field: str) -> int:
    """A ``VmRSS``/``VmHWM`` line of /proc/<pid>/status, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def peak_memory(server: Server, path: str, body: bytes) -> tuple[int, int]:
    """(peak RSS growth, peak RSS) of the worker that serves one ``body``, in bytes.

    Each worker's high-water mark is reset (``/proc/<pid>/clear_refs``, Linux) to its
    current RSS before the request; the growth is the mark afterwards minus that RSS.
    """
    pids = server.worker_pids()
    before = {}
    for pid in pids:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        before[pid] = _status(pid, "VmRSS")
    status, _ = server.post(path, body)
    if status != 200:
        raise RuntimeError(f"{path} answered {status}")
    growth = {pid: _status(pid, "VmHWM") - before[pid] for pid in pids}
    busiest = max(growth, key=lambda pid: growth[pid])
    return growth[busiest], _status(busiest, "VmHWM")
