"""Prometheus metrics: what is counted, and the two calls the rest of the code makes.

Every HTTP request is measured by :class:`service.middleware.front.FrontMiddleware`
(route, status, latency, bytes in and out). Code deeper down reports two more things:

- :func:`note_compute` — the seconds a computing route spent in its worker thread
  (parse, engine, serialize) and the number of network parameters it was sent;
- :func:`count_rejection` — a request refused by a limit (``max_body_bytes`` …).

Several worker processes: when ``PROMETHEUS_MULTIPROC_DIR`` is set (the console
script sets it for ``--workers`` > 1), every process writes its samples there and
``/metrics`` sums them, so one scrape sees the whole server. Without it the numbers
are those of the process that answered the scrape.
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.exposition import CONTENT_TYPE_LATEST

#: ``PROMETHEUS_MULTIPROC_DIR``: where each process writes its samples (prometheus_client's name).
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_BYTES_BUCKETS = tuple(float(4**k) for k in range(3, 14))  # 64 B … 64 MiB
_PARAMETER_BUCKETS = tuple(float(10**k) for k in range(0, 9))

REQUESTS = Counter(
    "gradient_http_requests_total",
    "HTTP requests answered, by route template, method and status",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "gradient_http_request_duration_seconds",
    "Time from request start to the end of the response",
    ["route", "method"],
    buckets=_LATENCY_BUCKETS,
)
REQUEST_BYTES = Histogram("gradient_http_request_size_bytes", "Request body size", ["route"], buckets=_BYTES_BUCKETS)
RESPONSE_BYTES = Histogram("gradient_http_response_size_bytes", "Response body size", ["route"], buckets=_BYTES_BUCKETS)
COMPUTE = Histogram(
    "gradient_compute_seconds",
    "Time a computing route spent parsing, computing and serializing an answered request",
    ["route"],
    buckets=_LATENCY_BUCKETS,
)
PARAMETERS = Histogram(
    "gradient_request_parameters",
    "Network parameters (weights and biases) per request",
    ["route"],
    buckets=_PARAMETER_BUCKETS,
)
REJECTIONS = Counter("gradient_rejections_total", "Requests refused by a limit, by the limit's setting name", ["limit"])


@dataclass
class RequestMeasures:
    """What code below the middleware reports about the request being answered."""

    compute_seconds: float | None = None
    parameters: int | None = None


#: The measures of the current request; the middleware sets a fresh one per request.
CURRENT: ContextVar[RequestMeasures | None] = ContextVar("gradient_request_measures", default=None)


def note_compute(seconds: float, parameters: int | None) -> None:
    """Record the current request's compute time and parameter count (no-op outside a request)."""
    measures = CURRENT.get()
    if measures is not None:
        measures.compute_seconds = seconds
        measures.parameters = parameters


def count_rejection(limit: str) -> None:
    """Count one request refused by ``limit`` (the setting's name, e.g. ``"max_body_bytes"``)."""
    REJECTIONS.labels(limit=limit).inc()


@dataclass(frozen=True)
class _RouteSeries:
    """The labelled series of one route and method: ``labels()`` validates and locks on every call, so it is called
    once per route (the labels are route templates, so they are few)."""

    latency: Any
    request_bytes: Any
    response_bytes: Any
    requests: dict[int, Any]  # by status
    reported: dict[str, Any]  # compute seconds and parameters, each from its first sample (a series appears with it)


_series: dict[tuple[str, str], _RouteSeries] = {}


def _route_series(route: str, method: str) -> _RouteSeries:
    series = _series.get((route, method))
    if series is None:
        series = _series[route, method] = _RouteSeries(
            LATENCY.labels(route=route, method=method),
            REQUEST_BYTES.labels(route=route),
            RESPONSE_BYTES.labels(route=route),
            {},
            {},
        )
    return series


def observe(
    route: str, method: str, status: int, seconds: float, request_bytes: int, response_bytes: int, measures: RequestMeasures
) -> None:
    """Record one answered request."""
    series = _route_series(route, method)
    requests = series.requests.get(status)
    if requests is None:
        requests = series.requests[status] = REQUESTS.labels(route=route, method=method, status=str(status))
    requests.inc()
    series.latency.observe(seconds)
    series.request_bytes.observe(request_bytes)
    series.response_bytes.observe(response_bytes)
    for histogram, value in ((COMPUTE, measures.compute_seconds), (PARAMETERS, measures.parameters)):
        if value is not None:
            child = series.reported.get(histogram._name)
            if child is None:
                child = series.reported[histogram._name] = histogram.labels(route=route)
            child.observe(value)


def exposition() -> tuple[bytes, str]:
    """The text exposition of every process's metrics, and its content type."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
