"""Peak memory of a request ÷ its numbers as float64, and the gate's estimate of it, on a fresh server each.

    python -m benchmarks.memory

For each request a new server (one worker) answers one primer request, then the request; the growth of
its resident memory's high-water mark (``/proc/<pid>/clear_refs``, Linux), over the request's numbers
× 8 bytes, is ratio (e) of the README for the first two rows. Beside it: the estimate of
``service/api/memory.py`` over the measured peak (≥ 1: the gate never admits more than fits).
"""

from __future__ import annotations

import argparse
import itertools
import statistics
from collections.abc import Callable
from typing import Any

import numpy as np
import orjson

from benchmarks.server import Server, peak_memory, serve
from benchmarks.workloads import mnist, primer_body
from service.api.memory import estimate, numbers_in

SIZES = (784, 1024, 10)
ROWS = 320


def forward(spelling: str, seed: int = 0) -> tuple[bytes, int]:
    """784-1024-10, 320 rows, ``include: []``: numbers of one character or of 17 significant digits."""
    rng = np.random.default_rng(seed)

    def values(*shape: int) -> Any:
        return rng.integers(0, 10, shape).tolist() if spelling == "one character" else rng.standard_normal(shape).tolist()

    layers = [{"weights": values(k, m), "bias": values(k), "activation": "relu"} for m, k in itertools.pairwise(SIZES)]
    body = orjson.dumps({"network": {"layers": layers}, "x": values(ROWS, SIZES[0]), "include": []})
    numbers = sum(k * m + k for m, k in itertools.pairwise(SIZES)) + ROWS * SIZES[0]
    return body, numbers


def train_step(rows: int = 810, sizes: tuple[int, ...] = (4095, 4)) -> tuple[bytes, int]:
    """A 6.7 MB train-step of one-character numbers (Adam, float32): tests/robustness/test_slow_clients.py's."""
    layers = [{"weights": [[1] * m] * k, "bias": [0] * k, "activation": "tanh"} for m, k in itertools.pairwise(sizes)]
    body = {"network": {"layers": layers}, "x": [[0] * sizes[0]] * rows, "t": [[0] * sizes[-1]] * rows}
    body |= {"dtype": "float32", "optimizer": {"name": "adam"}}
    numbers = sum(k * m + k for m, k in itertools.pairwise(sizes)) + rows * (sizes[0] + sizes[-1])
    return orjson.dumps(body), numbers


REQUESTS: dict[str, tuple[str, Callable[[], tuple[bytes, int]]]] = {
    "(e) forward, one-character numbers": ("/v1/forward", lambda: forward("one character")),
    "(e) forward, 17-digit numbers": ("/v1/forward", lambda: forward("17 digits")),
    "train-step 6.7 MB, one-character": ("/v1/train-step", train_step),
    "MNIST backward, JSON (run.py's (b))": ("/v1/backward", lambda: (mnist().json_body, _mnist_numbers())),
    "MNIST backward, binary tensors": ("/v1/backward", lambda: (mnist().binary_body, _mnist_numbers())),
}


def _mnist_numbers() -> int:
    work = mnist()
    return sum(layer.W.size + (0 if layer.b is None else layer.b.size) for layer in work.layers) + work.x.size + work.t.size


def measure(server: Server, path: str, body: bytes) -> int:
    server.post("/v1/backward", primer_body())
    growth, _ = peak_memory(server, path, body)
    return growth


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory", description=__doc__)
    parser.add_argument("--rounds", type=int, default=3, help="fresh servers per request (median and range)")
    args = parser.parse_args(argv)
    print(f"{'request':<40}{'body B/number':>14}{'peak B/number':>22}{'÷ float64':>18}{'estimate ÷ peak':>17}")
    for name, (path, make) in REQUESTS.items():
        body, numbers = make()
        growths = []
        for _ in range(args.rounds):
            with serve(1, 1) as server:
                growths.append(measure(server, path, body))
        per = [g / numbers for g in growths]
        peak = statistics.median(growths)
        spread = f"{statistics.median(per):.1f} [{min(per):.1f}–{max(per):.1f}]"
        ratio = f"{statistics.median(per) / 8:.2f} [{min(per) / 8:.2f}–{max(per) / 8:.2f}]"
        print(f"{name:<40}{len(body) / numbers:>14.1f}{spread:>22}{ratio:>18}{estimate(len(body), numbers_in(body)) / peak:>17.2f}")


if __name__ == "__main__":
    main()
