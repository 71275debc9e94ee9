"""/metrics on a real server with two worker processes: the counters move by what was sent."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from service.schemas.examples import BACKWARD_EXAMPLE
from tests.server import running_server

pytestmark = pytest.mark.slow  # the quick loop, `pytest -m "not slow"`, leaves it out

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]

PRIMER_PARAMETERS = 6 + 6  # W⁽¹⁾ is 3×2, W⁽²⁾ is 2×3, no biases


def scrape(url: str) -> Samples:
    text = httpx.get(f"{url}/metrics", timeout=5).text
    return {(s.name, frozenset(s.labels.items())): s.value for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_counters_move_by_the_requests_sent_across_two_workers() -> None:
    backward = {"route": "/v1/backward"}
    with running_server(env={"GRADIENT_MAX_BODY_BYTES": "2048"}, workers=2) as server, httpx.Client(base_url=server.url) as http:
        before = scrape(server.url)
        answers = [httpx.post(f"{server.url}/v1/backward", json=BACKWARD_EXAMPLE, timeout=10) for _ in range(6)]  # new connections
        answers.append(http.post("/v1/backward", json={**BACKWARD_EXAMPLE, "t": [1.0]}))
        answers.append(http.post("/v1/backward", content=b"[" + b"0," * 2000 + b"0]", headers={"content-type": "application/json"}))
        after = scrape(server.url)
    assert [a.status_code for a in answers] == [200] * 6 + [422, 413]

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("gradient_http_requests_total", method="POST", status="200", **backward) == 6
    assert moved("gradient_http_requests_total", method="POST", status="422", **backward) == 1
    assert moved("gradient_http_requests_total", method="POST", status="413", **backward) == 1
    assert moved("gradient_rejections_total", limit="max_body_bytes") == 1
    assert moved("gradient_http_request_duration_seconds_count", method="POST", **backward) == 8
    assert moved("gradient_http_request_duration_seconds_bucket", method="POST", le="+Inf", **backward) == 8
    assert moved("gradient_compute_seconds_count", **backward) == 6  # the 422 and 413 computed nothing
    assert moved("gradient_compute_seconds_sum", **backward) > 0
    assert moved("gradient_request_parameters_sum", **backward) == 6 * PRIMER_PARAMETERS
    sent = sum(len(a.request.content) for a in answers[:7])  # the 413 is refused before its body is read
    assert moved("gradient_http_request_size_bytes_sum", **backward) == sent
    assert moved("gradient_http_response_size_bytes_sum", **backward) == sum(len(a.content) for a in answers)
    assert value(after, "gradient_http_requests_total", method="GET", route="/metrics", status="200") >= 1
