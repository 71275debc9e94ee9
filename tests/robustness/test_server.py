"""Against a real uvicorn process: oversize bodies, the time limit, the concurrency bound and /livez under load.

Memory and CPU are read from /proc/<pid> of the server process (tests/server.py).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import orjson
import pytest

from tests.helpers.problems import assert_problem
from tests.server import ServerProcess, post_raw, running_server

pytestmark = pytest.mark.slow  # the quick loop, `pytest -m "not slow"`, leaves it out

MiB = 1 << 20
JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with running_server() as s:
        yield s


def _settled_rss(server: ServerProcess) -> int:
    httpx.get(server.url + "/livez")
    time.sleep(0.2)
    return server.rss_bytes()


def test_100_mb_body_is_413_before_it_is_read(server: ServerProcess) -> None:
    before = _settled_rss(server)
    chunk = b" " * (1 << 16)
    r = post_raw(server, "/v1/backward", {**JSON, "Content-Length": str(100 * MiB)}, (chunk for _ in range(1600)))
    assert_problem(r.status, r.headers, r.body, 413)
    grown = _settled_rss(server) - before
    print(f"\n100 MB body: 413 after {r.bytes_sent / MiB:.1f} MiB sent; server RSS grew {grown / MiB:.1f} MiB")
    assert grown < 20 * MiB


def test_chunked_oversize_body_is_413(server: ServerProcess) -> None:
    """No Content-Length: the server counts the bytes as they stream in and stops at 32 MiB."""
    before = _settled_rss(server)
    chunk = b" " * (1 << 16)
    body = (b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(1600))
    r = post_raw(server, "/v1/backward", {**JSON, "Transfer-Encoding": "chunked"}, body)
    problem = assert_problem(r.status, r.headers, r.body, 413)
    assert "33,554,432" in problem["detail"]
    grown = _settled_rss(server) - before
    print(f"\nchunked 100 MB body: 413 after {r.bytes_sent / MiB:.1f} MiB sent; server RSS grew {grown / MiB:.1f} MiB")
    assert grown < 20 * MiB


def largest_allowed_request() -> bytes:
    """784-1000-250-10 (1,037,760 parameters) with a batch of 256: just under every default limit, ~24 MiB of JSON."""
    rng = np.random.default_rng(0)
    sizes = [784, 1000, 250, 10]
    layers: list[dict[str, Any]] = [
        {"weights": rng.normal(0, 0.05, (K, M)), "bias": np.zeros(K), "activation": "relu"} for M, K in itertools.pairwise(sizes)
    ]
    layers[-1]["activation"] = "softmax"
    x, t = rng.uniform(0, 1, (256, 784)), np.eye(10)[rng.integers(0, 10, 256)]
    body = {"network": {"layers": layers}, "x": x, "t": t, "loss": "categorical_cross_entropy"}
    return orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY)


def test_livez_stays_fast_while_the_largest_request_computes(server: ServerProcess) -> None:
    body = largest_allowed_request()
    assert len(body) < 32 * MiB
    result: dict[str, Any] = {}

    def big() -> None:  # raw socket: receiving the 37 MB answer must not hold this process's GIL
        result["r"] = post_raw(server, "/v1/backward", {**JSON, "Content-Length": str(len(body))}, [body])

    latencies = []
    with httpx.Client(base_url=server.url) as client:
        client.get("/livez")
        thread = threading.Thread(target=big)
        thread.start()
        while thread.is_alive():
            start = time.perf_counter()
            assert client.get("/livez").status_code == 200
            latencies.append(time.perf_counter() - start)
            time.sleep(0.01)
        thread.join()
    assert result["r"].status == 200
    ms = 1000 * np.array(latencies)
    p50, p99 = np.percentile(ms, [50, 99])
    print(f"\n/livez during the largest request: n={len(ms)} p50={p50:.1f} ms p99={p99:.1f} ms max={ms.max():.1f} ms")
    assert p50 < 100


SLOW_ENV = {
    "GRADIENT_MAX_COMPUTE_SECONDS": "1",
    "GRADIENT_MAX_CONCURRENT_COMPUTATIONS": "1",
    "GRADIENT_MAX_QUEUED_COMPUTATIONS": "0",
    "GRADIENT_MAX_LAYERS": "2000",
    "GRADIENT_MAX_BATCH_ROWS": "1000000",
    "GRADIENT_MAX_BATCH_PARAMETERS": str(10**12),
}


def slow_request(rows: int = 50_000, width: int = 32, layers: int = 400) -> bytes:
    """Many tanh layers over a large batch: seconds of compute from a few MB of JSON."""
    row = b"[" + b",".join([b"0.5"] * width) + b"]"
    weights = b"[" + b",".join([b"[" + b",".join([b"0.01"] * width) + b"]"] * width) + b"]"
    layer = b'{"weights":' + weights + b',"activation":"tanh"}'
    return b'{"network":{"layers":[' + b",".join([layer] * layers) + b']},"x":[' + b",".join([row] * rows) + b"]}"


def test_timeout_is_504_and_frees_the_cpu_and_busy_server_answers_503() -> None:
    body = slow_request()
    with running_server(SLOW_ENV) as server, httpx.Client(base_url=server.url, timeout=60) as client:
        result: dict[str, Any] = {}

        def slow() -> None:
            start = time.perf_counter()
            result["r"] = httpx.post(server.url + "/v1/forward", content=body, headers=JSON, timeout=60)
            result["seconds"] = time.perf_counter() - start

        thread = threading.Thread(target=slow)
        thread.start()
        time.sleep(0.5)  # the slow request holds the only slot now
        start = time.perf_counter()
        large = b'{"network": {"layers": [{"weights": [[1.0]]}]}, "x": [1.0]' + b" " * 70_000 + b"}"  # the large lane
        busy = client.post("/v1/forward", content=large, headers=JSON)
        busy_seconds = time.perf_counter() - start
        thread.join()
        assert_problem(busy.status_code, busy.headers, busy.content, 503)
        assert int(busy.headers["retry-after"]) >= 1

        r = result["r"]
        problem = assert_problem(r.status_code, r.headers, r.content, 504)
        assert "max_compute_seconds" in problem["detail"]
        assert result["seconds"] < 1 + 1

        cpu_before = server.cpu_seconds()
        time.sleep(1.0)
        idle_cpu = server.cpu_seconds() - cpu_before
        start = time.perf_counter()
        after = client.post("/v1/forward", content=b'{"network": {"layers": [{"weights": [[1.0]]}]}, "x": [1.0]}', headers=JSON)
        after_seconds = time.perf_counter() - start
        print(
            f"\n504 after {result['seconds']:.2f} s (limit 1 s); 503 in {1000 * busy_seconds:.0f} ms; "
            f"server CPU in the second after the 504: {idle_cpu:.2f} s; next request {1000 * after_seconds:.0f} ms"
        )
        assert after.status_code == 200
        assert idle_cpu < 0.2
        assert client.post("/v1/forward", content=large, headers=JSON).status_code == 200  # the slot is free again


def test_each_request_is_logged_as_json_with_its_id(server: ServerProcess) -> None:
    r = httpx.post(server.url + "/v1/forward", content=b"{", headers={**JSON, "X-Request-ID": "log-me-7"})
    assert r.headers["x-request-id"] == "log-me-7"
    deadline = time.monotonic() + 5
    lines: list[dict[str, Any]] = []
    while not lines and time.monotonic() < deadline:  # the line is written just after the response
        lines = [entry for entry in map(orjson.loads, server.log().splitlines()) if entry.get("request_id") == "log-me-7"]
        time.sleep(0.05)
    assert lines == [lines[0]]
    assert {k: lines[0][k] for k in ("logger", "message", "method", "path", "status")} == {
        "logger": "service.access",
        "message": "request",
        "method": "POST",
        "path": "/v1/forward",
        "status": 400,
    }
