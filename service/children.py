"""Processes the service starts end with it: every child watches its parent and exits soon after it is gone.

The parent names itself in the environment (``GRADIENT_PARENT_PID``) for the children it starts (web
workers, job workers, parse processes); a child whose parent has gone (SIGKILLed: no chance to stop
its children) is re-parented by the kernel, which a thread sees within :data:`LOOK_SECONDS`. The child
then stops as on SIGTERM (a job worker checkpoints), and exits for good :data:`GRACE_SECONDS` later:
gone within 2 s of its parent. This is ``prctl(PR_SET_PDEATHSIG)`` done portably and per process (the
kernel's "parent" for that is the thread that started the child, and threads come and go here).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time

log = logging.getLogger("service.children")

ENV = "GRADIENT_PARENT_PID"
#: Seconds between two looks at the parent.
LOOK_SECONDS = 0.25
#: Seconds between SIGTERM to itself and the hard exit.
GRACE_SECONDS = 1.2

_watching = False


def watch_parent() -> None:
    """In a process the service started: exit once its parent is gone. Then children of this process watch it in turn.

    A process started by anyone else (a shell, systemd, a container's init) is left alone.
    """
    global _watching
    parent = os.environ.get(ENV, "")
    if parent.isdigit() and int(parent) != os.getpid() and not _watching:
        _watching = True
        threading.Thread(target=_watch, args=(int(parent),), name="parent-watch", daemon=True).start()
    os.environ[ENV] = str(os.getpid())


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(LOOK_SECONDS)
    log.warning("the parent process %d is gone; stopping", parent)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(GRACE_SECONDS)
    os._exit(1)
