"""The embedded backend's store: one SQLite file (WAL) under ``data_dir``, shared by the web and worker processes of one machine.

Every write is one short ``BEGIN IMMEDIATE`` transaction, quota checks included. The file gives
space back as jobs are deleted (``auto_vacuum = INCREMENTAL``), all but a reserve of free pages
(:data:`RESERVE_PAGES`): when something else fills the disk, the store can still record, in pages it
already holds, that a job waits for space and the steps it does meanwhile. A full disk is an
:class:`~service.errors.InsufficientStorage`, never a crash.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from service.errors import InsufficientStorage, no_such_dataset
from service.jobs.cursor import after_cursor, cursor_of
from service.jobs.quotas import check_dataset_quotas, check_job_quotas
from service.jobs.records import ACTIVE, FINISHED, DatasetRecord, HistoryEntry, Job, Page, Quotas, State, Usage
from service.jobs.store import Removal

#: Free pages the file keeps for writes on a full disk (4 KiB each: 4 MiB, some 100,000 steps of history). Making them
#: also grows the write-ahead log past its checkpoint size (1000 pages), so that it is rewritten in place, never grown.
RESERVE_PAGES = 1024
#: The schema's version (``PRAGMA user_version``); a file of another version is not read (see :meth:`SqliteStore._open`).
VERSION = 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, tenant TEXT NOT NULL, state TEXT NOT NULL, dataset TEXT NOT NULL, total INTEGER NOT NULL,
    epochs INTEGER NOT NULL, step INTEGER NOT NULL DEFAULT 0, epoch INTEGER NOT NULL DEFAULT 0, loss REAL, created REAL NOT NULL,
    started REAL, finished REAL, problem TEXT, cancel_requested INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0,
    compute_seconds REAL NOT NULL DEFAULT 0, fingerprint TEXT NOT NULL, idempotency_key TEXT, waiting TEXT,
    lease_owner TEXT, lease_expires REAL NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX IF NOT EXISTS jobs_idempotency ON jobs (tenant, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS jobs_by_tenant ON jobs (tenant, created, id);
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs (tenant, state, created, id);
CREATE INDEX IF NOT EXISTS jobs_queue ON jobs (state, created);
CREATE INDEX IF NOT EXISTS jobs_by_dataset ON jobs (tenant, dataset, state);
CREATE TABLE IF NOT EXISTS history (
    job TEXT NOT NULL, step INTEGER NOT NULL, epoch INTEGER NOT NULL, loss REAL NOT NULL, PRIMARY KEY (job, step)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS datasets (
    tenant TEXT NOT NULL, id TEXT NOT NULL, record TEXT NOT NULL, bytes INTEGER NOT NULL, PRIMARY KEY (tenant, id)
) WITHOUT ROWID;
"""
_JOB_COLUMNS = ", ".join(Job.__dataclass_fields__)

log = logging.getLogger("service.jobs")

T = TypeVar("T")


def _job(row: sqlite3.Row | None) -> Job | None:
    if row is None:
        return None
    values = dict(row)
    values["problem"] = json.loads(values["problem"]) if values["problem"] else None
    values["cancel_requested"] = bool(values["cancel_requested"])
    return Job(**values)


def _full(exc: sqlite3.OperationalError) -> bool:
    return "full" in str(exc).lower()  # SQLITE_FULL: "database or disk is full"


class SqliteStore:
    """Datasets and jobs in ``<data_dir>/jobs.sqlite3``; a connection per thread."""

    name = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._open()

    def _open(self) -> None:
        db = self._db()
        version = db.execute("PRAGMA user_version").fetchone()[0]
        tables = db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
        if tables and version != VERSION:
            raise RuntimeError(
                f"{self.path} was written by another version of the service (schema {version}, this one reads {VERSION}): "
                "move it (and the datasets/ and jobs/ folders beside it) away, or point GRADIENT_DATA_DIR at another folder"
            )
        db.executescript(_SCHEMA)
        db.execute(f"PRAGMA user_version = {VERSION}")
        self._keep_reserve()

    def _keep_reserve(self) -> None:
        """A reserve that was used is made again (if there is room); free pages beyond it go back to the file system."""
        db = self._db()
        free = db.execute("PRAGMA freelist_count").fetchone()[0]
        if free < RESERVE_PAGES // 2:
            page = db.execute("PRAGMA page_size").fetchone()[0]
            try:
                with self._transaction() as t:  # pages written and freed again: they stay in the file, on the freelist
                    t.execute("CREATE TABLE IF NOT EXISTS reserve (data BLOB)")
                    t.execute("INSERT INTO reserve VALUES (zeroblob(?))", ((RESERVE_PAGES - free) * page,))
                    t.execute("DELETE FROM reserve")
                db.execute("PRAGMA wal_checkpoint(PASSIVE)")  # into the file now: the log starts again from its beginning
            except InsufficientStorage:
                log.warning("the disk of the job store is full: its reserve of free pages is not made again yet")
            free = db.execute("PRAGMA freelist_count").fetchone()[0]
        if free > RESERVE_PAGES:
            db.executescript(f"PRAGMA incremental_vacuum({free - RESERVE_PAGES});")  # executescript steps it to the end

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA auto_vacuum = INCREMENTAL")  # takes effect in a new file only, before its first write
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        return db

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; a full disk is an InsufficientStorage, and the transaction is rolled back."""
        db = self._db()
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise self._error(exc) from exc
        try:
            yield db
            db.execute("COMMIT")
        except BaseException as exc:
            if db.in_transaction:
                db.execute("ROLLBACK")
            if isinstance(exc, sqlite3.OperationalError):
                raise self._error(exc) from exc
            raise

    def _error(self, exc: sqlite3.OperationalError) -> Exception:
        if _full(exc):
            return InsufficientStorage(f"the disk of the job store is full ({exc}); free space under the data dir")
        return exc

    def _write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        with self._transaction() as db:
            return work(db)

    def ping(self) -> None:
        self._db().execute("SELECT 1").fetchone()

    def usage(self, tenant: str) -> Usage:
        return _usage(self._db(), tenant)

    # Datasets ---------------------------------------------------------------------------------------------------
    def add_dataset(self, record: DatasetRecord, quotas: Quotas) -> tuple[DatasetRecord, bool]:
        def add(db: sqlite3.Connection) -> tuple[DatasetRecord, bool]:
            existing = self._dataset(db, record.tenant, record.id)
            if existing is not None:
                return existing, False
            check_dataset_quotas(_usage(db, record.tenant), quotas, record.bytes)
            db.execute(
                "INSERT INTO datasets (tenant, id, record, bytes) VALUES (?, ?, ?, ?)",
                (record.tenant, record.id, json.dumps(record.fields()), record.bytes),
            )
            return record, True

        return self._write(add)

    def _dataset(self, db: sqlite3.Connection, tenant: str, dataset_id: str) -> DatasetRecord | None:
        row = db.execute("SELECT record FROM datasets WHERE tenant = ? AND id = ?", (tenant, dataset_id)).fetchone()
        return None if row is None else DatasetRecord(**json.loads(row[0]))

    def dataset(self, tenant: str, dataset_id: str) -> DatasetRecord | None:
        return self._dataset(self._db(), tenant, dataset_id)

    def remove_dataset(self, tenant: str, dataset_id: str) -> Removal:
        def remove(db: sqlite3.Connection) -> Removal:
            used = db.execute(
                "SELECT 1 FROM jobs WHERE tenant = ? AND dataset = ? AND state IN ('queued', 'running') LIMIT 1", (tenant, dataset_id)
            ).fetchone()
            if used:
                return "in_use"
            gone = db.execute("DELETE FROM datasets WHERE tenant = ? AND id = ?", (tenant, dataset_id))
            return "removed" if gone.rowcount else "missing"

        return self._write(remove)

    # Jobs, for clients ------------------------------------------------------------------------------------------
    def create(self, job: Job, quotas: Quotas) -> tuple[Job, bool]:
        def create(db: sqlite3.Connection) -> tuple[Job, bool]:
            if job.idempotency_key is not None:
                row = db.execute(
                    f"SELECT {_JOB_COLUMNS} FROM jobs WHERE tenant = ? AND idempotency_key = ?", (job.tenant, job.idempotency_key)
                ).fetchone()
                if row is not None:
                    existing = _job(row)
                    assert existing is not None
                    return existing, False
            if self._dataset(db, job.tenant, job.dataset) is None:
                raise no_such_dataset()
            check_job_quotas(_usage(db, job.tenant), quotas)
            values = job.fields()
            values["problem"] = None
            db.execute(f"INSERT INTO jobs ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})", tuple(values.values()))
            return job, True

        return self._write(create)

    def get(self, job_id: str, tenant: str | None = None) -> Job | None:
        if tenant is None:
            return _job(self._db().execute(f"SELECT {_JOB_COLUMNS} FROM jobs WHERE id = ?", (job_id,)).fetchone())
        return _job(self._db().execute(f"SELECT {_JOB_COLUMNS} FROM jobs WHERE id = ? AND tenant = ?", (job_id, tenant)).fetchone())

    def page(self, tenant: str, state: State | None, limit: int, cursor: str | None) -> Page:
        where, args = ["tenant = ?"], [tenant]
        if state is not None:
            where.append("state = ?")
            args.append(state)
        if cursor is not None:
            created, job_id = after_cursor(cursor)
            where.append("(created < ? OR (created = ? AND id < ?))")
            args += [created, created, job_id]  # type: ignore[list-item]
        rows = (
            self._db()
            .execute(
                f"SELECT {_JOB_COLUMNS} FROM jobs WHERE {' AND '.join(where)} ORDER BY created DESC, id DESC LIMIT ?", (*args, limit + 1)
            )
            .fetchall()
        )
        jobs = [j for j in map(_job, rows) if j is not None]
        more = len(jobs) > limit
        jobs = jobs[:limit]
        return Page(jobs, cursor_of(jobs[-1].created, jobs[-1].id) if more else None)

    def delete(self, job_id: str, tenant: str | None = None) -> None:
        def delete(db: sqlite3.Connection) -> None:
            only, args = (" AND tenant = ?", (job_id, tenant)) if tenant is not None else ("", (job_id,))
            if db.execute(f"DELETE FROM jobs WHERE id = ?{only}", args).rowcount:
                db.execute("DELETE FROM history WHERE job = ?", (job_id,))

        self._write(delete)
        self._keep_reserve()

    def request_cancel(self, tenant: str, job_id: str, now: float) -> Job | None:
        def cancel(db: sqlite3.Connection) -> None:
            db.execute(
                "UPDATE jobs SET state = 'cancelled', finished = ?, cancel_requested = 1 WHERE id = ? AND tenant = ? AND state = 'queued'",
                (now, job_id, tenant),
            )
            db.execute("UPDATE jobs SET cancel_requested = 1 WHERE id = ? AND tenant = ? AND state = 'running'", (job_id, tenant))

        self._write(cancel)
        return self.get(job_id, tenant)

    def history(self, job_id: str, after: int, limit: int) -> list[HistoryEntry]:
        rows = (
            self._db()
            .execute("SELECT step, epoch, loss FROM history WHERE job = ? AND step > ? ORDER BY step LIMIT ?", (job_id, after, limit))
            .fetchall()
        )
        return [HistoryEntry(*row) for row in rows]

    # Jobs, for workers ------------------------------------------------------------------------------------------
    def claim(self, worker: str, lease: float, now: float, job_id: str | None = None) -> Job | None:
        def claim(db: sqlite3.Connection) -> str | None:
            only, args = ("AND id = ?", (job_id,)) if job_id else ("", ())
            row = db.execute(
                "SELECT id FROM jobs WHERE (state = 'queued' OR (state = 'running' AND lease_expires < ?)) "
                f"{only} ORDER BY created LIMIT 1",
                (now, *args),
            ).fetchone()
            if row is None:
                return None
            db.execute(
                "UPDATE jobs SET state = 'running', lease_owner = ?, lease_expires = ?, attempts = attempts + 1, waiting = NULL, "
                "started = COALESCE(started, ?) WHERE id = ?",
                (worker, now + lease, now, row[0]),
            )
            return str(row[0])

        claimed = self._write(claim)
        return None if claimed is None else self.get(claimed)

    def renew(self, job_id: str, worker: str, lease: float, now: float) -> bool:
        def renew(db: sqlite3.Connection) -> bool:
            cur = db.execute(
                "UPDATE jobs SET lease_expires = ? WHERE id = ? AND lease_owner = ? AND state = 'running'", (now + lease, job_id, worker)
            )
            return cur.rowcount == 1

        return self._write(renew)

    def record(self, job_id: str, worker: str, entries: list[HistoryEntry]) -> bool:
        def record(db: sqlite3.Connection) -> bool:
            row = db.execute("SELECT cancel_requested, lease_owner, state FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None or row[1] != worker or row[2] != "running":
                return True
            db.executemany(
                "INSERT OR REPLACE INTO history (job, step, epoch, loss) VALUES (?, ?, ?, ?)",
                [(job_id, e.step, e.epoch, e.loss) for e in entries],
            )
            last = entries[-1]
            db.execute(  # progress never goes back: a resumed job runs again the steps after its checkpoint
                "UPDATE jobs SET waiting = NULL, epoch = CASE WHEN step <= ? THEN ? ELSE epoch END, "
                "loss = CASE WHEN step <= ? THEN ? ELSE loss END, step = MAX(step, ?) WHERE id = ?",
                (last.step, last.epoch, last.step, last.loss, last.step, job_id),
            )
            return bool(row[0])

        return self._write(record)

    def set_waiting(self, job_id: str, worker: str, waiting: str | None) -> None:
        self._write(lambda db: db.execute("UPDATE jobs SET waiting = ? WHERE id = ? AND lease_owner = ?", (waiting, job_id, worker)))

    def finish(self, job_id: str, worker: str, state: State, now: float, compute_seconds: float, problem: dict[str, Any] | None) -> bool:
        def finish(db: sqlite3.Connection) -> bool:
            held = db.execute(
                "UPDATE jobs SET state = ?, finished = ?, compute_seconds = ?, problem = ?, lease_owner = NULL, waiting = NULL "
                "WHERE id = ? AND lease_owner = ? AND state = 'running'",
                (state, now, compute_seconds, json.dumps(problem) if problem else None, job_id, worker),
            )
            return held.rowcount == 1

        return self._write(finish)

    def release(self, worker: str) -> None:
        self._write(lambda db: db.execute("UPDATE jobs SET lease_expires = 0 WHERE lease_owner = ? AND state = 'running'", (worker,)))

    def stale(self, now: float) -> list[str]:
        rows = self._db().execute("SELECT id FROM jobs WHERE state = 'running' AND lease_expires < ?", (now,)).fetchall()
        return [str(row[0]) for row in rows]

    def expired(self, before: float, limit: int) -> list[Job]:
        states = tuple(FINISHED)
        rows = (
            self._db()
            .execute(
                f"SELECT {_JOB_COLUMNS} FROM jobs WHERE state IN ({', '.join('?' * len(states))}) AND finished < ? LIMIT ?",
                (*states, before, limit),
            )
            .fetchall()
        )
        return [j for j in map(_job, rows) if j is not None]

    def queue_depth(self) -> int:
        return int(self._db().execute("SELECT COUNT(*) FROM jobs WHERE state = 'queued'").fetchone()[0])


def _usage(db: sqlite3.Connection, tenant: str) -> Usage:
    datasets, dataset_bytes = db.execute("SELECT COUNT(*), COALESCE(SUM(bytes), 0) FROM datasets WHERE tenant = ?", (tenant,)).fetchone()
    active = tuple(ACTIVE)
    jobs, active_jobs = db.execute(
        f"SELECT COUNT(*), COALESCE(SUM(state IN ({', '.join('?' * len(active))})), 0) FROM jobs WHERE tenant = ?", (*active, tenant)
    ).fetchone()
    return Usage(int(datasets), int(dataset_bytes), int(active_jobs), int(jobs))
