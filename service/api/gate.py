"""Admission control: bodies being received are bounded in bytes; computations in number (running, waiting).

Queueing without a bound lets a burst pile up work (and memory) that no client
will wait for. Each worker process runs at most ``max_concurrent_computations``
at a time and lets ``max_queued_computations`` more wait, for at most
``max_compute_seconds``; any other request is refused immediately with 503 and
``Retry-After``, before its body is read (service/api/body.py). Small bodies have a lane (a gate) of
their own, so that a primer-sized request does not queue behind MNIST-sized ones.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from weakref import WeakKeyDictionary

from service.config import get_settings
from service.errors import Overloaded


class Gate:
    """At most ``running`` holders at once and ``queued`` waiters; :meth:`slot` refuses the rest."""

    def __init__(self, running: int, queued: int, wait_seconds: float) -> None:
        self.capacity = running + queued
        self.wait_seconds = wait_seconds
        self.inside = 0
        self._semaphore = asyncio.Semaphore(running)

    def slot(self) -> _Slot:
        """Hold one of the running slots for the block; 503 if the queue is full or the wait too long."""
        return _Slot(self)


class _Slot:
    """:meth:`Gate.slot`: a plain class, not a generator: entering a free gate costs a few attribute updates."""

    def __init__(self, gate: Gate) -> None:
        self.gate = gate

    async def __aenter__(self) -> None:
        gate = self.gate
        if gate.inside >= gate.capacity:
            raise overloaded(1, "all computation slots are busy and the queue is full")
        gate.inside += 1
        try:
            if gate._semaphore.locked():  # wait, within the limit (a free slot is taken without a timer)
                await asyncio.wait_for(gate._semaphore.acquire(), gate.wait_seconds)
            else:
                await gate._semaphore.acquire()
        except TimeoutError:
            gate.inside -= 1
            raise overloaded(gate.wait_seconds, "no computation slot became free in time") from None
        except BaseException:
            gate.inside -= 1
            raise

    async def __aexit__(self, *exc: object) -> None:
        self.gate._semaphore.release()
        self.gate.inside -= 1


def overloaded(retry_after: float, why: str) -> Overloaded:
    """The refusal a client should retry after ``retry_after`` seconds."""
    return Overloaded(f"the server is at capacity ({why}); retry later", retry_after=retry_after)


_gates: WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[Gate, Gate]] = WeakKeyDictionary()


def gate(body_bytes: int | None) -> Gate:
    """This event loop's gate for a body of this declared size (None: unknown, so large).

    One pair of gates per worker process; tests may run several event loops.
    """
    loop = asyncio.get_running_loop()
    if loop not in _gates:
        _gates[loop] = (_new_gate(), _new_gate())
    small, large = _gates[loop]
    # within the limits, a small body's work is tiny (at most ~16k numbers), so it never waits behind large computations
    return small if body_bytes is not None and body_bytes <= get_settings().small_body_bytes else large


def _new_gate() -> Gate:
    s = get_settings()
    return Gate(s.max_concurrent_computations, s.max_queued_computations, s.max_compute_seconds)


class Receiving:
    """Bodies being received at once, by their declared bytes, at most ``capacity``: a large body waits for room.

    The wait has no limit of its own: the caller bounds it with the body's deadline.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.used = 0
        self._room = asyncio.Condition()

    @asynccontextmanager
    async def room(self, size: int) -> AsyncIterator[None]:
        """Hold ``size`` bytes of room for the block, once they are free."""
        size = min(size, self.capacity)
        async with self._room:
            await self._room.wait_for(lambda: self.used + size <= self.capacity)
            self.used += size
        try:
            yield
        finally:
            async with self._room:
                self.used -= size
                self._room.notify_all()


_receiving: WeakKeyDictionary[asyncio.AbstractEventLoop, Receiving] = WeakKeyDictionary()


def receiving(declared: int | None) -> AbstractAsyncContextManager[None]:
    """Room to receive a body of this declared size (None: unknown, so ``max_body_bytes``); small bodies need none.

    A body larger than ``small_body_bytes`` waits while ``max_receiving_bytes`` are being received by others
    (within its own deadline, service/api/body.py): slow senders queue behind each other and hold no computation slot.
    """
    s = get_settings()
    if declared is not None and declared <= s.small_body_bytes:
        return _NO_ROOM_NEEDED
    loop = asyncio.get_running_loop()
    if loop not in _receiving:
        _receiving[loop] = Receiving(s.max_receiving_bytes)
    return _receiving[loop].room(declared if declared is not None else s.max_body_bytes)


class _NoRoomNeeded:
    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *exc: object) -> None:
        return None


_NO_ROOM_NEEDED = _NoRoomNeeded()
