"""The admission gate: `running` at once, `queued` waiting, everyone else a 503 at once; waiting is bounded too."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from service import config
from service.api.gate import Gate
from service.api.memory import PEAK_FLOOR, PEAK_PER_BODY_BYTE, PEAK_PER_NUMBER, MemoryBudget, estimate, numbers_in
from service.config import Settings
from service.errors import BodyTooLarge, Overloaded
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


def test_memory_budget_admits_by_estimated_peak() -> None:
    """Two bodies whose estimates fit together run at once; a third that does not is 503; one over the whole budget is 413."""
    body = b"[" + b"1," * 100_000 + b"1]"
    need = estimate(len(body), numbers_in(body))
    assert need == PEAK_FLOOR + PEAK_PER_BODY_BYTE * len(body) + PEAK_PER_NUMBER * 100_000
    budget = MemoryBudget(2 * need + 1)
    with budget.reserve(len(body), numbers_in(body)), budget.reserve(len(body), numbers_in(body)):
        assert budget.used == 2 * need
        with pytest.raises(Overloaded) as refused, budget.reserve(len(body), numbers_in(body)):
            pass
        assert "memory_budget_bytes" in refused.value.detail
    assert budget.used == 0  # released, also after the refusal
    with pytest.raises(BodyTooLarge) as too_large, budget.reserve(3 * len(body), 3 * numbers_in(body)):
        pass
    assert answer(too_large.value)[0] == 413
    budget.check_fits(len(body) * 3)  # before the body is read only its bytes count: a lower bound, so no early 413


def test_the_default_memory_budget_shares_the_cgroup_limit(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    limit = tmp_path / "memory.max"
    limit.write_text("2147483648\n")  # a 2 GiB container
    monkeypatch.setattr(config, "_CGROUP_LIMITS", (limit,))
    assert config.cgroup_memory_limit() == 2 << 30
    assert Settings(workers=2).memory_budget() == (1 << 30) - config.WORKER_BASE_BYTES
    assert Settings(workers=2, memory_budget_bytes=300 << 20).memory_budget() == 300 << 20  # the setting wins
    limit.write_text("max\n")  # cgroup v2 without a limit: half the machine's memory
    assert config.cgroup_memory_limit() is None


def test_a_binary_tensor_counts_the_numbers_its_base64_holds() -> None:
    """Commas count a JSON array's numbers; a binary tensor has none, so its base64's length counts them (as float32,
    the most per character): 1000 float32 numbers are 5336 characters, counted as 1000."""
    import base64

    import numpy as np
    import orjson

    b64 = base64.b64encode(np.zeros(1000, dtype="<f4").tobytes()).decode()
    body = orjson.dumps({"x": {"dtype": "float32", "shape": [1000], "b64": b64}, "t": [1.0, 2.0, 3.0]})
    assert numbers_in(body) == 3 + 2 + 1000  # 3 commas between members, 2 in t, and the tensor's numbers
    assert numbers_in(b'{"b64": "unterminated') == 0
