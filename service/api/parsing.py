"""Validating a request body: small ones in the worker thread, large ones in a separate process.

pydantic-core builds the Python lists of a JSON matrix while holding the GIL, about
0.3 s per million numbers (measured: 5.2 s for a 32 MiB body of one-character
numbers, with no pause longer than the whole matrix). In the worker process that
would stall its event loop, and so ``/livez`` and every small request, for as long.
A body over ``parse_in_process_bytes`` is therefore validated in a parse process
(``max_concurrent_computations`` of them per worker, started at start-up); the validated model comes back pickled,
which costs the worker ~30 ms for 128 MiB of arrays, and only ``memcpy`` of them.
A validation error becomes its domain error in the process that parsed, and is
raised here.
"""

from __future__ import annotations

import importlib
import logging
import math
import multiprocessing
import pkgutil
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from service.api import deadline
from service.config import get_settings
from service.errors import TimedOut
from service.schemas.validation import from_validation_error

M = TypeVar("M", bound=BaseModel)

log = logging.getLogger("service.parsing")

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None
_disabled = False  # set when parse processes cannot start in this program


def parse(body: bytes | bytearray, model: type[M]) -> M:
    """``body`` validated as ``model``, here or in the parse process (by its size); a ValidationError becomes its domain error.

    Call it from a worker thread: for a large body it waits for the parse process, within the request's deadline.
    """
    if len(body) <= get_settings().parse_in_process_bytes or _disabled:
        return parse_here(body, model)
    future = _parse_pool().submit(parse_here, bytes(body), model)
    try:
        left = deadline.remaining()
        return future.result(timeout=None if math.isinf(left) else left)
    except TimeoutError:
        future.cancel()
        raise TimedOut(f"parsing the body took longer than the limit max_compute_seconds = {deadline.budget():g} s") from None
    except BrokenProcessPool:  # the parse process died (killed, out of memory): a new one for the next body; this one here
        log.warning("a parse process stopped; parsing this body in the worker, and starting a new one for the next")
        _reset_pool()
        return parse_here(body, model)


def parse_here(body: bytes | bytearray, model: type[M]) -> M:
    """``body`` validated as ``model`` in this thread (converting 200k validation errors takes a while: not on the event loop)."""
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        raise from_validation_error(exc) from None


def _parse_pool() -> ProcessPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            # spawn: the worker has threads, so no fork; the process imports the schemas once and keeps them
            # as many as the large lane runs computations at once, so parses do not queue behind each other
            workers = get_settings().max_concurrent_computations
            _pool = ProcessPoolExecutor(
                max_workers=workers, mp_context=multiprocessing.get_context("spawn"), initializer=_import_the_schemas
            )
        return _pool


def _import_the_schemas() -> None:
    """In a parse process, before its first body: import every request model's module (~1 s), not on a client's time."""
    import service.schemas
    from service import children

    children.watch_parent()  # it ends with the worker that started it

    for module in pkgutil.iter_modules(service.schemas.__path__):
        importlib.import_module(f"service.schemas.{module.name}")


def _reset_pool() -> None:
    global _pool
    with _lock:
        broken, _pool = _pool, None
    if broken is not None:
        broken.shutdown(wait=False, cancel_futures=True)


def warm_up() -> None:
    """Start the parse processes now (at start-up) rather than on the first large bodies (~1 s of imports each).

    Where they cannot start (a program whose ``__main__`` a spawned process cannot import again, e.g. ``python -c``
    or a notebook), every body is parsed in the worker, with a warning: /livez then waits for large parses.
    """
    global _disabled
    if not get_settings().parse_in_process_bytes or _disabled:
        return
    pool = _parse_pool()
    try:
        for started in [pool.submit(time.sleep, 0.2) for _ in range(get_settings().max_concurrent_computations)]:
            started.result()
    except BrokenProcessPool:
        log.warning("parse processes cannot start here; large bodies are parsed in the worker")
        _disabled = True
        _reset_pool()


def shut_down() -> None:
    """Stop the parse process (at shutdown)."""
    _reset_pool()
