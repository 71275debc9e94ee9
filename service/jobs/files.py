"""Files under the data dir: written whole or not at all, within the disk reserve, and cleaned after a crash.

Every file is written under a temporary name that carries the writing process's host and pid
(``.tmp-<host>-<pid>-…``), then renamed into place, so a reader never sees half a file and
replicas sharing a data dir never take each other's temporary files. Before a write that a client
asked for, :func:`check_room` refuses it (:class:`~service.errors.InsufficientStorage`, 507) if it would
leave less than ``min_free_disk_bytes`` free; a write that fails on a full disk anyway is the same
error, and leaves nothing behind. :func:`clean` removes what a killed process left (at start, and
periodically on a shared data dir).

A job's own files (:class:`JobFiles`) live in ``jobs/<tenant>/<id>/``: its request (``spec.json``), its
last checkpoint (``checkpoint.npz``) and, once it succeeded, its result (``result.json``).
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from service.errors import InsufficientStorage

log = logging.getLogger("service.jobs")

#: The start of every temporary name under the data dir (what :func:`clean` looks for).
TEMPORARY = (".tmp-", ".upload-", ".new-", ".gone-")


def temporary_name(kind: str = ".tmp-") -> str:
    """A temporary file or folder name of this process: ``<kind><host>-<pid>-<random>``."""
    return f"{kind}{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:12]}"


def free_bytes(path: Path) -> int:
    """Bytes free for this (unprivileged) process on the file system of ``path`` (its nearest existing parent)."""
    while not path.exists() and path != path.parent:
        path = path.parent
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def check_room(root: Path, need: int, min_free: int) -> None:
    """507 if writing ``need`` bytes under ``root`` would leave less than ``min_free`` bytes free."""
    free = free_bytes(root)
    if free - need < min_free:
        raise InsufficientStorage(
            f"storing {need:,} bytes would leave {max(0, free - need):,} bytes free on the data dir's disk, "
            f"less than min_free_disk_bytes ({min_free:,}); delete datasets or jobs, or ask the operator for room",
            [("", f"needs {need:,} bytes; {free:,} are free and {min_free:,} must stay free")],
        )


def full(exc: OSError) -> InsufficientStorage:
    """The 507 for a write that failed on a full disk (ENOSPC, EDQUOT)."""
    return InsufficientStorage(f"the data dir's disk is full ({exc.strerror}); delete datasets or jobs, or ask the operator for room")


def is_full(exc: OSError) -> bool:
    return exc.errno in (errno.ENOSPC, errno.EDQUOT)


@contextmanager
def writing(path: Path) -> Iterator[BinaryIO]:
    """A file to write ``path``'s new content into; renamed into place when the block ends, removed if it fails.

    A full disk is an :class:`~service.errors.InsufficientStorage`.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(temporary_name())
    try:
        with tmp.open("wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if is_full(exc):
            raise full(exc) from exc
        raise
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write(path: Path, data: bytes) -> None:
    """``path`` now holds ``data``, whole (see :func:`writing`)."""
    with writing(path) as f:
        f.write(data)


def remove_tree(path: Path) -> None:
    """Remove a folder: renamed aside first (so it is gone at once for readers), then deleted."""
    gone = path.with_name(temporary_name(".gone-"))
    try:
        os.rename(path, gone)
    except FileNotFoundError:
        return
    shutil.rmtree(gone, ignore_errors=True)


def _left_behind(name: str, before: float, mtime: float) -> bool:
    """Whether a temporary file is what a stopped process left: older than ``before``, or its writer (the host and pid in its
    name, :func:`temporary_name`) is a process of this host that no longer runs."""
    if mtime < before:
        return True
    kind = next(k for k in TEMPORARY if name.startswith(k))
    host, pid, _ = [*name[len(kind) :].rsplit("-", 2), "", ""][:3]
    return host == socket.gethostname() and pid.isdigit() and not _alive(int(pid))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean(root: Path, older_than: float) -> int:
    """Remove the temporary files and folders under ``root`` that stopped processes left: those of a process of this host
    that no longer runs, and any older than ``older_than`` seconds; how many. They are at most three levels down:
    ``tmp/``, ``datasets/<tenant>/<id>/``, ``jobs/<tenant>/<id>/``."""
    if not root.exists():
        return 0
    before = time.time() - older_than
    removed = 0
    for depth in ("*", "*/*", "*/*/*", "*/*/*/*"):
        for path in root.glob(depth):
            if not path.name.startswith(TEMPORARY):
                continue
            try:
                if not _left_behind(path.name, before, path.lstat().st_mtime):
                    continue
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)
                removed += 1
            except FileNotFoundError:
                continue
    return removed


class JobFiles:
    """The files of each job under ``<data_dir>/jobs/<tenant>/<id>/``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def dir(self, tenant: str, job_id: str) -> Path:
        return self.root / tenant / job_id

    def spec(self, tenant: str, job_id: str) -> Path:
        return self.dir(tenant, job_id) / "spec.json"

    def checkpoint(self, tenant: str, job_id: str) -> Path:
        return self.dir(tenant, job_id) / "checkpoint.npz"

    def result(self, tenant: str, job_id: str) -> Path:
        return self.dir(tenant, job_id) / "result.json"

    def delete(self, tenant: str, job_id: str) -> None:
        remove_tree(self.dir(tenant, job_id))
