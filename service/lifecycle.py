"""Readiness, and the drain that makes a SIGTERM graceful behind a load balancer.

On SIGTERM the process first turns *not ready* (``/readyz`` answers 503) and keeps
serving for ``drain_seconds``, so a load balancer or Kubernetes sees the 503 and
stops sending it new requests; ``/livez`` keeps answering 200. Then uvicorn's own
graceful shutdown runs: it stops accepting connections, lets in-flight requests
finish within ``graceful_timeout_seconds`` and exits. A second SIGTERM, or SIGINT
(Ctrl-C), skips the drain.

The drain chains in front of the SIGTERM handler that uvicorn installs in each
worker process (its server runs the lifespan inside that handler's scope), so it
works the same under the console script, ``uvicorn service.main:app`` and with
several workers. Where there is no such handler (tests, other servers) it does nothing.

The job backend is looked at every :data:`BACKEND_LOOK_SECONDS` off the event loop: while it cannot be
reached, ``/readyz`` answers 503 too (a load balancer stops sending job traffic), and 200 again once it is back.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import FrameType

from fastapi import FastAPI

from service import children
from service.config import get_settings
from service.errors import BackendUnavailable
from service.jobs.backend import get_backend

log = logging.getLogger("service.lifecycle")


#: Seconds between two looks at the job backend.
BACKEND_LOOK_SECONDS = 1.0


@dataclass
class Lifecycle:
    """Whether this process should get new requests: from start-up until the first SIGTERM, while its job backend answers.

    ``away`` names the job backend while it cannot be reached (None: it answers).
    """

    ready: bool = False
    away: str | None = None


async def _watch_backend(lifecycle: Lifecycle) -> None:
    """Keep ``lifecycle.away`` up to date (the look runs in a thread: a backend that is away may take a second to say so)."""
    while True:
        try:
            await asyncio.to_thread(get_backend().store.ping)
            if lifecycle.away:
                log.info("the job backend %s answers again: ready", lifecycle.away)
            lifecycle.away = None
        except BackendUnavailable as exc:
            if not lifecycle.away:
                log.warning("the job backend %s cannot be reached: /readyz answers 503 until it can", exc.backend)
            lifecycle.away = exc.backend
        await asyncio.sleep(BACKEND_LOOK_SECONDS)


def _drain_on_sigterm(lifecycle: Lifecycle, seconds: float) -> Callable[[], None]:
    """Put the drain in front of the current SIGTERM handler; returns the undo."""
    previous = signal.getsignal(signal.SIGTERM)
    if threading.current_thread() is not threading.main_thread() or not callable(previous):
        return lambda: None
    loop = asyncio.get_running_loop()

    def on_sigterm(sig: int, frame: FrameType | None) -> None:
        if not lifecycle.ready:  # a second SIGTERM: stop draining
            previous(sig, frame)
            return
        lifecycle.ready = False
        log.info("SIGTERM: /readyz answers 503; draining for %.1f s before shutting down", seconds)
        loop.call_soon_threadsafe(loop.call_later, seconds, previous, sig, frame)

    signal.signal(signal.SIGTERM, on_sigterm)

    def undo() -> None:
        if signal.getsignal(signal.SIGTERM) is on_sigterm:
            signal.signal(signal.SIGTERM, previous)

    return undo


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Ready once started; not ready from the first SIGTERM (or the end of the lifespan)."""
    lifecycle: Lifecycle = app.state.lifecycle
    children.watch_parent()  # a web worker of gradient-service ends with it, and its own children with it
    undo = _drain_on_sigterm(lifecycle, get_settings().drain_seconds)
    # What start-up built (modules, schemas, the app: ~77k objects) lives as long as the process: out of the collector's
    # sight, a full collection (which requests' garbage triggers now and then) takes ~4 ms instead of ~65 ms, a pause
    # every request and /livez waiting then would feel.
    gc.collect()
    gc.freeze()
    watcher = asyncio.create_task(_watch_backend(lifecycle))
    lifecycle.ready = True
    try:
        yield
    finally:
        lifecycle.ready = False
        watcher.cancel()
        undo()
