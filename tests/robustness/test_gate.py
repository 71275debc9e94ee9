"""The admission gate: `running` at once, `queued` waiting, everyone else a 503 at once; waiting is bounded too."""

from __future__ import annotations

import asyncio

import pytest

from service.api.gate import Gate
from service.errors import Overloaded
from tests.helpers.problems import answer


async def _hold(gate: Gate, release: asyncio.Event, entered: list[int], n: int) -> None:
    async with gate.slot():
        entered.append(n)
        await release.wait()


def test_gate_runs_admits_queues_and_refuses() -> None:
    async def scenario() -> tuple[list[int], Overloaded, list[int]]:
        gate, release, entered = Gate(running=2, queued=1, wait_seconds=10), asyncio.Event(), []
        tasks = [asyncio.create_task(_hold(gate, release, entered, n)) for n in range(3)]
        await asyncio.sleep(0.05)
        running_before_release = list(entered)  # two run, the third waits
        with pytest.raises(Overloaded) as refused:  # a fourth finds the queue full
            async with gate.slot():
                pass
        release.set()
        await asyncio.gather(*tasks)
        return running_before_release, refused.value, entered

    running, refused, entered = asyncio.run(scenario())
    assert running == [0, 1]
    status, headers, _ = answer(refused)
    assert status == 503
    assert headers["retry-after"] == "1"
    assert entered == [0, 1, 2]


def test_waiting_too_long_is_503() -> None:
    async def scenario() -> Overloaded:
        gate, release = Gate(running=1, queued=5, wait_seconds=0.05), asyncio.Event()
        holder = asyncio.create_task(_hold(gate, release, [], 0))
        await asyncio.sleep(0.01)
        with pytest.raises(Overloaded) as refused:
            async with gate.slot():
                pass
        release.set()
        await holder
        assert gate.inside == 0
        return refused.value

    assert answer(asyncio.run(scenario()))[0] == 503
