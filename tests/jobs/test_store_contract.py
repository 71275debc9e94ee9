"""One contract, every store: the same tests against the embedded store (SQLite) and the redis store (a real redis-server).

What a store promises (service/jobs/store.py): a tenant sees only its own records, idempotency keys and dataset
ids are per tenant, quotas hold in the transaction that would cross them, lists page newest first with a cursor,
a state filter follows every state change, a worker's write needs its lease, and progress never goes back.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.errors import NotFound, QuotaExceeded
from service.jobs.records import DatasetRecord, HistoryEntry, Job, Quotas
from service.jobs.store import Store

ROOMY = Quotas(max_datasets=100, max_dataset_bytes=10**9, max_active_jobs=100, max_jobs=1000)


@pytest.fixture(params=["sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        from service.jobs.sqlite_store import SqliteStore

        yield SqliteStore(tmp_path / "jobs.sqlite3")
        return
    import redis

    from service.jobs.redis_store import RedisStore

    url = request.getfixturevalue("redis_url")
    redis.Redis.from_url(url).flushdb()
    yield RedisStore(url)


def dataset(tenant: str, n: int = 0, size: int = 100) -> DatasetRecord:
    return DatasetRecord(f"{n:064x}", tenant, [10, 2], "float64", [10, 1], "float64", size, time.time())


def job(tenant: str, created: float | None = None, key: str | None = None, data: int = 0) -> Job:
    return Job(
        id=uuid.uuid4().hex,
        tenant=tenant,
        state="queued",
        dataset=f"{data:064x}",
        total=10,
        epochs=1,
        step=0,
        epoch=0,
        loss=None,
        created=time.time() if created is None else created,
        started=None,
        finished=None,
        problem=None,
        cancel_requested=False,
        attempts=0,
        compute_seconds=0.0,
        fingerprint="f",
        idempotency_key=key,
    )


def made(store: Store, *jobs: Job, quotas: Quotas = ROOMY) -> list[Job]:
    for j in jobs:
        if store.dataset(j.tenant, j.dataset) is None:
            store.add_dataset(dataset(j.tenant, int(j.dataset, 16)), ROOMY)
    return [store.create(j, quotas)[0] for j in jobs]


def test_a_tenant_sees_only_its_own(store: Store) -> None:
    (a,) = made(store, job("alice"))
    assert store.get(a.id, "alice") == a
    assert store.get(a.id, "bob") is None
    assert store.get(a.id) == a  # a worker's look: any tenant's
    assert store.page("bob", None, 10, None).jobs == []
    assert store.request_cancel("bob", a.id, time.time()) is None
    store.delete(a.id, "bob")
    assert store.get(a.id, "alice") == a
    assert store.dataset("bob", a.dataset) is None
    assert store.remove_dataset("bob", a.dataset) == "missing"


def test_datasets_are_per_tenant_and_their_quotas_hold(store: Store) -> None:
    one = Quotas(max_datasets=2, max_dataset_bytes=250, max_active_jobs=1, max_jobs=1)
    assert store.add_dataset(dataset("alice", 1), one)[1]
    assert not store.add_dataset(dataset("alice", 1), one)[1]  # the same id again: the same dataset
    assert store.add_dataset(dataset("bob", 1), one)[1]  # another tenant's: its own
    with pytest.raises(QuotaExceeded) as caught:
        store.add_dataset(dataset("alice", 2, size=200), one)
    assert caught.value.quota == "tenant_max_dataset_bytes"
    assert store.add_dataset(dataset("alice", 2), one)[1]
    with pytest.raises(QuotaExceeded) as caught:
        store.add_dataset(dataset("alice", 3), one)
    assert caught.value.quota == "tenant_max_datasets"
    assert "delete one" in caught.value.detail
    assert store.remove_dataset("alice", dataset("alice", 2).id) == "removed"
    assert store.add_dataset(dataset("alice", 3), one)[1]  # room again
    usage = store.usage("alice")
    assert (usage.datasets, usage.dataset_bytes) == (2, 200)


def test_a_dataset_in_use_is_not_removed(store: Store) -> None:
    (a,) = made(store, job("alice"))
    assert store.remove_dataset("alice", a.dataset) == "in_use"
    store.request_cancel("alice", a.id, time.time())
    assert store.remove_dataset("alice", a.dataset) == "removed"


def test_a_job_needs_a_dataset_of_its_tenant(store: Store) -> None:
    store.add_dataset(dataset("alice"), ROOMY)
    with pytest.raises(NotFound):
        store.create(job("bob"), ROOMY)


def test_idempotency_keys_are_per_tenant(store: Store) -> None:
    a, again = made(store, job("alice", key="k"), job("alice", key="k"))
    assert again.id == a.id
    (b,) = made(store, job("bob", key="k"))
    assert b.id != a.id
    assert store.get(b.id, "bob") is not None
    store.delete(a.id, "alice")
    (fresh,) = made(store, job("alice", key="k"))  # the key is free again with its job gone
    assert fresh.id != a.id


def test_job_quotas_hold_and_free_up(store: Store) -> None:
    quotas = Quotas(max_datasets=10, max_dataset_bytes=10**9, max_active_jobs=2, max_jobs=3)
    first, _ = made(store, job("alice"), job("alice"), quotas=quotas)
    with pytest.raises(QuotaExceeded) as caught:
        made(store, job("alice"), quotas=quotas)
    assert caught.value.quota == "tenant_max_active_jobs"
    assert caught.value.retry_after
    made(store, job("bob"), quotas=quotas)  # another tenant's quota is its own
    store.request_cancel("alice", first.id, time.time())  # a queued job cancelled: no longer active
    made(store, job("alice"), quotas=quotas)
    store.request_cancel("alice", made(store, job("bob"), quotas=quotas)[0].id, time.time())
    with pytest.raises(QuotaExceeded) as caught:
        made(store, job("alice"), quotas=quotas)
    assert caught.value.quota in ("tenant_max_active_jobs", "tenant_max_jobs")
    store.delete(first.id, "alice")
    assert store.usage("alice").jobs == 2


def test_pages_are_newest_first_with_a_cursor_and_ties_broken_by_id(store: Store) -> None:
    jobs = made(store, *[job("alice", created=1000.0 + i // 3) for i in range(10)])  # three at each time
    want = sorted(jobs, key=lambda j: (j.created, j.id), reverse=True)
    got: list[Job] = []
    cursor = None
    while True:
        page = store.page("alice", None, 4, cursor)
        got += page.jobs
        if page.next is None:
            break
        cursor = page.next
    assert [j.id for j in got] == [j.id for j in want]
    assert store.page("alice", None, 10, None).next is None


def test_a_state_filter_follows_every_change_of_state(store: Store) -> None:
    a, b, c = made(store, *[job("alice", created=1000.0 + i) for i in range(3)])
    now = time.time()
    claimed = store.claim("w1", 30, now, a.id)
    assert claimed is not None
    assert claimed.state == "running"
    assert claimed.attempts == 1
    store.request_cancel("alice", b.id, now)

    def ids(state: str) -> list[str]:
        return [j.id for j in store.page("alice", state, 10, None).jobs]  # type: ignore[arg-type]

    assert (ids("running"), ids("cancelled"), ids("queued")) == ([a.id], [b.id], [c.id])
    assert store.finish(a.id, "w1", "succeeded", now, 1.0, None)
    assert (ids("running"), ids("succeeded")) == ([], [a.id])
    assert store.get(a.id, "alice").state == "succeeded"  # type: ignore[union-attr]
    store.delete(c.id, "alice")
    assert ids("queued") == []


def test_a_workers_writes_need_its_lease_and_progress_never_goes_back(store: Store) -> None:
    (a,) = made(store, job("alice"))
    now = time.time()
    assert store.claim("w1", 30, now) is not None
    assert store.claim("w2", 30, now) is None  # held
    assert not store.record(a.id, "w1", [HistoryEntry(1, 1, 0.5), HistoryEntry(2, 1, 0.4), HistoryEntry(3, 1, 0.3)])
    assert store.record(a.id, "w2", [HistoryEntry(4, 1, 0.2)])  # not the holder: stop, nothing written
    assert not store.renew(a.id, "w2", 30, now)
    assert store.renew(a.id, "w1", 30, now)
    resumed = store.claim("w2", 30, now + 60)  # the lease ran out: another worker resumes (from a checkpoint at step 1)
    assert resumed is not None
    assert resumed.attempts == 2
    assert store.stale(now + 200) == [a.id]
    assert not store.record(a.id, "w2", [HistoryEntry(2, 1, 0.4)])
    assert store.get(a.id).step == 3  # type: ignore[union-attr]  # never back to 2
    assert [e.step for e in store.history(a.id, 0, 100)] == [1, 2, 3]  # each step once
    assert [e.step for e in store.history(a.id, 1, 1)] == [2]
    assert not store.finish(a.id, "w1", "succeeded", now, 1.0, None)  # w1 lost it
    store.set_waiting(a.id, "w2", "disk full")
    assert store.get(a.id).waiting == "disk full"  # type: ignore[union-attr]
    assert not store.record(a.id, "w2", [HistoryEntry(4, 1, 0.2)])
    assert store.get(a.id).waiting is None  # type: ignore[union-attr]  # a step done: no longer waiting


def test_cancel_release_expiry_and_the_queue(store: Store) -> None:
    a, b = made(store, job("alice", created=1.0), job("bob", created=2.0))
    assert store.queue_depth() == 2
    now = time.time()
    first = store.claim("w1", 30, now)
    assert first is not None
    assert first.id == a.id  # the oldest queued job first
    assert store.queue_depth() == 1
    store.request_cancel("alice", a.id, now)
    running = store.get(a.id)
    assert running is not None
    assert (running.state, running.cancel_requested) == ("running", True)
    assert store.record(a.id, "w1", [HistoryEntry(1, 1, 0.5)])  # the worker is told to stop
    store.release("w1")
    assert store.stale(now) == [a.id]
    again = store.claim("w2", 30, now)
    assert again is not None
    assert again.id == a.id  # released: taken at once
    assert store.finish(a.id, "w2", "cancelled", now - 100, 0.0, None)
    assert [j.id for j in store.expired(now - 50, 10)] == [a.id]
    assert store.expired(now - 200, 10) == []
    store.delete(a.id)
    assert store.get(a.id) is None
    assert store.get(b.id, "bob") is not None
