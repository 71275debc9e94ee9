"""Waiting for a backend (or a disk) that went away: exponential backoff with jitter, one log line per step."""

from __future__ import annotations

import logging
import random
import threading

log = logging.getLogger("service.jobs")


class Backoff:
    """Waits of 0.1 s, 0.2 s, 0.4 s … up to :attr:`cap` seconds (each ±50 % jitter) while ``what`` fails; logs each step once."""

    cap = 5.0
    first = 0.1

    def __init__(self, what: str) -> None:
        self.what = what
        self.delay = 0.0

    def wait(self, why: BaseException, stopping: threading.Event | None = None) -> None:
        """Log the failure and wait for the next step (less, if ``stopping`` is set meanwhile)."""
        self.delay = min(self.cap, self.delay * 2 or self.first)
        seconds = self.delay * random.uniform(0.5, 1.5)
        log.warning("%s: %s; trying again in %.1f s", self.what, why, seconds)
        (stopping or threading.Event()).wait(seconds)

    def recovered(self) -> None:
        """The call succeeded: say so once, and start from the first step next time."""
        if self.delay:
            log.info("%s: working again", self.what)
        self.delay = 0.0
