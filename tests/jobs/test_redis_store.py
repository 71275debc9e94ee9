"""The redis store's indexes: a filtered page costs the same Redis commands with 500 jobs as with 5,000 (O(limit + log n)).

Counted on the server (``INFO stats``' total_commands_processed), so the number is exact and not a timing;
benchmarks/job_lists.py times the same over HTTP.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
import redis

from service.jobs.records import DatasetRecord, Job, Quotas
from service.jobs.redis_store import RedisStore

MANY = Quotas(max_datasets=10, max_dataset_bytes=10**9, max_active_jobs=10**6, max_jobs=10**6)


def fill(store: RedisStore, tenant: str, n: int, start: int = 0) -> None:
    store.add_dataset(DatasetRecord("0" * 64, tenant, [1, 1], "float64", [1, 1], "float64", 16, time.time()), MANY)
    for i in range(start, start + n):
        job = Job(uuid.uuid4().hex, tenant, "queued", "0" * 64, 1, 1, 0, 0, None, 1000.0 + i, None, None, None, False, 0, 0.0, "f", None)
        store.create(job, MANY)
        if i % 50 == 0:  # one in fifty fails
            store.claim("w", 30, time.time(), job.id)
            store.finish(job.id, "w", "failed", time.time(), 0.0, {"error": "InvalidRequest", "detail": "x", "errors": [], "omitted": 0})


def commands(r: Any, call: Any) -> int:
    before = int(r.info("stats")["total_commands_processed"])
    call()
    return int(r.info("stats")["total_commands_processed"]) - before - 1  # less the INFO itself


def test_a_filtered_page_costs_the_same_at_500_and_5000_jobs(redis_url: str) -> None:
    r = redis.Redis.from_url(redis_url)
    r.flushdb()
    store = RedisStore(redis_url)
    fill(store, "alice", 500)
    fill(store, "bob", 200)  # another tenant's jobs are not even looked at
    cost_500 = commands(r, lambda: store.page("alice", "failed", 1, None))
    first = store.page("alice", "failed", 1, None).jobs
    fill(store, "alice", 4500, start=500)
    cost_5000 = commands(r, lambda: store.page("alice", "failed", 1, None))
    assert cost_500 == cost_5000 <= 3  # one range read and one job read (a pipeline counts each command)
    newest = store.page("alice", "failed", 1, None).jobs
    assert newest[0].created > first[0].created
    assert newest[0].state == "failed"
    assert commands(r, lambda: store.page("alice", None, 20, None)) <= 22
    assert len(store.page("alice", "failed", 1000, None).jobs) == 100


@pytest.mark.parametrize("wrong", ["nope", "1.5~XYZ", ""])
def test_a_cursor_that_is_not_one_is_refused(redis_url: str, wrong: str) -> None:
    from service.errors import InvalidRequest

    with pytest.raises(InvalidRequest, match="cursor"):
        RedisStore(redis_url).page("alice", None, 1, wrong or "~")
