"""Every error the service answers with, as RFC 9457 problem+json: the one place that decides status codes.

Domain code raises :mod:`service.errors` (and the engine its own errors); the
handlers registered by :func:`install` turn those, FastAPI's validation errors and
Starlette's HTTP errors into one shape:

    {"type", "title", "status", "detail", "errors": [{"pointer", "detail"}], "errors_omitted"}

Pointers are RFC 6901 JSON Pointers into the request body.
"""

from __future__ import annotations

import logging
import math
from http import HTTPStatus
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.routing import compile_path

from service import errors
from service.engine.errors import EngineError
from service.errors import MAX_LISTED_ERRORS, ServiceError
from service.interop.errors import InteropError
from service.logs import request_id
from service.schemas.problem import Problem
from service.schemas.validation import from_error_list, from_validation_error

log = logging.getLogger("service.errors")

PROBLEM_JSON = "application/problem+json"


#: Each domain error's status, problem type (its slug) and title; the most specific class first.
_KINDS: list[tuple[type[ServiceError], int, str, str]] = [
    (errors.LimitExceeded, 422, "limit-exceeded", "Limit exceeded"),
    (errors.NonFiniteResult, 422, "non-finite-result", "Computation overflowed"),
    (errors.InvalidRequest, 422, "invalid-request", "Invalid request"),
    (errors.ClientDisconnected, 400, "client-disconnected", "Bad Request"),
    (errors.NotFound, 404, "not-found", "Not Found"),
    (errors.Conflict, 409, "conflict", "Conflict"),
    (errors.Unauthorized, 401, "unauthorized", "Unauthorized"),
    (errors.BodyTimeout, 408, "body-timeout", "Request Timeout"),
    (errors.BodyTooLarge, 413, "body-too-large", "Content Too Large"),
    (errors.UnsupportedMediaType, 415, "unsupported-media-type", "Unsupported Media Type"),
    (errors.QuotaExceeded, 429, "quota-exceeded", "Quota exceeded"),
    (errors.InsufficientStorage, 507, "insufficient-storage", "Insufficient Storage"),
    (errors.Overloaded, 503, "overloaded", "Service Unavailable"),
    (errors.TimedOut, 504, "timeout", "Computation timed out"),
    (errors.Unexpected, 500, "internal-error", "Internal Server Error"),
]


#: A malformed body's problem type and title, by what it was meant to be.
_MALFORMED = {
    "JSON": ("malformed-json", "Malformed JSON"),
    "gzip": ("malformed-body", "Malformed body"),
    "multipart": ("malformed-multipart", "Malformed multipart body"),
}


def _kind(exc: ServiceError) -> tuple[int, str, str]:
    if isinstance(exc, errors.MalformedBody):
        return (400, *_MALFORMED[exc.what])
    if isinstance(exc, errors.BackendUnavailable):  # the type names the backend: an operator sees which one is away
        return 503, f"{exc.backend}-unavailable", "Service Unavailable"
    if isinstance(exc, errors.UnreadableFile):  # the file's own kind of problem (service.interop.errors)
        return 422, exc.kind, exc.title
    return next((status, slug, title) for cls, status, slug, title in _KINDS if isinstance(exc, cls))


def _headers(exc: ServiceError) -> dict[str, str]:
    if isinstance(exc, errors.Overloaded | errors.NotReady | errors.BackendUnavailable | errors.QuotaExceeded) and exc.retry_after:
        return {"Retry-After": str(max(1, math.ceil(exc.retry_after)))}
    if isinstance(exc, errors.Unauthorized):
        return {"WWW-Authenticate": 'Bearer realm="gradient-service"'}
    if isinstance(exc, errors.BodyTimeout):  # the rest of the body may still come: this connection is done
        return {"Connection": "close"}
    return {}


#: Longest text of one field of a problem: 20 errors with a pointer and a detail each stay far below 64 KiB.
MAX_TEXT = 1000


def _clip(text: str) -> str:
    """``text``, cut to MAX_TEXT characters: a pointer or message may contain a (huge) key the client sent."""
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def _document(status: int, slug: str, title: str, exc: ServiceError) -> dict[str, Any]:
    return {
        "type": f"urn:gradient-service:problem:{slug}",
        "title": title,
        "status": status,
        "detail": _clip(exc.detail),
        "errors": [{"pointer": _clip(ptr), "detail": _clip(d)} for ptr, d in exc.errors[:MAX_LISTED_ERRORS]],
        "errors_omitted": max(0, len(exc.errors) - MAX_LISTED_ERRORS) + exc.omitted,
    }


def as_service_error(exc: ServiceError | EngineError | InteropError) -> ServiceError:
    """The domain error itself, or the engine's or a file reader's error in the request's terms."""
    if isinstance(exc, InteropError):
        return errors.from_interop_error(exc)
    return exc if isinstance(exc, ServiceError) else errors.from_engine_error(exc)


def problem_body(exc: ServiceError | EngineError | InteropError) -> dict[str, Any]:
    """The problem+json document for a domain or engine error (also the error line of a streamed response)."""
    err = as_service_error(exc)
    return _document(*_kind(err), err)


def problem_response(exc: ServiceError | EngineError | InteropError, headers: dict[str, str] | None = None) -> Response:
    """The problem+json response for a domain or engine error."""
    err = as_service_error(exc)
    body = _document(*_kind(err), err)
    return Response(orjson.dumps(body), status_code=body["status"], media_type=PROBLEM_JSON, headers={**_headers(err), **(headers or {})})


_HTTP_SLUGS = {404: "not-found", 405: "method-not-allowed", 413: "body-too-large", 415: "unsupported-media-type"}


def _allowed(request: Request) -> str:
    """Every method the API documents for this path (Starlette's 405 names only the first route that matched it)."""
    for template, item in request.app.openapi()["paths"].items():
        if compile_path(template)[0].match(request.url.path):
            return ", ".join(sorted(method.upper() for method in item))
    return ""


def _http_response(exc: StarletteHTTPException, request: Request | None = None) -> Response:
    """Starlette's own HTTP errors (404, 405 …) in the same shape; a 405's Allow lists every method of the path."""
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    body = {
        "type": f"urn:gradient-service:problem:{_HTTP_SLUGS.get(exc.status_code, 'http-error')}",
        "title": HTTPStatus(exc.status_code).phrase,
        "status": exc.status_code,
        "detail": _clip(detail),
        "errors": [],
        "errors_omitted": 0,
    }
    headers = dict(exc.headers or {})
    if exc.status_code == 405 and request is not None and (allowed := _allowed(request)):
        headers["Allow"] = allowed
    return Response(orjson.dumps(body), status_code=exc.status_code, media_type=PROBLEM_JSON, headers=headers)


def install(app: FastAPI) -> None:
    """Register the handlers that answer every error as problem+json."""

    async def on_service(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ServiceError)
        return problem_response(exc)

    async def on_validation(request: Request, exc: Exception) -> Response:
        if isinstance(exc, RequestValidationError):
            return problem_response(from_error_list(list(exc.errors()), strip="body"))
        assert isinstance(exc, ValidationError)
        return problem_response(from_validation_error(exc))

    async def on_engine(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, EngineError | InteropError)
        return problem_response(exc)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        return _http_response(exc, request)

    async def on_disconnect(request: Request, exc: Exception) -> Response:
        # the client went away before its body arrived (e.g. a load generator stopping): nobody reads the answer
        return problem_response(errors.ClientDisconnected("the client closed the connection before the body arrived"))

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        rid = request_id.get()
        log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc, extra={"request_id": rid})
        detail = f"the server failed unexpectedly; the error was logged with request id {rid}"
        return problem_response(errors.Unexpected(detail), headers={"X-Request-ID": rid})

    app.add_exception_handler(ServiceError, on_service)
    app.add_exception_handler(ValidationError, on_validation)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(EngineError, on_engine)
    app.add_exception_handler(InteropError, on_engine)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(ClientDisconnect, on_disconnect)
    app.add_exception_handler(Exception, on_unexpected)


_HEADERS: dict[int, dict[str, Any]] = {
    401: {
        "WWW-Authenticate": {
            "description": "The scheme to authenticate with: `Bearer` (or send the key as `X-API-Key`)",
            "schema": {"type": "string"},
        }
    },
    503: {
        "Retry-After": {
            "description": "Seconds to wait before trying again (RFC 9110)",
            "schema": {"type": "integer", "minimum": 1},
        }
    },
}

#: The error responses every computing route declares, for the OpenAPI docs (401: every operation but /livez).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {
        "description": text,
        **({"headers": _HEADERS[status]} if status in _HEADERS else {}),
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    for status, text in {
        400: "The body is not valid JSON (or not valid gzip).",
        401: "An API key is needed (only when the server is configured with keys).",
        408: "The body did not arrive within `body_timeout_seconds`; the connection is closed.",
        413: "The body (after gzip decoding) is larger than `max_body_bytes`, or its computation could never fit `memory_budget_bytes`.",
        415: "The body is not application/json, or its Content-Encoding is neither gzip nor identity.",
        422: "Valid JSON that does not describe a computable request, or over a limit (`GET /v1/limits`); `errors` points at each problem.",
        503: "The server is at capacity; retry after `Retry-After` seconds.",
        504: "The computation ran past `max_compute_seconds` and was stopped.",
    }.items()
}


#: What the routes of stored resources (datasets, training jobs) add: 404, 409, 429 and 507, and a 503 for the job backend.
RESOURCE_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    **{
        status: {
            "description": text,
            **({"headers": _HEADERS[503]} if status in (429, 503) else {}),
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status, text in {
            404: "No such dataset or training job of this tenant (another tenant's gets the same answer), or it expired.",
            409: "The resource's state does not allow it: a job's result while the job runs (with Retry-After), a dataset in use, "
            "an Idempotency-Key sent before with another body.",
            429: "A quota of the tenant is reached (`tenant_max_*`, `GET /v1/limits`): the detail names it, its value and what "
            "frees it; `Retry-After` when waiting for a job to end helps.",
            503: "The server is at capacity, or the job backend cannot be reached (type `…:redis-unavailable`); retry after "
            "`Retry-After` seconds.",
            507: "Storing this would leave less than `min_free_disk_bytes` free on the data dir's disk, or the disk is full.",
        }.items()
    },
}


__all__ = ["ERROR_RESPONSES", "PROBLEM_JSON", "RESOURCE_ERROR_RESPONSES", "Problem", "install", "problem_body", "problem_response"]
