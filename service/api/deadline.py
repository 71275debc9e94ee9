"""The per-request time limit, checked cooperatively between layers and steps.

Threads cannot be stopped from outside, so a computation stops itself: the
engine calls :func:`checkpoint` before each layer (forward and backward) and
each training step, and it raises TimedOut (a 504) once the deadline has passed. The
limits (service/limits.py) bound the work between two checkpoints, so the
thread, and its CPU, are free soon after the deadline.
"""

from __future__ import annotations

import math
import time
from contextvars import ContextVar

from service.errors import TimedOut

_deadline: ContextVar[float] = ContextVar("deadline", default=math.inf)
_budget: ContextVar[float] = ContextVar("budget", default=math.inf)


def within(seconds: float) -> until:
    """Run the block with a deadline ``seconds`` from now (in this thread's context)."""
    return until(time.monotonic() + seconds, seconds)


class until:
    """Run the block with the deadline ``at`` (time.monotonic), which is ``seconds`` after the work began.

    A plain class, not a generator: every computing request enters one."""

    def __init__(self, at: float, seconds: float) -> None:
        self.at, self.seconds = at, seconds

    def __enter__(self) -> None:
        self.tokens = _deadline.set(self.at), _budget.set(self.seconds)

    def __exit__(self, *exc: object) -> None:
        _deadline.reset(self.tokens[0])
        _budget.reset(self.tokens[1])


def remaining() -> float:
    """Seconds left before the current computation's deadline (infinite outside one)."""
    return max(0.0, _deadline.get() - time.monotonic())


def budget() -> float:
    """The current computation's time limit, in seconds."""
    return _budget.get()


def checkpoint() -> None:
    """Raise :class:`~service.errors.TimedOut` if the current computation has run past its deadline."""
    if time.monotonic() > _deadline.get():
        raise TimedOut(
            f"the computation ran longer than the limit max_compute_seconds = {_budget.get():g} s and was stopped; "
            "send a smaller network or batch, or fewer steps"
        )
