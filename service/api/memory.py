"""Memory admitted by size: each worker runs computations whose estimated peaks fit its budget.

A computation's peak is estimated from its body before it is parsed, from its bytes and
its numbers (commas, counted in a few ms for 32 MiB):

    peak ≈ PEAK_PER_BODY_BYTE · bytes + PEAK_PER_NUMBER · commas

Measured on a fresh server (worker and parse processes together, sampled every 5 ms):
JSON of one-character numbers, the most numbers per byte, grew 85 B a number for a
train-step (the Python floats and list slots of the parse, the arrays as they are
pickled back, float32 copies, Adam's slots, the answer); MNIST-sized JSON of long
numbers 27–50 B a number; binary tensors 2× their bytes. The estimate is above each.
Before the body has arrived only its declared length is known: the early check uses
the bytes term alone (a lower bound), so it refuses only what could never fit.

The budget is ``memory_budget_bytes``, or else the cgroup's memory limit (the
container's ``mem_limit``, Kubernetes' ``limits.memory``) shared by the workers, less
what an idle worker holds (see ``Settings.memory_budget``); a request that could never
fit is told so (413), one that does not fit now gets 503 with ``Retry-After``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from weakref import WeakKeyDictionary

from service.config import get_settings
from service.errors import BodyTooLarge, Overloaded
from service.metrics import count_rejection

#: Peak memory per byte of the body, and per number in it (see the module docstring).
PEAK_PER_BODY_BYTE = 6
PEAK_PER_NUMBER = 96
#: What every computation needs besides its body (buffers, the answer's first chunks), so a tiny one is not free.
PEAK_FLOOR = 256 * 1024


def estimate(body_bytes: int, numbers: int = 0) -> int:
    """The estimated peak memory of the computation of a body of this size with this many numbers (0: a lower bound)."""
    return PEAK_FLOOR + PEAK_PER_BODY_BYTE * body_bytes + PEAK_PER_NUMBER * numbers


def numbers_in(body: bytes | bytearray) -> int:
    """About how many numbers a JSON body holds: its commas (an upper bound: every number but the last of an array has one)."""
    return body.count(b",")


class MemoryBudget:
    """Bytes of estimated peak reserved by the computations running now, at most ``total``."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.used = 0

    def check_fits(self, body_bytes: int, numbers: int = 0) -> None:
        """413 for a body whose computation could never fit the budget, even alone (``numbers`` 0: before it is read)."""
        need = estimate(body_bytes, numbers)
        if need > self.total:
            count_rejection("memory_budget_bytes")
            sent = f"the body has {body_bytes:,} bytes" + (f" and about {numbers:,} numbers" if numbers else "")
            raise BodyTooLarge(
                f"{sent}; its computation needs about {need:,} bytes of memory and this server's memory_budget_bytes is "
                f"{self.total:,}: send a smaller batch or network (binary tensors carry a number in 5⅓ bytes and cost the least)",
                [("", sent)],
            )

    @contextmanager
    def reserve(self, body_bytes: int, numbers: int) -> Iterator[None]:
        """Hold the estimated peak of a body's computation for the block; 503 if it does not fit now, 413 if never."""
        self.check_fits(body_bytes, numbers)
        with self.hold(estimate(body_bytes, numbers)):
            yield

    @contextmanager
    def hold(self, need: int) -> Iterator[None]:
        """Hold ``need`` bytes of the budget for the block (503 if they are not free now)."""
        if self.used + need > self.total:
            count_rejection("memory_budget_bytes")
            raise Overloaded(
                f"the server is at capacity (this computation needs about {need:,} bytes of memory and "
                f"{self.total - self.used:,} of the memory_budget_bytes {self.total:,} are free); retry later",
                retry_after=1,
            )
        self.used += need
        try:
            yield
        finally:
            self.used -= need


_budgets: WeakKeyDictionary[asyncio.AbstractEventLoop, MemoryBudget] = WeakKeyDictionary()


def memory() -> MemoryBudget:
    """This event loop's budget (one per worker process; tests may run several event loops)."""
    loop = asyncio.get_running_loop()
    if loop not in _budgets:
        _budgets[loop] = MemoryBudget(get_settings().memory_budget())
    return _budgets[loop]
