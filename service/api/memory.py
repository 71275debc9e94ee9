"""Memory admitted by size: each worker runs computations whose estimated peaks fit its budget.

A computation's peak is estimated from its body before it is parsed:
``PEAK_PER_BODY_BYTE`` × the body's bytes, measured for the worst case, JSON of
one-character numbers (2 bytes a number: the parse builds a Python float of 24 bytes
and a list slot of 8 for each, then the arrays and the engine's a, z, δ and
gradients, then the answer; measured with ``benchmarks/memory.py``). Bodies of
binary tensors cost far less per byte; they are estimated the same, which is safe.

The budget is ``memory_budget_bytes``, or else the cgroup's memory limit (the
container's ``mem_limit``, Kubernetes' ``limits.memory``) shared by the workers, less
what an idle worker holds; a request that could never fit is told so (413) before its
body is read, one that does not fit now gets 503 with ``Retry-After``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from weakref import WeakKeyDictionary

from service.config import get_settings
from service.errors import BodyTooLarge, Overloaded
from service.metrics import count_rejection

#: Peak memory of a computation per byte of its body, worst case (see the module docstring and benchmarks/memory.py).
PEAK_PER_BODY_BYTE = 40
#: What every computation needs besides its body (buffers, the answer's first chunks), so a tiny one is not free.
PEAK_FLOOR = 256 * 1024


def estimate(body_bytes: int) -> int:
    """The estimated peak memory of the computation of a body of this size."""
    return PEAK_FLOOR + PEAK_PER_BODY_BYTE * body_bytes


class MemoryBudget:
    """Bytes of estimated peak reserved by the computations running now, at most ``total``."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.used = 0

    def check_fits(self, body_bytes: int) -> None:
        """413 for a body whose computation could never fit the budget, even alone."""
        need = estimate(body_bytes)
        if need > self.total:
            count_rejection("memory_budget_bytes")
            largest = (self.total - PEAK_FLOOR) // PEAK_PER_BODY_BYTE
            sent = f"the body has {body_bytes:,} bytes"
            raise BodyTooLarge(
                f"{sent}; its computation needs about {need:,} bytes of memory and this server's memory_budget_bytes is "
                f"{self.total:,}: send at most {largest:,} bytes (binary tensors carry a number in 5⅓ bytes instead of JSON's ~20)",
                [("", sent)],
            )

    @contextmanager
    def reserve(self, body_bytes: int) -> Iterator[None]:
        """Hold the estimated peak of this body's computation for the block; 503 if it does not fit now."""
        self.check_fits(body_bytes)
        need = estimate(body_bytes)
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
