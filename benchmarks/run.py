"""The service's performance, as ratios measured side by side in one run: every row of the README's table.

    python -m benchmarks.run            # 5 rounds, ~10 minutes
    python -m benchmarks.run --quick    # 1 short round: checks that it works

Starts real uvicorn servers of one worker each (``service.cli``'s options): the service
(``benchmarks.app``), a bare FastAPI app (``benchmarks.bare``) and a FastAPI + PyTorch peer
(``benchmarks.peer``), and drives them over loopback: wrk for (a); for (b), (b′) and (c) a
keep-alive HTTP client sends one request at a time, the service's JSON and binary requests and the
peer's alternating request by request, with the in-process floor measured between them (per round:
medians of 7). Within a round the compared measurements alternate, and which goes first alternates
between rounds. Prints, per ratio, the median and min–max over the rounds.

(a)  primer's example on /v1/backward: requests/s ÷ those of the bare FastAPI route (wrk, same concurrency)
(b)  784-512-512-10, batch 128, float32, JSON arrays: end-to-end time ÷ in-process floor (orjson parse + engine + orjson dump)
(b′) the same request end to end ÷ the FastAPI + PyTorch peer's end to end
(c)  the same request with binary tensors both ways: end-to-end time ÷ (b)'s
(d)  engine alone ÷ PyTorch autograd on the CPU (same BLAS threads, dtype, network and batch)
(e)  peak RSS growth of the server's processes for /v1/forward, 784-1024-10, 320 rows, "include": [] ÷ its numbers
     as float64 (8 B each), on a fresh server each time (benchmarks/memory.py), numbers of one character and of 17 digits
then, once: 8 concurrent 6.7 MB train-steps of one-character numbers under a 300 MiB memory budget (their statuses),
and /livez's slowest answer while 32 MiB bodies are parsed (benchmarks/livez.py).
"""

from __future__ import annotations

import argparse
import base64
import os
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import numpy as np
import orjson

from benchmarks import livez, memory
from benchmarks.server import LOG, Server, peak_memory, serve, wrk
from benchmarks.workloads import Mnist, check_torch_agrees, engine_step, floor_seconds, mnist, primer_body, torch_step

MiB = 1 << 20


@dataclass(frozen=True)
class Target:
    label: str
    bound: float
    at_least: bool

    def met(self, value: float) -> bool:
        return value >= self.bound if self.at_least else value <= self.bound


TARGETS = {
    "a": Target("(a) primer /v1/backward req/s ÷ bare FastAPI req/s", 0.5, True),
    "b": Target("(b) MNIST JSON end-to-end ÷ in-process floor", 1.0, False),
    "b'": Target("(b′) MNIST JSON end-to-end ÷ FastAPI + PyTorch peer", 0.35, False),
    "c": Target("(c) MNIST binary end-to-end ÷ JSON end-to-end (b)", 0.3, False),
    "d": Target("(d) engine time ÷ PyTorch autograd time", 1.1, False),
    "e1": Target("(e) forward peak RSS growth ÷ float64, 1-char numbers", 2.5, False),
    "e17": Target("(e) forward peak RSS growth ÷ float64, 17-digit numbers", 2.5, False),
}


def _best_time(f: Callable[[], object], reps: int) -> float:
    """The fastest of ``reps`` calls (timeit's convention: the others were slowed by something else)."""
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return min(times)


def _check_responses(server: Server, bare: Server, peer: Server, primer: bytes, work: Mnist) -> None:
    """Every benchmarked request answers 200, the binary answer holds the JSON answer's numbers, the peer's agree."""
    for target, path, body in ((bare, "/bare", primer), (server, "/v1/backward", primer), (peer, "/v1/backward", work.json_body)):
        status, _ = target.post(path, body)
        assert status == 200, (path, status)
    status, as_json = server.post("/v1/backward", work.json_body)
    assert status == 200, status
    status, as_binary = server.post("/v1/backward", work.binary_body)
    assert status == 200, status
    _, from_peer = peer.post("/v1/backward", work.json_body)
    json_W = np.array(orjson.loads(as_json)["layers"][0]["grad_weights"], dtype=np.float32)
    tensor = orjson.loads(as_binary)["layers"][0]["grad_weights"]
    binary_W = np.frombuffer(base64.b64decode(tensor["b64"]), dtype="<f4").reshape(tensor["shape"])
    np.testing.assert_array_equal(json_W, binary_W)
    peer_W = np.array(orjson.loads(from_peer)["layers"][0]["grad_weights"], dtype=np.float32)
    np.testing.assert_allclose(peer_W, json_W, rtol=1e-3, atol=1e-6)  # float32, different summation orders


def _blas() -> str:
    from threadpoolctl import threadpool_info

    return ", ".join(
        f"{i['internal_api']} {i.get('version')} {i.get('architecture')}" for i in threadpool_info() if i["user_api"] == "blas"
    )


def _gate(threads: int) -> Counter[str]:
    """8 concurrent 6.7 MB one-character train-steps under a 300 MiB budget: each answer's status (503s with Retry-After)."""
    body, _ = memory.train_step()
    answers: list[str] = ["lost"] * 8
    with serve(1, threads, env={"GRADIENT_MEMORY_BUDGET_BYTES": str(300 * MiB)}) as server:

        def send(i: int) -> None:
            url, headers = f"http://127.0.0.1:{server.port}/v1/train-step", {"content-type": "application/json"}
            r = httpx.post(url, content=body, headers=headers, timeout=120)
            answers[i] = f"{r.status_code}" + (" + Retry-After" if "retry-after" in r.headers else "")

        senders = [threading.Thread(target=send, args=(i,)) for i in range(8)]
        for thread in senders:
            thread.start()
        for thread in senders:
            thread.join(180)
    return Counter(answers)


def _livez(threads: int) -> dict[str, float]:
    """/livez's slowest answer (ms) while each of benchmarks/livez.py's bodies is parsed and computed."""
    result = {}
    with serve(1, threads) as server:
        for name, (body, expected) in livez.bodies().items():
            status, _, latencies = livez.probe(server, body)
            assert status == expected, (name, status)
            result[f"{name}, {len(body) / MiB:.0f} MiB"] = 1000 * max(latencies)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="one short round, to check that the benchmark runs")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16, help="wrk connections for (a)")
    parser.add_argument("--seconds", type=float, default=3.0, help="wrk duration of each measurement")
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=1,
        help="BLAS threads of each server, the floor and (d); 1 by default: three servers' idle OpenBLAS threads spin, and more "
        "threads than CPUs slowed the engine 100× here",
    )
    args = parser.parse_args(argv)
    threads = args.blas_threads
    rounds, seconds, reps, pairs = (1, 1.0, 3, 2) if args.quick else (args.rounds, args.seconds, 15, 7)

    import torch
    from threadpoolctl import threadpool_limits

    LOG.unlink(missing_ok=True)
    primer, work = primer_body(), mnist()
    check_torch_agrees(work)
    engine, torch_ = engine_step(work), torch_step(work)
    load = os.getloadavg()
    print(f"nproc {os.cpu_count()}; load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    print(f"each server: uvicorn, 1 worker, {threads} BLAS thread(s)")
    print(f"(a): wrk, 1 thread, {args.connections} connections; (b), (b′), (c): one keep-alive connection, {pairs} requests each per round")
    print(f"BLAS: {_blas()}; torch {torch.__version__}; the floor and (d) with {threads} thread(s)")
    print(f"MNIST request: JSON {len(work.json_body) / 1e6:.1f} MB, binary {len(work.binary_body) / 1e6:.1f} MB\n")

    keys = [*TARGETS, "bare", "primer", "json", "floor", "binary", "peer", "engine", "torch"]
    values: dict[str, list[float]] = {key: [] for key in keys}
    with (
        serve(1, threads) as server,
        serve(1, threads, "benchmarks.bare:app") as bare,
        serve(1, threads, "benchmarks.peer:app") as peer,
        threadpool_limits(limits=threads, user_api="blas"),
    ):
        torch.set_num_threads(threads)
        _check_responses(server, bare, peer, primer, work)
        wrk(server, "/v1/backward", primer, args.connections, 1)  # warm both
        wrk(bare, "/bare", primer, args.connections, 1)
        for r in range(rounds):
            routes = [("bare", bare, "/bare"), ("primer", server, "/v1/backward")]
            for name, target, path in routes[:: 1 if r % 2 == 0 else -1]:
                values[name].append(wrk(target, path, primer, args.connections, seconds).requests_per_second)
            timed: dict[str, list[float]] = {"json": [], "binary": [], "peer": [], "floor": []}
            with server.client() as post, peer.client() as post_peer:
                for i in range(pairs):  # (b), (b′), (c) and the floor alternate request by request
                    order = [("json", post, work.json_body), ("binary", post, work.binary_body), ("peer", post_peer, work.json_body)]
                    for name, send, body in order[i % 3 :] + order[: i % 3]:
                        timed[name].append(send("/v1/backward", body))
                    timed["floor"].append(floor_seconds(work)["total"])
            for name, times in timed.items():
                values[name].append(statistics.median(times))
            pair = [engine, torch_]
            best = [_best_time(f, reps) for f in pair[:: 1 if r % 2 == 0 else -1]]
            engine_s, torch_s = best if r % 2 == 0 else best[::-1]
            values["engine"].append(engine_s)
            values["torch"].append(torch_s)
            values["a"].append(values["primer"][-1] / values["bare"][-1])
            values["b"].append(values["json"][-1] / values["floor"][-1])
            values["b'"].append(values["json"][-1] / values["peer"][-1])
            values["c"].append(values["binary"][-1] / values["json"][-1])
            values["d"].append(engine_s / torch_s)
            print(f"round {r + 1}/{rounds}: " + ", ".join(f"({k}) {values[k][-1]:.2f}" for k in ("a", "b", "b'", "c", "d")), flush=True)
    for key, spelling in (("e1", "one character"), ("e17", "17 digits")):
        body, numbers = memory.forward(spelling)
        for _ in range(max(1, min(rounds, 3))):  # a fresh server each time: nothing freed earlier to reuse
            with serve(1, threads) as server:
                server.post("/v1/backward", primer)
                growth, _ = peak_memory(server, "/v1/forward", body)
            values[key].append(growth / (8 * numbers))
    gate = _gate(threads)
    probes = _livez(threads)
    _print(values, rounds, gate, probes)


def _spread(xs: list[float], scale: float = 1.0, digits: int = 2) -> str:
    return f"{statistics.median(xs) * scale:.{digits}f}  [{min(xs) * scale:.{digits}f}–{max(xs) * scale:.{digits}f}]"


def _print(values: dict[str, list[float]], rounds: int, gate: Counter[str], probes: dict[str, float]) -> None:
    print(f"\n{'ratio (median [min–max] over ' + str(rounds) + ' rounds)':<60}{'value':<22}target   met")
    for key, target in TARGETS.items():
        sign = ">=" if target.at_least else "<="
        met = "yes" if target.met(statistics.median(values[key])) else "NO"
        print(f"{target.label:<60}{_spread(values[key]):<22}{sign} {target.bound:<6}{met}")
    answers = ", ".join(f"{n} × {status}" for status, n in sorted(gate.items()))
    met = "yes" if {s.split()[0] for s in gate} == {"200", "503"} and all("Retry-After" in s for s in gate if s.startswith("503")) else "NO"
    print(f"{'8 concurrent 6.7 MB 1-char train-steps, budget 300 MiB':<60}{answers}: {met}")
    for name, ms in probes.items():
        print(f"{'/livez max, ' + name:<60}{f'{ms:.0f} ms':<22}< 100 ms {'yes' if ms < 100 else 'NO'}")
    print("\nmeasured (median [min–max])")
    print(f"  bare FastAPI route    {_spread(values['bare'], digits=0)} req/s")
    print(f"  primer /v1/backward   {_spread(values['primer'], digits=0)} req/s")
    print(f"  MNIST JSON e2e        {_spread(values['json'], 1e3, 1)} ms")
    print(f"  MNIST in-process floor{_spread(values['floor'], 1e3, 1):>22} ms")
    print(f"  MNIST peer (FastAPI + PyTorch) e2e {_spread(values['peer'], 1e3, 1)} ms")
    print(f"  MNIST binary e2e      {_spread(values['binary'], 1e3, 1)} ms")
    print(f"  engine                {_spread(values['engine'], 1e3, 2)} ms")
    print(f"  PyTorch autograd      {_spread(values['torch'], 1e3, 2)} ms")
    print(f"server logs: {LOG}")


if __name__ == "__main__":
    main()
