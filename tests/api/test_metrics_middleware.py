"""The metrics middleware in-process: route templates as labels, unmatched paths folded, rejections counted."""

from __future__ import annotations

from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from service import metrics


def requests_total(**labels: str) -> float:
    return REGISTRY.get_sample_value("gradient_http_requests_total", labels) or 0.0


def test_unknown_paths_share_one_label(client: TestClient) -> None:
    before = requests_total(route="<unmatched>", method="GET", status="404")
    client.get("/no/such/path/1")
    client.get("/no/such/path/2")
    assert requests_total(route="<unmatched>", method="GET", status="404") == before + 2
    assert REGISTRY.get_sample_value("gradient_http_requests_total", {"route": "/no/such/path/1", "method": "GET", "status": "404"}) is None


def test_static_assets_are_labelled_by_their_mount(client: TestClient) -> None:
    before = requests_total(route="/docs-assets", method="GET", status="200")
    client.get("/docs-assets/swagger-ui.css")
    assert requests_total(route="/docs-assets", method="GET", status="200") == before + 1


def test_count_rejection_is_exposed(client: TestClient) -> None:
    metrics.count_rejection("max_layers")
    assert 'gradient_rejections_total{limit="max_layers"}' in client.get("/metrics").text


def _compute_samples() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the two histograms that note_compute's measures feed."""
    families = [f for f in REGISTRY.collect() if f.name in {"gradient_compute_seconds", "gradient_request_parameters"}]
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for f in families for s in f.samples if not s.name.endswith("_created")}


def test_note_compute_outside_a_request_does_nothing() -> None:
    """No request in flight: no error, no measures are started, and neither histogram it feeds moves."""
    assert metrics.CURRENT.get() is None
    before = _compute_samples()
    metrics.note_compute(1.0, 10)
    assert metrics.CURRENT.get() is None
    assert _compute_samples() == before


def test_note_compute_inside_a_request_records_its_measures() -> None:
    """The counterpart: with measures in flight, the call fills them (so the test above can fail)."""
    token = metrics.CURRENT.set(metrics.RequestMeasures())
    try:
        metrics.note_compute(1.5, 10)
        assert metrics.CURRENT.get() == metrics.RequestMeasures(compute_seconds=1.5, parameters=10)
    finally:
        metrics.CURRENT.reset(token)
