"""Listing jobs at scale (issue 18): ``GET /v1/trainings?state=failed&limit=1`` with 500 and with 5,000 jobs of the tenant.

A real server on each backend (SQLite; Redis, on a redis-server of its own on loopback), the jobs made through the
store directly (one in fifty failed), then the same request timed over HTTP at each size, side by side. Prints the
median and the ratio time(5,000) ÷ time(500) per backend (target: a filtered list of 1 under 20 ms, and the ratio
under 2), and a page of 100 of every state for comparison.

    python -m benchmarks.job_lists
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from service.jobs.records import DatasetRecord, Job, Quotas
from service.jobs.store import Store
from tests.server import free_port, running_server

MANY = Quotas(max_datasets=10, max_dataset_bytes=10**9, max_active_jobs=10**6, max_jobs=10**6)
ROUNDS = 200


def fill(store: Store, n: int, start: int) -> None:
    if start == 0:
        store.add_dataset(DatasetRecord("0" * 64, "default", [1, 1], "float64", [1, 1], "float64", 16, time.time()), MANY)
    for i in range(start, start + n):
        job = Job(uuid.uuid4().hex, "default", "queued", "0" * 64, 1, 1, 0, 0, None, 1000.0 + i, None, None, None, False, 0, 0.0, "f", None)
        store.create(job, MANY)
        if i % 50 == 0:
            store.claim("w", 30, time.time(), job.id)
            store.finish(job.id, "w", "failed", time.time(), 0.0, None)


def timed(url: str, params: dict[str, str | int]) -> float:
    """Median milliseconds of ``ROUNDS`` requests (after 20 not counted)."""
    times = []
    with httpx.Client() as client:
        for i in range(ROUNDS + 20):
            start = time.perf_counter()
            r = client.get(f"{url}/v1/trainings", params=params)
            elapsed = time.perf_counter() - start
            assert r.status_code == 200, r.text
            if i >= 20:
                times.append(elapsed * 1000)
    return statistics.median(times)


def run(backend: str, env: dict[str, str], store: Store) -> None:
    with running_server(env) as server:
        fill(store, 500, 0)
        at_500 = {name: timed(server.url, params) for name, params in CASES.items()}
        fill(store, 4500, 500)
        at_5000 = {name: timed(server.url, params) for name, params in CASES.items()}
    for name in CASES:
        ratio = at_5000[name] / at_500[name]
        print(f"{backend:8} {name:28} 500: {at_500[name]:6.2f} ms   5,000: {at_5000[name]:6.2f} ms   ratio {ratio:4.2f}")


CASES: dict[str, dict[str, str | int]] = {"state=failed&limit=1": {"state": "failed", "limit": 1}, "limit=100": {"limit": 100}}


def main() -> None:
    print(f"GET /v1/trainings, median of {ROUNDS} requests over loopback, one web worker; targets: < 20 ms, ratio < 2")
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "sqlite"
        from service.jobs.sqlite_store import SqliteStore

        run("sqlite", {"GRADIENT_DATA_DIR": str(data)}, SqliteStore(data / "jobs.sqlite3"))
        redis = shutil.which("redis-server")
        if redis is None:
            print("redis: skipped (no redis-server)", file=sys.stderr)
            return
        port = free_port()
        process = subprocess.Popen(
            [redis, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", tmp], stdout=subprocess.DEVNULL
        )
        try:
            time.sleep(0.5)
            url = f"redis://127.0.0.1:{port}/0"
            from service.jobs.redis_store import RedisStore

            env = {"GRADIENT_JOBS_BACKEND": "redis", "GRADIENT_REDIS_URL": url, "GRADIENT_DATA_DIR": str(Path(tmp) / "redis")}
            run("redis", env, RedisStore(url))
        finally:
            process.terminate()
            process.wait()


if __name__ == "__main__":
    os.environ.setdefault("GRADIENT_LOG_LEVEL", "warning")
    main()
