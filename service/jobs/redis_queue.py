"""The redis backend's queue: each job a Dramatiq message on a Redis broker; ``gradient-service worker`` runs a Dramatiq worker.

Why Dramatiq: its Redis broker acknowledges a message only after the actor returns and keeps
a heartbeat per worker, so the messages of a worker that died are put back on the queue
(at-least-once); with the store's lease (:mod:`service.jobs.redis_store`) a job still runs in
one worker at a time, and a resumed job starts from its checkpoint. RQ and arq also work with
Redis, but RQ forks a process per job (a job's state would not survive the fork cheaply) and
arq is asyncio-first (a CPU-bound step loop blocks its event loop); Celery brings a much
larger dependency for one task. A sweeper in each worker also sends again any running job
whose lease ran out, so recovery does not wait for Dramatiq's own maintenance.

The queue's length (Redis list ``dramatiq:gradient-trainings``) is what an autoscaler (KEDA) watches.
"""

from __future__ import annotations

import logging
import threading
import time
from functools import cache
from typing import TYPE_CHECKING, Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker

from service.config import Settings
from service.jobs.runner import run
from service.jobs.store import FINISHED

if TYPE_CHECKING:
    from service.jobs.backend import Backend

log = logging.getLogger("service.jobs")

QUEUE = "gradient-trainings"
#: Of Dramatiq's 1,000,000: how often a broker command also requeues dead workers' messages (its default: 1000).
MAINTENANCE_CHANCE = 100_000

_stopping = threading.Event()


@cache
def _actor(url: str, lease_ms: int, time_limit_ms: int) -> Any:
    broker = RedisBroker(url=url, heartbeat_timeout=lease_ms, maintenance_chance=MAINTENANCE_CHANCE)
    dramatiq.set_broker(broker)
    return dramatiq.actor(
        _run_training, actor_name="run_training", queue_name=QUEUE, max_retries=0, time_limit=time_limit_ms, broker=broker
    )


def actor(settings: Settings) -> Any:
    return _actor(settings.redis_url, int(settings.job_lease_seconds * 1000), int((settings.max_job_seconds + 3600) * 1000))


def send(settings: Settings, job_id: str, delay_seconds: float = 0) -> None:
    """Put the job on the queue (after ``delay_seconds``)."""
    actor(settings).send_with_options(args=(job_id,), delay=int(delay_seconds * 1000) or None)


def _run_training(job_id: str) -> None:
    from service.jobs.backend import get_backend, worker_name

    backend = get_backend()
    settings, store = backend.settings, backend.store
    worker = worker_name()
    job = store.claim(worker, settings.job_lease_seconds, time.time(), job_id)
    if job is None:
        current = store.get(job_id)
        if current is not None and current.state not in FINISHED:  # another worker holds it: look again when its lease may end
            send(settings, job_id, settings.job_lease_seconds)
        return
    log.info("worker %s runs job %s (attempt %d, from step %d)", worker, job.id, job.attempts, job.step)
    run(store, backend.datasets, job, worker, settings, _stopping)
    after = store.get(job_id)
    if _stopping.is_set() and after is not None and after.state == "running":  # checkpointed for shutdown: queue it again
        send(settings, job_id)


def work(backend: Backend, stopping: threading.Event) -> None:
    """A Dramatiq worker (one thread: a job is CPU-bound) on the job queue, and the sweeper, until ``stopping``."""
    from service.jobs.redis_store import RedisStore

    settings = backend.settings
    broker = actor(settings).broker
    worker = dramatiq.Worker(broker, queues={QUEUE, f"{QUEUE}.DQ"}, worker_threads=1, worker_timeout=200)
    worker.start()
    store = backend.store
    try:
        while not stopping.wait(settings.job_lease_seconds / 2):
            if isinstance(store, RedisStore):
                for job_id in store.stale(time.time()):
                    log.info("job %s lost its worker; sending it again", job_id)
                    send(settings, job_id)
            backend.expire()
    finally:
        _stopping.set()
        worker.stop(timeout=60_000)
