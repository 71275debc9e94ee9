"""The job backend in use (``GRADIENT_JOBS_BACKEND``): a store and a queue, picked here and nowhere else.

- ``embedded``: SQLite under ``data_dir`` (:mod:`~service.jobs.sqlite_store`); the queue is the store itself
  (:class:`~service.jobs.queue.StoreQueue`), and ``gradient-service`` starts the workers. One instance owns the data dir.
- ``redis``: datasets' records and jobs in Redis (:mod:`~service.jobs.redis_store`), each job a Dramatiq message
  (:mod:`~service.jobs.dramatiq_queue`); workers are ``gradient-service worker`` processes. The data dir (datasets'
  and jobs' files) is shared by every replica and worker (a volume).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from service.config import Settings, get_settings
from service.jobs.datasets import Datasets
from service.jobs.files import JobFiles
from service.jobs.queue import Queue, StoreQueue
from service.jobs.store import Store


@dataclass(frozen=True)
class Backend:
    """A store, a queue, and the files under the data dir. ``exclusive``: one instance owns the data dir (and starts the workers)."""

    settings: Settings
    store: Store
    queue: Queue
    datasets: Datasets
    files: JobFiles
    exclusive: bool


def _embedded(settings: Settings) -> tuple[Store, Queue, bool]:
    from service.jobs.sqlite_store import SqliteStore

    return SqliteStore(settings.data_dir / "jobs.sqlite3"), StoreQueue(), True


def _redis(settings: Settings) -> tuple[Store, Queue, bool]:
    from service.jobs.dramatiq_queue import DramatiqQueue
    from service.jobs.redis_store import RedisStore

    store = RedisStore(settings.redis_url)
    return store, DramatiqQueue(settings, store), False


#: Each backend's store and queue (and whether it owns its data dir), by ``jobs_backend``.
BACKENDS: dict[str, Callable[[Settings], tuple[Store, Queue, bool]]] = {"embedded": _embedded, "redis": _redis}


def make_backend(settings: Settings) -> Backend:
    """The backend ``settings.jobs_backend`` names."""
    store, queue, exclusive = BACKENDS[settings.jobs_backend](settings)
    datasets = Datasets(settings.data_dir / "datasets", store, settings)
    return Backend(settings, store, queue, datasets, JobFiles(settings.data_dir / "jobs"), exclusive)


@cache
def get_backend() -> Backend:
    """This process's backend, made on first use."""
    return make_backend(get_settings())
