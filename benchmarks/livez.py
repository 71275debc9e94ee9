"""/livez while the largest allowed bodies (32 MiB) are parsed and computed, on one worker: its slowest answer.

    python -m benchmarks.livez

A probe asks ``GET /livez`` every 10 ms on its own connection while one client posts, one after the
other, the bodies that cost the parse the most: 32 MiB of one-character numbers (16M of them;
the request is then over max_batch_rows, a 422 once parsed) and a valid forward pass of ~28 MiB
(1M 17-digit weights, the most the limits allow, and 1M inputs). Prints the probe's max and p99
per body, and the request's own time beside them.
"""

from __future__ import annotations

import statistics
import threading
import time

import httpx
import numpy as np
import orjson

from benchmarks.server import Server, serve

MiB = 1 << 20


def bodies() -> dict[str, tuple[bytes, int]]:
    """name: (body, expected status), each about 32 MiB."""
    w = b"[" + b",".join([b"[" + b",".join([b"1"] * 4095) + b"]"] * 256) + b"]"
    one_char_rows = (32 * MiB - len(w) - 300) // (2 * 4095 + 1) - 1
    x_one = b"[" + b",".join([b"[" + b",".join([b"0"] * 4095) + b"]"] * one_char_rows) + b"]"
    rng = np.random.default_rng(0)
    w17 = orjson.dumps(rng.standard_normal((256, 4095)).tolist())  # shortest round-trip: 16-17 significant digits
    x_four = orjson.dumps(np.round(rng.random((256, 4095)), 4).tolist())
    network = b'{"layers": [{"weights": ' + w + b', "activation": "tanh"}]}'
    network17 = b'{"layers": [{"weights": ' + w17 + b', "activation": "tanh"}]}'
    return {
        "16M 1-char numbers (a 422 once parsed)": (b'{"network": ' + network + b', "x": ' + x_one + b', "include": []}', 422),
        "forward: 1M 17-digit weights, 1M inputs": (
            b'{"network": ' + network17 + b', "x": ' + x_four + b', "include": []}',
            200,
        ),
    }


def probe(server: Server, body: bytes) -> tuple[int, float, list[float]]:
    """POST ``body`` to /v1/forward while /livez is asked every 10 ms: the status, the request's seconds, /livez's seconds."""
    latencies: list[float] = []
    done = threading.Event()

    def poll() -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=10) as client:
            while not done.is_set():
                start = time.perf_counter()
                client.get("/livez").raise_for_status()
                latencies.append(time.perf_counter() - start)
                time.sleep(0.01)

    prober = threading.Thread(target=poll)
    prober.start()
    time.sleep(0.3)
    start = time.perf_counter()
    status, _ = server.post("/v1/forward", body)
    took = time.perf_counter() - start
    time.sleep(0.1)
    done.set()
    prober.join()
    return status, took, latencies


def main() -> None:
    with serve(1, 1) as server:
        for name, (body, expected) in bodies().items():
            assert len(body) <= 32 * MiB, (name, len(body))
            status, took, latencies = probe(server, body)
            assert status == expected, (name, status)
            ms = sorted(1000 * s for s in latencies)
            p99 = ms[int(0.99 * (len(ms) - 1))]
            print(
                f"{name}: {len(body) / MiB:.1f} MiB, request {took:.2f} s; /livez max {ms[-1]:.1f} ms, "
                f"p99 {p99:.1f} ms, median {statistics.median(ms):.1f} ms over {len(ms)} probes"
            )


if __name__ == "__main__":
    main()
