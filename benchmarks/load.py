"""Bounded load test on loopback: a mix of good, large and hostile requests against a real server process.

    python -m benchmarks.load [--seconds 60] [--warmup 10] [--concurrency 32]

Starts the service (tests/server.py) on a free 127.0.0.1 port, runs
``--concurrency`` clients for ``--warmup`` + ``--seconds`` seconds, then stops
everything. Each client picks a request kind at random (seeded):

- ``primer``: the primer's 2-3-2 backward pass;
- ``mnist``: 784-512-512-10 backward pass with a batch of 16 (~14 MB of JSON);
- ``oversize``: a 40 MiB body (413), and a gzip bomb decoding past 32 MiB (413);
- ``invalid``: malformed JSON (400), NaN (422), a batch over max_batch_rows (422), text/plain (415);

and one more client asks ``GET /livez`` ten times a second, while ``--slow`` more (6 by default) each
send the headers of a primer-sized ``POST /v1/backward`` and its first 10 bytes, then nothing,
over and over (``slow``: each should get 408 once ``body_timeout_seconds`` has passed,
and none should slow the others down).

It prints, per kind, the count, statuses and p50/p99 latency, the number of
unexpected answers (anything but 200 for good kinds and the deliberate 4xx for
the hostile ones; any 5xx), and the server's resident memory after the warm-up
and at the end. Not run in CI (it takes a minute or more).
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import itertools
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np
import orjson

from tests.server import ServerProcess, running_server

MiB = 1 << 20
JSON = {"content-type": "application/json"}


@dataclass(frozen=True)
class Kind:
    name: str
    weight: float
    requests: list[tuple[bytes, dict[str, str], int]]  # body, headers, expected status


def _dump(body: dict[str, Any]) -> bytes:
    return orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY)


def build_kinds() -> list[Kind]:
    rng = np.random.default_rng(0)
    primer = {
        "network": {
            "layers": [
                {"weights": [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]], "activation": "tanh"},
                {"weights": [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]], "activation": "linear"},
            ]
        },
        "x": [1.0, 2.0],
        "t": [1.0, 1.15],
    }
    sizes = [784, 512, 512, 10]
    layers: list[dict[str, Any]] = [
        {"weights": rng.normal(0, 0.05, (K, M)), "bias": np.zeros(K), "activation": "relu"} for M, K in itertools.pairwise(sizes)
    ]
    layers[-1]["activation"] = "softmax"
    mnist = {"network": {"layers": layers}, "x": rng.uniform(0, 1, (16, 784)), "t": np.eye(10)[rng.integers(0, 10, 16)]}
    mnist["loss"] = "categorical_cross_entropy"
    too_many_rows = {**primer, "x": [[1.0, 2.0]] * 1500, "t": [[1.0, 1.15]] * 1500}
    return [
        Kind("primer", 0.55, [(_dump(primer), JSON, 200)]),
        Kind("mnist", 0.15, [(_dump(mnist), JSON, 200)]),
        Kind(
            "oversize",
            0.05,
            [
                (b" " * (40 * MiB), JSON, 413),
                (gzip.compress(b" " * (40 * MiB)), {**JSON, "content-encoding": "gzip"}, 413),
            ],
        ),
        Kind(
            "invalid",
            0.25,
            [
                (b'{"network": ', JSON, 400),
                (_dump(primer).replace(b"1.15", b"NaN"), JSON, 422),
                (_dump(too_many_rows), JSON, 422),
                (_dump(primer), {"content-type": "text/plain"}, 415),
            ],
        ),
    ]


@dataclass
class Results:
    latencies: dict[str, list[float]]
    statuses: dict[str, Counter[int]]
    unexpected: Counter[str]


async def client(
    http: httpx.AsyncClient, kinds: list[Kind], rng: random.Random, stop_at: float, record: Callable[[str, int, int, float], None]
) -> None:
    weights = [k.weight for k in kinds]
    while time.monotonic() < stop_at:
        kind = rng.choices(kinds, weights)[0]
        body, headers, expected = rng.choice(kind.requests)
        path = rng.choice(["/v1/backward", "/v1/forward"]) if kind.name == "invalid" else "/v1/backward"
        start = time.perf_counter()
        try:
            r = await http.post(path, content=body, headers=headers)
            status = r.status_code
        except httpx.TransportError as exc:
            status = -1
            record(kind.name, status, expected, time.perf_counter() - start)
            print(f"transport error on {kind.name}: {exc!r}")
            continue
        record(kind.name, status, expected, time.perf_counter() - start)


async def probe_livez(http: httpx.AsyncClient, stop_at: float, record: Callable[[str, int, int, float], None]) -> None:
    """One more client: GET /livez ten times a second, on its own connection."""
    while time.monotonic() < stop_at:
        start = time.perf_counter()
        r = await http.get("/livez")
        record("livez", r.status_code, 200, time.perf_counter() - start)
        await asyncio.sleep(0.1)


async def slow_sender(server: ServerProcess, body: bytes, stop_at: float, record: Callable[[str, int, int, float], None]) -> None:
    """A client that stalls mid-body: headers with the right Content-Length, 10 bytes of the body, then nothing."""
    head = f"POST /v1/backward HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    while time.monotonic() < stop_at:
        start = time.perf_counter()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(head.encode() + body[:10])
            await writer.drain()
            answer = await asyncio.wait_for(reader.read(), 60)
            writer.close()
            status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else -1
        except (OSError, TimeoutError, ValueError) as exc:
            print(f"transport error on slow: {exc!r}")
            status = -1
        record("slow", status, 408, time.perf_counter() - start)


async def sample_memory(server: ServerProcess, stop_at: float, samples: list[tuple[float, int]], t0: float) -> None:
    while time.monotonic() < stop_at:
        samples.append((time.monotonic() - t0, server.rss_bytes()))
        await asyncio.sleep(1.0)


async def run(server: ServerProcess, seconds: float, warmup: float, concurrency: int, seed: int, slow: int) -> None:
    kinds = build_kinds()
    results = Results(defaultdict(list), defaultdict(Counter), Counter())
    t0 = time.monotonic()
    measuring_from = t0 + warmup

    def record(kind: str, status: int, expected: int, seconds_taken: float) -> None:
        if time.monotonic() < measuring_from:
            return
        results.latencies[kind].append(seconds_taken)
        results.statuses[kind][status] += 1
        if status != expected:
            results.unexpected[kind] += 1

    memory: list[tuple[float, int]] = []
    stop_at = measuring_from + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=server.url, timeout=120, limits=limits) as http:
        rngs = [random.Random(seed + i) for i in range(concurrency)]
        async with httpx.AsyncClient(base_url=server.url, timeout=120) as health:
            await asyncio.gather(
                sample_memory(server, stop_at, memory, t0),
                probe_livez(health, stop_at, record),
                *(slow_sender(server, kinds[0].requests[0][0], stop_at, record) for _ in range(slow)),
                *(client(http, kinds, rng, stop_at, record) for rng in rngs),
            )

    print(f"\nload: {concurrency} clients, {warmup:.0f} s warm-up, {seconds:.0f} s measured, seed {seed}, server pid {server.pid}")
    print(f"{'kind':<10}{'requests':>9}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}  statuses")
    total = 0
    for name in [kind.name for kind in kinds] + ["livez", "slow"]:
        ms = 1000 * np.array(results.latencies[name] or [np.nan])
        n = len(results.latencies[name])
        total += n
        statuses = ", ".join(f"{s}: {c}" for s, c in sorted(results.statuses[name].items()))
        p50, p99 = np.percentile(ms, [50, 99])
        print(f"{name:<10}{n:>9}{p50:>10.1f}{p99:>10.1f}{ms.max():>10.1f}  {statuses}")
    server_errors = sum(c for kind, counts in results.statuses.items() for s, c in counts.items() if (s >= 500 or s < 0) and kind != "slow")
    unexpected = dict(results.unexpected) or 0
    print(
        f"total {total} requests ({total / seconds:.1f}/s); unexpected answers: {unexpected}; "
        f"5xx or transport errors (other than slow's): {server_errors}"
    )
    after_warmup = [rss for t, rss in memory if t >= warmup]
    if after_warmup:
        print(
            f"server RSS: {after_warmup[0] / MiB:.0f} MiB after warm-up, {after_warmup[-1] / MiB:.0f} MiB at the end, "
            f"max {max(after_warmup) / MiB:.0f} MiB, min {min(after_warmup) / MiB:.0f} MiB "
            f"(samples every second: {' '.join(f'{rss / MiB:.0f}' for _, rss in memory[:: max(1, len(memory) // 20)])})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="measured duration (default 60)")
    parser.add_argument("--warmup", type=float, default=10.0, help="warm-up before measuring (default 10)")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent clients (default 32)")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--slow", type=int, default=6, help="clients that stall mid-body (default 6)")
    args = parser.parse_args()
    with running_server({"GRADIENT_LOG_LEVEL": "warning"}) as server:
        asyncio.run(run(server, args.seconds, args.warmup, args.concurrency, args.seed, args.slow))


if __name__ == "__main__":
    main()
