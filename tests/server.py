"""A real server process for tests: the console script on a free 127.0.0.1 port.

``running_server()`` starts ``python -m service.cli`` (uvicorn, one or several
workers) from this checkout, waits until ``/readyz`` answers 200, and on exit
sends SIGTERM and waits for the process to end. Its output goes to a log file
that failures print. ``ServerProcess`` also reads the process's memory and CPU
time from /proc, and :func:`post_raw` sends a body that the server may refuse
before it ends.

    with running_server({"GRADIENT_MAX_COMPUTE_SECONDS": "1"}) as server:
        httpx.get(server.url + "/livez")
        server.rss_bytes(), server.cpu_seconds()
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from service import children

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

    @property
    def pid(self) -> int:
        return self.process.pid

    def rss_bytes(self) -> int:
        """Resident memory now (VmRSS in /proc/<pid>/status)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS")

    def cpu_seconds(self) -> float:
        """User + system CPU time used so far, all threads (/proc/<pid>/stat)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

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
def running_server(
    env: Mapping[str, str] | None = None, workers: int = 1, start_timeout: float = 60, port: int | None = None
) -> Iterator[ServerProcess]:
    """Run the service in a subprocess; ``env`` adds or overrides ``GRADIENT_*`` settings.

    The drain after SIGTERM defaults to 0 here so that stopping is quick; tests of the
    drain set ``GRADIENT_DRAIN_SECONDS`` themselves.
    """
    port = port or free_port()
    with tempfile.TemporaryDirectory(prefix="gradient-server-") as tmp:
        log_path = Path(tmp) / "server.log"
        # no training-job workers unless a test asks for them, and their data (if any) in the temporary folder
        quiet = {"GRADIENT_DRAIN_SECONDS": "0", "GRADIENT_JOB_WORKERS": "0", "GRADIENT_DATA_DIR": str(Path(tmp) / "data")}
        # the server ends with this test process, even if this one is killed (service.children)
        full_env = {**os.environ, "PYTHONPATH": str(ROOT), children.ENV: str(os.getpid()), **quiet, **(env or {})}
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


@contextmanager
def console_script(
    data_dir: Path, log_path: Path, env: Mapping[str, str] | None = None, workers: int = 1, child: bool = True
) -> Iterator[ServerProcess]:
    """``gradient-service`` as an operator runs it (web and job workers, on ``data_dir``), in a process group of its own.

    ``child``: it ends with this test process too (service.children); False starts it as a shell would. After the
    block its whole group gets SIGTERM, then SIGKILL for what is left, so nothing it started stays.
    """
    port = free_port()
    full = {**os.environ, "PYTHONPATH": str(ROOT), "GRADIENT_DATA_DIR": str(data_dir), "GRADIENT_DRAIN_SECONDS": "0", **(env or {})}
    full.pop("PROMETHEUS_MULTIPROC_DIR", None)
    full.pop(children.ENV, None)
    if child:
        full[children.ENV] = str(os.getpid())
    cmd = [sys.executable, "-m", "service.cli", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(cmd, cwd=ROOT, env=full, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    server = ServerProcess(f"http://127.0.0.1:{port}", port, process, log_path)
    try:
        _wait_ready(server, 60)
        yield server
    finally:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(30)
                break


def stop(server: ServerProcess, timeout: float = 30) -> int:
    """SIGTERM, then wait (SIGKILL past ``timeout``); returns the exit code."""
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
    try:
        return server.process.wait(timeout)
    except subprocess.TimeoutExpired:
        server.process.kill()
        return server.process.wait()


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes
    bytes_sent: int


def post_raw(server: ServerProcess, path: str, headers: Mapping[str, str], chunks: Iterable[bytes]) -> RawResponse:
    """POST over a raw socket, sending ``chunks`` until the server answers (it may answer before the body ends).

    An HTTP client library would insist on sending the whole body first; a
    server that refuses a 100 MB body after its headers never reads the rest.
    """
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nConnection: close\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as s:
        s.sendall(head.encode())
        sent = 0
        for chunk in chunks:
            if _readable(s):
                break
            try:
                s.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
        data = b""
        try:
            while block := s.recv(1 << 16):
                data += block
        except ConnectionResetError:
            pass
    head_bytes, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head_bytes.decode("latin-1").split("\r\n")
    parsed = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in header_lines)}
    if parsed.get("transfer-encoding") == "chunked":
        body = _dechunk(body)
    return RawResponse(int(status_line.split()[1]), parsed, body, sent)


def _readable(s: socket.socket) -> bool:
    return bool(select.select([s], [], [], 0)[0])


def _dechunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, rest = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out, data = out + rest[:size], rest[size + 2 :]
    return out
