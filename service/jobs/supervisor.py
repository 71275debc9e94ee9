"""The training-job worker processes that ``gradient-service`` starts beside uvicorn (``job_workers``, embedded backend).

Each is ``gradient-service worker`` (``python -m service.cli worker``); one that dies is started again and its
leases released, so its job resumes from its checkpoint at once. On exit they get SIGTERM: each finishes
its step, checkpoints and stops. Should this process die without stopping them (SIGKILL), they see it gone
and stop by themselves (:mod:`service.children`).
"""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import threading

from service.jobs.store import Store

log = logging.getLogger("service.jobs")

#: Seconds between looks at the workers.
WATCH_SECONDS = 0.5


class Supervisor:
    """``count`` worker processes, kept running for the block."""

    def __init__(self, count: int, store: Store) -> None:
        self.count, self.store = count, store
        self.processes: list[subprocess.Popen[bytes]] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._watch, name="job-supervisor", daemon=True)

    def _start(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-m", "service.cli", "worker"])

    def _watch(self) -> None:
        while not self.stopping.wait(WATCH_SECONDS):
            for i, process in enumerate(self.processes):
                if process.poll() is not None and not self.stopping.is_set():
                    log.warning("job worker %d exited with %s; starting it again", process.pid, process.returncode)
                    try:
                        self.store.release(f"{socket.gethostname()}:{process.pid}")
                    except Exception:  # its leases then run out by themselves
                        log.warning("could not release the leases of job worker %d", process.pid, exc_info=True)
                    self.processes[i] = self._start()

    def __enter__(self) -> Supervisor:
        self.processes = [self._start() for _ in range(self.count)]
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.thread.join()
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
