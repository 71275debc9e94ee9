"""The service's performance, as ratios measured side by side in one run.

    python -m benchmarks.run            # 5 rounds, a few minutes
    python -m benchmarks.run --quick    # 1 short round: checks that it works

Starts real uvicorn worker processes (``benchmarks.app``: the service plus a bare
route) and drives them over loopback: wrk for (a); for (b) and (c) a keep-alive
HTTP client sends one request at a time, JSON and binary alternating request by
request with the in-process floor measured between them (per round: medians of 7).
Prints, per ratio, the median and min–max over the rounds; within a round the
compared measurements alternate, and which goes first alternates between rounds.

(a) primer's example on /v1/backward: requests/s ÷ those of the bare route (same server, same wrk concurrency)
(b) 784-512-512-10, batch 128, float32, JSON arrays: end-to-end time ÷ in-process floor (orjson parse + engine + orjson dump)
(c) the same request with binary tensors both ways: end-to-end time ÷ (b)'s
(d) engine alone ÷ PyTorch autograd on the CPU (same BLAS threads, dtype, network and batch)
(e) the serving worker's peak RSS growth for the largest request (b) ÷ that request's size, on a fresh
    server (after one primer request), so that memory freed by earlier requests does not hide the growth
"""

from __future__ import annotations

import argparse
import base64
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import orjson

from benchmarks.server import LOG, Server, peak_memory, serve, wrk
from benchmarks.workloads import Mnist, check_torch_agrees, engine_step, floor_seconds, mnist, primer_body, torch_step
from service.config import available_cpus, get_settings


@dataclass(frozen=True)
class Target:
    label: str
    bound: float
    at_least: bool

    def met(self, value: float) -> bool:
        return value >= self.bound if self.at_least else value <= self.bound


TARGETS = {
    "a": Target("(a) primer /v1/backward req/s ÷ bare route req/s", 0.85, True),
    "b": Target("(b) MNIST JSON end-to-end ÷ in-process floor", 1.5, False),
    "c": Target("(c) MNIST binary end-to-end ÷ JSON end-to-end (b)", 0.3, False),
    "d": Target("(d) engine time ÷ PyTorch autograd time", 1.1, False),
    "e": Target("(e) peak RSS growth ÷ request size (b)", 6.0, False),
}


def _best_time(f: Callable[[], object], reps: int) -> float:
    """The fastest of ``reps`` calls (timeit's convention: the others were slowed by something else)."""
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return min(times)


def _check_responses(server: Server, primer: bytes, work: Mnist) -> None:
    """Every benchmarked request answers 200, and the binary answer holds the JSON answer's numbers."""
    for path, body in (("/bare", primer), ("/v1/backward", primer)):
        status, _ = server.post(path, body)
        assert status == 200, (path, status)
    status, as_json = server.post("/v1/backward", work.json_body)
    assert status == 200, status
    status, as_binary = server.post("/v1/backward", work.binary_body)
    assert status == 200, status
    json_W = np.array(orjson.loads(as_json)["layers"][0]["grad_weights"], dtype=np.float32)
    tensor = orjson.loads(as_binary)["layers"][0]["grad_weights"]
    binary_W = np.frombuffer(base64.b64decode(tensor["b64"]), dtype="<f4").reshape(tensor["shape"])
    np.testing.assert_array_equal(json_W, binary_W)


def _blas() -> str:
    from threadpoolctl import threadpool_info

    return ", ".join(
        f"{i['internal_api']} {i.get('version')} {i.get('architecture')}" for i in threadpool_info() if i["user_api"] == "blas"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="one short round, to check that the benchmark runs")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=get_settings().workers, help="worker processes (GRADIENT_WORKERS; 0: one per CPU)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections for (a)")
    parser.add_argument("--seconds", type=float, default=3.0, help="wrk duration of each measurement")
    parser.add_argument(
        "--blas-threads", type=int, default=None, help="BLAS threads per worker, the floor and (d) (default CPUs ÷ workers)"
    )
    args = parser.parse_args(argv)
    args.workers = args.workers or available_cpus()
    threads = args.blas_threads or max(1, available_cpus() // args.workers)
    rounds, seconds, reps, pairs = (1, 1.0, 3, 2) if args.quick else (args.rounds, args.seconds, 15, 7)

    import torch
    from threadpoolctl import threadpool_limits

    LOG.unlink(missing_ok=True)
    primer, work = primer_body(), mnist()
    check_torch_agrees(work)
    engine, torch_ = engine_step(work), torch_step(work)
    print(f"nproc {os.cpu_count()}; server: uvicorn, {args.workers} workers, {threads} BLAS thread(s) each")
    print(f"(a): wrk, 1 thread, {args.connections} connections; (b), (c): one keep-alive connection, {pairs} pairs per round")
    print(f"BLAS: {_blas()}; torch {torch.__version__}; the floor and (d) with {threads} thread(s)")
    print(f"MNIST request: JSON {len(work.json_body) / 1e6:.1f} MB, binary {len(work.binary_body) / 1e6:.1f} MB\n")

    values: dict[str, list[float]] = {key: [] for key in [*TARGETS, "bare", "primer", "json", "floor", "binary", "engine", "torch"]}
    with serve(args.workers, threads) as server, threadpool_limits(limits=threads, user_api="blas"):
        torch.set_num_threads(threads)
        _check_responses(server, primer, work)
        wrk(server, "/v1/backward", primer, args.connections, 1)  # warm every worker
        for r in range(rounds):
            routes = [("bare", "/bare"), ("primer", "/v1/backward")]
            for name, path in routes[:: 1 if r % 2 == 0 else -1]:
                values[name].append(wrk(server, path, primer, args.connections, seconds).requests_per_second)
            json_s, binary_s, floor_s = [], [], []
            with server.client() as post:
                for i in range(pairs):  # (b), (c) and the floor alternate request by request
                    first, second = (work.json_body, work.binary_body) if i % 2 == 0 else (work.binary_body, work.json_body)
                    t_first, t_second = post("/v1/backward", first), post("/v1/backward", second)
                    json_s.append(t_first if i % 2 == 0 else t_second)
                    binary_s.append(t_second if i % 2 == 0 else t_first)
                    floor_s.append(floor_seconds(work)["total"])
            values["json"].append(statistics.median(json_s))
            values["binary"].append(statistics.median(binary_s))
            values["floor"].append(statistics.median(floor_s))
            pair = [engine, torch_]
            timed = [_best_time(f, reps) for f in pair[:: 1 if r % 2 == 0 else -1]]
            engine_s, torch_s = timed if r % 2 == 0 else timed[::-1]
            values["engine"].append(engine_s)
            values["torch"].append(torch_s)
            values["a"].append(values["primer"][-1] / values["bare"][-1])
            values["b"].append(values["json"][-1] / values["floor"][-1])
            values["c"].append(values["binary"][-1] / values["json"][-1])
            values["d"].append(engine_s / torch_s)
            print(f"round {r + 1}/{rounds}: " + ", ".join(f"({k}) {values[k][-1]:.2f}" for k in "abcd"), flush=True)
    for _ in range(max(1, min(rounds, 3))):  # (e) on a fresh server each time: nothing freed earlier to reuse
        with serve(args.workers, threads) as server:
            server.post("/v1/backward", primer)
            growth, peak = peak_memory(server, "/v1/backward", work.json_body)
        values["e"].append(growth / len(work.json_body))
    _print(values, rounds, peak)


def _spread(xs: list[float], scale: float = 1.0, digits: int = 2) -> str:
    return f"{statistics.median(xs) * scale:.{digits}f}  [{min(xs) * scale:.{digits}f}–{max(xs) * scale:.{digits}f}]"


def _print(values: dict[str, list[float]], rounds: int, peak: int) -> None:
    print(f"\n{'ratio (median [min–max] over ' + str(rounds) + ' rounds)':<58}{'value':<22}target   met")
    for key, target in TARGETS.items():
        sign = ">=" if target.at_least else "<="
        met = "yes" if target.met(statistics.median(values[key])) else "NO"
        print(f"{target.label:<58}{_spread(values[key]):<22}{sign} {target.bound:<6}{met}")
    print("\nmeasured (median [min–max])")
    print(f"  bare route            {_spread(values['bare'], digits=0)} req/s")
    print(f"  primer /v1/backward   {_spread(values['primer'], digits=0)} req/s")
    print(f"  MNIST JSON e2e        {_spread(values['json'], 1e3, 1)} ms")
    print(f"  MNIST in-process floor{_spread(values['floor'], 1e3, 1):>22} ms")
    print(f"  MNIST binary e2e      {_spread(values['binary'], 1e3, 1)} ms")
    print(f"  engine                {_spread(values['engine'], 1e3, 2)} ms")
    print(f"  PyTorch autograd      {_spread(values['torch'], 1e3, 2)} ms")
    print(f"  worker peak RSS during (b): {peak / 1e6:.0f} MB (process total, including the interpreter and libraries)")
    print(f"server logs: {LOG}")


if __name__ == "__main__":
    main()
