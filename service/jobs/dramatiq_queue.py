"""The redis backend's queue: each job a Dramatiq message on a Redis broker; ``gradient-service worker`` runs a Dramatiq worker.

Why Dramatiq: its Redis broker acknowledges a message only after the actor returns and keeps
a heartbeat per worker, so the messages of a worker that died are put back on the queue
(at-least-once); with the store's lease (:mod:`service.jobs.redis_store`) a job still runs in
one worker at a time, and a resumed job starts from its checkpoint. RQ and arq also work with
Redis, but RQ forks a process per job (a job's state would not survive the fork cheaply) and
arq is asyncio-first (a CPU-bound step loop blocks its event loop); Celery brings a much
larger dependency for one task. A sweeper in each worker also sends again any running job
whose lease ran out (the store's ``leases`` index), so recovery does not wait for Dramatiq's own
maintenance. Dramatiq reconnects its consumer to a Redis that comes back; the sweeper waits for it.

The queue's length (Redis list ``dramatiq:gradient-trainings``) is what an autoscaler (KEDA) watches.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import AgeLimit, Callbacks, Pipelines, Retries, ShutdownNotifications, TimeLimit

from service.config import Settings
from service.errors import BackendUnavailable
from service.jobs.backoff import Backoff
from service.jobs.queue import Take
from service.jobs.records import FINISHED
from service.jobs.redis_store import RETRY_AFTER_SECONDS, RedisStore, client

log = logging.getLogger("service.jobs")

QUEUE = "gradient-trainings"
#: Of Dramatiq's 1,000,000: how often a broker command also requeues dead workers' messages (its default: 1000).
MAINTENANCE_CHANCE = 100_000
#: Dramatiq's middleware the service needs (its default set, less Prometheus: the service exports its own metrics).
MIDDLEWARE = (AgeLimit, TimeLimit, ShutdownNotifications, Callbacks, Pipelines, Retries)


class DramatiqQueue:
    """Jobs as messages of the actor ``run_training`` on the Redis broker of ``settings.redis_url``."""

    def __init__(self, settings: Settings, store: RedisStore) -> None:
        self.settings = settings
        self.store = store
        self.broker = RedisBroker(
            client=client(settings.redis_url),
            heartbeat_timeout=int(settings.job_lease_seconds * 1000),
            maintenance_chance=MAINTENANCE_CHANCE,
            middleware=[m() for m in MIDDLEWARE],
        )
        self._take: Take | None = None
        self._stopping = threading.Event()
        self.actor: Any = dramatiq.actor(
            self._deliver,
            actor_name="run_training",
            queue_name=QUEUE,
            max_retries=0,
            time_limit=int((settings.max_job_seconds + 3600) * 1000),
            broker=self.broker,
        )

    def send(self, job_id: str, delay_seconds: float = 0) -> None:
        """Put the job on the queue (after ``delay_seconds``)."""
        try:
            self.actor.send_with_options(args=(job_id,), delay=int(delay_seconds * 1000) or None)
        except (redis.ConnectionError, redis.TimeoutError, dramatiq.errors.ConnectionError) as exc:
            raise BackendUnavailable(
                f"the job queue (Redis) cannot be reached now ({type(exc).__name__}); retry in a few seconds",
                backend="redis",
                retry_after=RETRY_AFTER_SECONDS,
            ) from exc

    def _deliver(self, job_id: str) -> None:
        """The actor: run the job if this worker can claim it; else look again when the holder's lease may end."""
        assert self._take is not None
        lease = self.settings.job_lease_seconds
        ran = self._take(job_id)
        current = self.store.get(job_id)
        if current is None or current.state in FINISHED:
            return
        if ran is None:  # another worker holds it
            self.send(job_id, lease)
        elif self._stopping.is_set() and current.state == "running":  # checkpointed for shutdown: queue it again
            self.send(job_id)

    def work(self, take: Take, tick: Callable[[], None], stopping: threading.Event) -> None:
        """A Dramatiq worker (one thread: a job is CPU-bound) on the job queue, and the sweeper, until ``stopping``."""
        self._take = take
        worker = dramatiq.Worker(self.broker, queues={QUEUE, f"{QUEUE}.DQ"}, worker_threads=1, worker_timeout=200)
        worker.start()
        backoff = Backoff("the job queue's sweeper")
        try:
            while not stopping.wait(self.settings.job_lease_seconds / 2):
                try:
                    for job_id in self.store.stale(time.time()):
                        log.info("job %s lost its worker; sending it again", job_id)
                        self.send(job_id)
                    tick()
                    backoff.recovered()
                except BackendUnavailable as exc:
                    backoff.wait(exc, stopping)
        finally:
            self._stopping.set()
            worker.stop(timeout=60_000)
