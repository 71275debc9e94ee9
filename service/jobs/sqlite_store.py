"""The embedded backend's store: one SQLite file (WAL) under ``data_dir``, shared by the web and worker processes of one machine."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

from service.jobs.store import FINISHED, HistoryEntry, Job, JobStore, State

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, state TEXT NOT NULL, dataset TEXT NOT NULL, total INTEGER NOT NULL, epochs INTEGER NOT NULL,
    step INTEGER NOT NULL DEFAULT 0, epoch INTEGER NOT NULL DEFAULT 0, loss REAL, created REAL NOT NULL, started REAL,
    finished REAL, problem TEXT, cancel_requested INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0,
    compute_seconds REAL NOT NULL DEFAULT 0, fingerprint TEXT NOT NULL, idempotency_key TEXT UNIQUE,
    lease_owner TEXT, lease_expires REAL NOT NULL DEFAULT 0
);
-- the large values apart: an update of a job's progress (every step) must not rewrite megabytes of network
CREATE TABLE IF NOT EXISTS blobs (job TEXT NOT NULL, kind TEXT NOT NULL, data BLOB NOT NULL, PRIMARY KEY (job, kind)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state, created);
CREATE TABLE IF NOT EXISTS history (
    job TEXT NOT NULL, step INTEGER NOT NULL, epoch INTEGER NOT NULL, loss REAL NOT NULL, PRIMARY KEY (job, step)
) WITHOUT ROWID;
"""
_JOB_COLUMNS = ", ".join(Job.__dataclass_fields__)


def _job(row: sqlite3.Row | None) -> Job | None:
    if row is None:
        return None
    values = dict(row)
    values["problem"] = json.loads(values["problem"]) if values["problem"] else None
    values["cancel_requested"] = bool(values["cancel_requested"])
    return Job(**values)


class SqliteStore(JobStore):
    """Jobs in ``<data_dir>/jobs.sqlite3``; a connection per thread, each write one short transaction."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with self._db() as db:
            db.executescript(_SCHEMA)

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        return db

    def _write(self, sql: str, args: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        return self._db().execute(sql, args)

    def create(self, job: Job, spec: dict[str, Any]) -> tuple[Job, bool]:
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            if job.idempotency_key is not None:
                row = db.execute(f"SELECT {_JOB_COLUMNS} FROM jobs WHERE idempotency_key = ?", (job.idempotency_key,)).fetchone()
                if row is not None:
                    db.execute("COMMIT")
                    existing = _job(row)
                    assert existing is not None
                    return existing, False
            values = job.fields()
            values["problem"] = None
            names = ", ".join(values)
            db.execute(f"INSERT INTO jobs ({names}) VALUES ({', '.join('?' * len(values))})", tuple(values.values()))
            db.execute("INSERT INTO blobs (job, kind, data) VALUES (?, 'spec', ?)", (job.id, json.dumps(spec).encode()))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return job, True

    def get(self, job_id: str) -> Job | None:
        return _job(self._db().execute(f"SELECT {_JOB_COLUMNS} FROM jobs WHERE id = ?", (job_id,)).fetchone())

    def jobs(self, state: str | None, limit: int) -> list[Job]:
        where, args = ("WHERE state = ?", (state,)) if state else ("", ())
        rows = self._db().execute(f"SELECT {_JOB_COLUMNS} FROM jobs {where} ORDER BY created DESC LIMIT ?", (*args, limit)).fetchall()
        return [j for j in map(_job, rows) if j is not None]

    def spec(self, job_id: str) -> dict[str, Any]:
        row = self._db().execute("SELECT data FROM blobs WHERE job = ? AND kind = 'spec'", (job_id,)).fetchone()
        return dict(json.loads(row[0])) if row else {}

    def delete(self, job_id: str) -> None:
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        db.execute("DELETE FROM history WHERE job = ?", (job_id,))
        db.execute("DELETE FROM blobs WHERE job = ?", (job_id,))
        db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
        db.execute("COMMIT")

    def request_cancel(self, job_id: str, now: float) -> Job | None:
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        db.execute(
            "UPDATE jobs SET state = 'cancelled', finished = ?, cancel_requested = 1 WHERE id = ? AND state = 'queued'", (now, job_id)
        )
        db.execute("UPDATE jobs SET cancel_requested = 1 WHERE id = ? AND state = 'running'", (job_id,))
        db.execute("COMMIT")
        return self.get(job_id)

    def claim(self, worker: str, lease: float, now: float, job_id: str | None = None) -> Job | None:
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            only, args = ("AND id = ?", (job_id,)) if job_id else ("", ())
            row = db.execute(
                "SELECT id FROM jobs WHERE (state = 'queued' OR (state = 'running' AND lease_expires < ?)) "
                f"{only} ORDER BY created LIMIT 1",
                (now, *args),
            ).fetchone()
            if row is None:
                db.execute("COMMIT")
                return None
            db.execute(
                "UPDATE jobs SET state = 'running', lease_owner = ?, lease_expires = ?, attempts = attempts + 1, "
                "started = COALESCE(started, ?) WHERE id = ?",
                (worker, now + lease, now, row[0]),
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return self.get(row[0])

    def renew(self, job_id: str, worker: str, lease: float, now: float) -> bool:
        cur = self._write(
            "UPDATE jobs SET lease_expires = ? WHERE id = ? AND lease_owner = ? AND state = 'running'", (now + lease, job_id, worker)
        )
        return cur.rowcount == 1

    def record(self, job_id: str, worker: str, entries: list[HistoryEntry]) -> bool:
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany(
                "INSERT OR REPLACE INTO history (job, step, epoch, loss) VALUES (?, ?, ?, ?)",
                [(job_id, e.step, e.epoch, e.loss) for e in entries],
            )
            last = entries[-1]
            db.execute(
                "UPDATE jobs SET step = ?, epoch = ?, loss = ? WHERE id = ? AND lease_owner = ?",
                (last.step, last.epoch, last.loss, job_id, worker),
            )
            row = db.execute("SELECT cancel_requested, lease_owner, state FROM jobs WHERE id = ?", (job_id,)).fetchone()
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return row is None or bool(row[0]) or row[1] != worker or row[2] != "running"

    def save_checkpoint(self, job_id: str, worker: str, data: bytes, compute_seconds: float) -> None:
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        held = db.execute("UPDATE jobs SET compute_seconds = ? WHERE id = ? AND lease_owner = ?", (compute_seconds, job_id, worker))
        if held.rowcount == 1:
            db.execute("INSERT OR REPLACE INTO blobs (job, kind, data) VALUES (?, 'checkpoint', ?)", (job_id, data))
        db.execute("COMMIT")

    def _blob(self, job_id: str, kind: str) -> bytes | None:
        row = self._db().execute("SELECT data FROM blobs WHERE job = ? AND kind = ?", (job_id, kind)).fetchone()
        return None if row is None else bytes(row[0])

    def checkpoint(self, job_id: str) -> bytes | None:
        return self._blob(job_id, "checkpoint")

    def history(self, job_id: str, after: int, limit: int) -> list[HistoryEntry]:
        rows = (
            self._db()
            .execute("SELECT step, epoch, loss FROM history WHERE job = ? AND step > ? ORDER BY step LIMIT ?", (job_id, after, limit))
            .fetchall()
        )
        return [HistoryEntry(*row) for row in rows]

    def finish(
        self,
        job_id: str,
        worker: str,
        state: State,
        now: float,
        compute_seconds: float,
        result: bytes | None,
        problem: dict[str, Any] | None,
    ) -> None:
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        held = db.execute(
            "UPDATE jobs SET state = ?, finished = ?, compute_seconds = ?, problem = ?, lease_owner = NULL "
            "WHERE id = ? AND lease_owner = ?",
            (state, now, compute_seconds, json.dumps(problem) if problem else None, job_id, worker),
        )
        if held.rowcount == 1:
            db.execute("DELETE FROM blobs WHERE job = ? AND kind = 'checkpoint'", (job_id,))
            if result is not None:
                db.execute("INSERT OR REPLACE INTO blobs (job, kind, data) VALUES (?, 'result', ?)", (job_id, result))
        db.execute("COMMIT")

    def result(self, job_id: str) -> bytes | None:
        return self._blob(job_id, "result")

    def release(self, worker: str) -> None:
        self._write("UPDATE jobs SET lease_expires = 0 WHERE lease_owner = ? AND state = 'running'", (worker,))

    def expire(self, before: float) -> int:
        states = tuple(FINISHED)
        ids = [
            row[0]
            for row in self._db()
            .execute(f"SELECT id FROM jobs WHERE state IN ({', '.join('?' * len(states))}) AND finished < ?", (*states, before))
            .fetchall()
        ]
        for job_id in ids:
            self.delete(job_id)
        return len(ids)

    def uses_dataset(self, dataset: str) -> bool:
        row = self._db().execute("SELECT 1 FROM jobs WHERE dataset = ? AND state IN ('queued', 'running') LIMIT 1", (dataset,)).fetchone()
        return row is not None

    def queue_depth(self) -> int:
        return int(self._db().execute("SELECT COUNT(*) FROM jobs WHERE state = 'queued'").fetchone()[0])
