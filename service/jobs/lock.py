"""One instance owns an embedded data dir: a lock file, taken over from an instance that died.

``flock`` on ``<data_dir>/instance.lock`` is held for the instance's life; the kernel drops it when the
process ends however it ends, so a lock left by a dead instance is simply taken. The file holds the
owner's pid, for the error a second instance gets.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger("service.jobs")


class DataDirInUse(RuntimeError):
    """Another running instance owns the data dir."""


@contextmanager
def owning(data_dir: Path) -> Iterator[None]:
    """Own ``data_dir`` for the block; :class:`DataDirInUse` if another running instance does."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "instance.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)  # not inherited by children (O_CLOEXEC)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            raise DataDirInUse(
                f"another gradient-service (pid {owner}) is running on the data dir {data_dir.resolve()}: stop it first, "
                "or give this one its own GRADIENT_DATA_DIR (several instances on one data dir need GRADIENT_JOBS_BACKEND=redis)"
            ) from None
        before = os.pread(fd, 32, 0).decode(errors="replace").strip()
        if before and before != str(os.getpid()):
            log.info("took over the data dir %s from pid %s, which no longer runs", data_dir, before)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)
