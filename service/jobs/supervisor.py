"""The training-job worker processes that ``gradient-service`` starts beside uvicorn (``job_workers``, embedded backend).

Each is ``python -m service.jobs.backend``; one that dies is started again and its leases
released, so its job resumes from its checkpoint at once. On exit they get SIGTERM: each
finishes its step, checkpoints and stops.
"""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass, field

from service.jobs.backend import get_backend

log = logging.getLogger("service.jobs")

#: Seconds between looks at the workers.
WATCH_SECONDS = 0.5


@dataclass
class Supervisor:
    count: int
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._watch, name="job-supervisor", daemon=True)

    def _start(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-m", "service.jobs.backend"])

    def _watch(self) -> None:
        while not self.stopping.wait(WATCH_SECONDS):
            for i, process in enumerate(self.processes):
                if process.poll() is not None and not self.stopping.is_set():
                    log.warning("job worker %d exited with %s; starting it again", process.pid, process.returncode)
                    get_backend().store.release(f"{socket.gethostname()}:{process.pid}")
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
