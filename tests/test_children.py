"""No process outlives the service: whatever signal ends ``gradient-service``, every process it started is gone soon after.

The real thing, for SIGTERM, SIGINT and SIGKILL of the main process, with 1 and 2 web workers on the embedded
backend and a job worker: every descendant recorded before the signal (web workers, the job worker, and any
process one of them started) is gone within 5 s (20 s after SIGTERM: the drain and the
graceful shutdown come first). A zombie (dead, not yet reaped by init) counts as gone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from contextlib import AbstractContextManager
from pathlib import Path

import httpx
import psutil
import pytest

from service import children
from tests.server import ROOT, ServerProcess, console_script


def alive(pids: list[int]) -> list[str]:
    """The processes among ``pids`` still running (zombies are dead), described."""
    out = []
    for pid in pids:
        try:
            p = psutil.Process(pid)
            if p.status() != psutil.STATUS_ZOMBIE:
                out.append(f"{pid} {' '.join(p.cmdline())[:120]}")
        except psutil.NoSuchProcess:
            continue
    return out


def wait_gone(pids: list[int], seconds: float) -> list[str]:
    deadline = time.monotonic() + seconds
    while (left := alive(pids)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def service(tmp_path: Path, workers: int) -> AbstractContextManager[ServerProcess]:
    """Started as an operator starts it (not a child of this test), with its job worker and a short drain."""
    env = {"GRADIENT_JOB_WORKERS": "1", "GRADIENT_DRAIN_SECONDS": "1", "GRADIENT_GRACEFUL_TIMEOUT_SECONDS": "5"}
    return console_script(tmp_path / "data", tmp_path / "service.log", env, workers, child=False)


def descendants(pid: int, at_least: int) -> list[int]:
    """The descendants of ``pid``, once there are ``at_least`` of them (the parse processes and the job worker start late)."""
    deadline = time.monotonic() + 30
    while True:
        found = [c.pid for c in psutil.Process(pid).children(recursive=True)]
        if len(found) >= at_least or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize(("sig", "seconds"), [(signal.SIGTERM, 20), (signal.SIGINT, 20), (signal.SIGKILL, 5)])
def test_every_descendant_ends_with_the_service(tmp_path: Path, workers: int, sig: signal.Signals, seconds: float) -> None:
    with service(tmp_path, workers) as s:
        # 1 web worker (the main process itself): the job worker; 2 web workers: those and the job worker
        tree = descendants(s.pid, 1 if workers == 1 else 3)
        assert httpx.get(f"{s.url}/livez").status_code == 200
        os.kill(s.pid, sig)
        left = wait_gone([s.pid, *tree], seconds)
        assert left == [], f"still running {seconds} s after {sig.name}: {left}\n{s.log()[-3000:]}"


def test_a_child_exits_within_2_s_of_its_parents_death(tmp_path: Path) -> None:
    """watch_parent, on its own: a parent that is SIGKILLed cannot stop its child; the child sees it gone and exits."""
    child_code = "from service import children; import time; children.watch_parent(); time.sleep(60)"
    parent_code = textwrap.dedent(f"""
        import os, subprocess, sys, time
        os.environ[{children.ENV!r}] = str(os.getpid())
        child = subprocess.Popen([sys.executable, "-c", {child_code!r}])
        print(child.pid, flush=True)
        time.sleep(60)
    """)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    parent = subprocess.Popen([sys.executable, "-c", parent_code], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        time.sleep(1.0)  # the child has started watching
        assert alive([child])
        parent.kill()
        parent.wait()
        killed = time.monotonic()
        assert wait_gone([child], 5) == []
        assert time.monotonic() - killed < 2.5
    finally:
        parent.kill()
        parent.wait()
        if parent.stdout is not None:
            parent.stdout.close()


def test_a_process_started_by_anyone_else_is_left_alone() -> None:
    """A process whose environment names no parent (a shell, systemd, a container's init started it) watches nobody."""
    code = "from service import children; import threading; children.watch_parent(); print(threading.active_count())"
    env = {k: v for k, v in os.environ.items() if k != children.ENV} | {"PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, timeout=30)
    assert out.stdout.strip() == "1"
