"""SIGTERM on a real server (one or two workers): /readyz turns 503 while /livez stays 200, and the request in flight finishes."""

from __future__ import annotations

import signal
import socket
import time

import httpx
import orjson
import pytest

from service.schemas.examples import BACKWARD_EXAMPLE
from tests.server import running_server, stop

pytestmark = pytest.mark.slow  # the quick loop, `pytest -m "not slow"`, leaves it out

DRAIN_SECONDS = 2.0
REFUSED = "ConnectError"
TIMEOUT = "ReadTimeout"
DROPPED = "ReadError"
RELAY_SECONDS = 1.0
PRIMER_GRAD_W2_00 = -0.23709648991681476


def _status(url: str) -> int | str:
    """The status of a GET on a new connection, or the name of the error when there is none."""
    try:
        return httpx.get(url, timeout=1).status_code
    except httpx.TransportError as exc:
        return type(exc).__name__


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_drains_then_finishes_the_request_in_flight(workers: int) -> None:
    body = orjson.dumps(BACKWARD_EXAMPLE)
    head = f"POST /v1/backward HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    with running_server(env={"GRADIENT_DRAIN_SECONDS": str(DRAIN_SECONDS)}, workers=workers) as server:
        # A slow client: the request is in flight (headers and half the body sent) when SIGTERM arrives.
        slow = socket.create_connection(("127.0.0.1", server.port), timeout=30)
        slow.sendall(head.encode() + body[: len(body) // 2])
        time.sleep(0.3)
        assert _status(f"{server.url}/readyz") == 200
        server.process.send_signal(signal.SIGTERM)
        sigterm = time.monotonic()

        probes: list[tuple[float, int | str, int | str]] = []  # (seconds after SIGTERM, /readyz, /livez)
        while time.monotonic() - sigterm < DRAIN_SECONDS + 5:
            probe = (time.monotonic() - sigterm, _status(f"{server.url}/readyz"), _status(f"{server.url}/livez"))
            probes.append(probe)
            if not {probe[1], probe[2]} & {200, 503}:  # the drain is over: no new connections are served
                break
            time.sleep(0.1)
        closed_at = next(i for i, p in enumerate([*probes, (0.0, "", "")]) if not {p[1], p[2]} <= {200, 503})
        # With several workers the supervisor relays SIGTERM to them: allow it a moment.
        relayed = next((i for i, p in enumerate(probes) if p[1] != 200 or p[0] > RELAY_SECONDS), 0)
        draining = probes[relayed:closed_at]  # until the first refused connection

        slow.sendall(body[len(body) // 2 :])  # after the listener closed
        answer = b""
        while chunk := slow.recv(65536):
            answer += chunk
        slow.close()
        exit_code = stop(server)

    assert draining, f"no probe answered after SIGTERM: {probes}\n{server.log()}"
    assert all(p[1] == 503 and p[2] == 200 for p in draining), probes
    assert len(draining) >= 2, probes
    assert closed_at < len(probes), f"still accepting connections long after the drain: {probes}"
    # One process closes its listener: refused. With workers, uvicorn's supervisor keeps the socket open
    # until its last worker exits, so a new connection waits unanswered (a timeout) or is accepted and
    # then dropped as the worker exits (a read error): either way it is not served.
    after = {probes[closed_at][1], probes[closed_at][2]} - {503}
    assert after, probes
    assert after <= ({REFUSED} if workers == 1 else {REFUSED, TIMEOUT, DROPPED}), probes
    # New connections were served through the drain. (Not "- 0.1": on a loaded machine the listener was once
    # seen closing ~0.5 s early; the claim tested is that the drain serves, not its exact length.)
    assert probes[closed_at][0] >= DRAIN_SECONDS / 2, probes
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 200 OK", answer[:300]
    response = orjson.loads(rest.partition(b"\r\n\r\n")[2])
    assert response["layers"][1]["grad_weights"][0][0] == PRIMER_GRAD_W2_00
    assert exit_code in (0, -signal.SIGTERM), server.log()
