"""The SQLite store: lists read through an index, space goes back to the file system but for a reserve, and a file of
another schema version is refused with what to do."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from service.jobs.sqlite_store import RESERVE_PAGES, SqliteStore


def plans(store: SqliteStore, call: Callable[[], object]) -> list[str]:
    """The query plan of every SELECT that ``call`` runs (traced, then explained with the same arguments bound in)."""
    db = store._db()
    seen: list[str] = []
    db.set_trace_callback(seen.append)
    try:
        call()
    finally:
        db.set_trace_callback(None)
    return [" ".join(str(r[-1]) for r in db.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall()) for sql in seen if sql.startswith("SELECT")]


def test_a_filtered_list_and_a_claim_read_an_index(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "jobs.sqlite3")
    (page,) = plans(store, lambda: store.page("alice", "failed", 1, None))
    assert "USING INDEX jobs_by_state (tenant=? AND state=?)" in page
    assert "TEMP B-TREE" not in page  # no sort of all the tenant's jobs: read newest first from the index
    (everything,) = plans(store, lambda: store.page("alice", None, 1, "1000.5~" + "0" * 32))
    assert "USING INDEX jobs_by_tenant" in everything
    assert "TEMP B-TREE" not in everything
    claim = plans(store, lambda: store.claim("w", 30, 0.0))
    assert any("jobs_queue" in p for p in claim)


def test_the_file_keeps_a_reserve_of_free_pages_and_gives_back_the_rest(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "jobs.sqlite3")
    db = store._db()
    assert db.execute("PRAGMA auto_vacuum").fetchone()[0] == 2  # incremental
    assert db.execute("PRAGMA freelist_count").fetchone()[0] == RESERVE_PAGES
    db.execute("CREATE TABLE junk (data BLOB)")
    db.execute("INSERT INTO junk VALUES (zeroblob(20000000))")
    db.execute("DROP TABLE junk")
    assert db.execute("PRAGMA freelist_count").fetchone()[0] > 4 * RESERVE_PAGES
    store._keep_reserve()
    assert db.execute("PRAGMA freelist_count").fetchone()[0] == RESERVE_PAGES


def test_a_file_of_another_version_is_refused_with_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "jobs.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE jobs (id TEXT PRIMARY KEY)")  # as the first version wrote it
    with pytest.raises(RuntimeError, match="GRADIENT_DATA_DIR"):
        SqliteStore(path)
