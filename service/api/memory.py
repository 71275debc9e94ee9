"""Memory admitted by size: each worker runs computations whose estimated peaks fit its budget.

A computation's peak is estimated from its body before it is parsed, from its bytes and
its numbers (commas, and the numbers a binary tensor's base64 holds; counted in a few ms for 32 MiB):

    peak ≈ PEAK_PER_BODY_BYTE · bytes + PEAK_PER_NUMBER · numbers

The arrays of a JSON body are read straight into float64 buffers (service/schemas/json_arrays.py),
so a number costs its 8 bytes, the body its bytes, and the rest is the computation's: measured on
a fresh server (``python -m benchmarks.memory``, peak growth of the worker's resident memory), a
forward pass with a small answer grew 19 B a number of one character (2.0 B of JSON each) and 37
of 17 digits (20 B of JSON), a 6.7 MB Adam train-step of one-character numbers 24, the MNIST-sized
backward pass (a large answer) 78 in JSON and 36 in binary tensors. The estimate is at or above each.
Before the body has arrived only its declared length is known: the early check uses the bytes term
alone (a lower bound), so it refuses only what could never fit.

The budget is ``memory_budget_bytes``, or else the cgroup's memory limit (the
container's ``mem_limit``, Kubernetes' ``limits.memory``) shared by the workers, less
what an idle worker holds (see ``Settings.memory_budget``); a request that could never
fit is told so (413), one that does not fit now gets 503 with ``Retry-After``.
"""

from __future__ import annotations

import asyncio
from weakref import WeakKeyDictionary

from service.config import get_settings
from service.errors import BodyTooLarge, Overloaded
from service.metrics import count_rejection

#: Peak memory per byte of the body, and per number in it (see the module docstring).
PEAK_PER_BODY_BYTE = 3
PEAK_PER_NUMBER = 22
#: Numbers per byte of a binary tensor's base64 at most (float32: 4 bytes, 5⅓ characters).
_NUMBERS_PER_BASE64_BYTE = 3 / 16
#: What every computation needs besides its body (buffers, the answer's first chunks), so a tiny one is not free.
PEAK_FLOOR = 256 * 1024


def estimate(body_bytes: int, numbers: int = 0) -> int:
    """The estimated peak memory of the computation of a body of this size with this many numbers (0: a lower bound)."""
    return PEAK_FLOOR + PEAK_PER_BODY_BYTE * body_bytes + PEAK_PER_NUMBER * numbers


def numbers_in(body: bytes | bytearray, commas: int | None = None) -> int:
    """About how many numbers a JSON body holds: its commas (every number but the last of an array has one; ``commas``
    if they were counted as the body arrived), and those of each binary tensor (``"b64": "…"``), by its length as
    float32 (an upper bound)."""
    numbers = body.count(b",") if commas is None else commas
    at = body.find(b'"b64"')
    while at >= 0:
        start = body.find(b'"', body.find(b":", at + 5) + 1)
        end = body.find(b'"', start + 1)
        if start < 0 or end < 0:
            break
        numbers += int((end - start - 1) * _NUMBERS_PER_BASE64_BYTE)
        at = body.find(b'"b64"', end + 1)
    return numbers


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

    def reserve(self, body_bytes: int, numbers: int) -> Reservation:
        """Hold the estimated peak of a body's computation for the block; 503 if it does not fit now, 413 if never."""
        self.check_fits(body_bytes, numbers)
        return self.hold(estimate(body_bytes, numbers))

    def hold(self, need: int) -> Reservation:
        """Hold ``need`` bytes of the budget for the block (503 if they are not free now)."""
        if self.used + need > self.total:
            count_rejection("memory_budget_bytes")
            raise Overloaded(
                f"the server is at capacity (this computation needs about {need:,} bytes of memory and "
                f"{self.total - self.used:,} of the memory_budget_bytes {self.total:,} are free); retry later",
                retry_after=1,
            )
        self.used += need
        return Reservation(self, need)


class Reservation:
    """Memory held until the block ends (a plain class: no generator per request)."""

    def __init__(self, budget: MemoryBudget, need: int) -> None:
        self.budget, self.need = budget, need

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        self.budget.used -= self.need


_budgets: WeakKeyDictionary[asyncio.AbstractEventLoop, MemoryBudget] = WeakKeyDictionary()


def memory() -> MemoryBudget:
    """This event loop's budget (one per worker process; tests may run several event loops)."""
    loop = asyncio.get_running_loop()
    if loop not in _budgets:
        _budgets[loop] = MemoryBudget(get_settings().memory_budget())
    return _budgets[loop]
