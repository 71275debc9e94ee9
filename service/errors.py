"""Every error the service answers with, as RFC 9457 problem+json, in one place.

Domain code raises :class:`ProblemError` (or the engine's own errors); the
handlers registered by :func:`install` turn those, pydantic's validation errors
and Starlette's HTTP errors into one shape:

    {"type", "title", "status", "detail", "errors": [{"pointer", "detail"}]}

Pointers are RFC 6901 JSON Pointers into the request body.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from service.engine.errors import DomainError, EngineError, NonFiniteError
from service.interop.errors import InteropError
from service.logs import request_id

log = logging.getLogger("service.errors")

PROBLEM_JSON = "application/problem+json"
MAX_LISTED_ERRORS = 20


class ErrorItem(BaseModel):
    """One thing wrong with the request, and where."""

    pointer: str = Field(description="JSON Pointer (RFC 6901) into the request body", examples=["/network/layers/1/weights"])
    detail: str = Field(description="what is wrong there and what would be right")


class Problem(BaseModel):
    """An error response (RFC 9457 problem details)."""

    type: str = Field(examples=["urn:gradient-service:problem:invalid-request"])
    title: str = Field(examples=["Invalid request"])
    status: int = Field(examples=[422])
    detail: str = Field(examples=["network.layers[1]: weights have 2 columns but layer 0 has 3 outputs"])
    errors: list[ErrorItem] = Field(default_factory=list, description=f"at most {MAX_LISTED_ERRORS} items")
    errors_omitted: int = Field(0, description="how many further errors were not listed")


@dataclass
class ProblemError(Exception):
    """An error answered as problem+json with this status."""

    status: int
    detail: str
    errors: list[tuple[str, str]] = field(default_factory=list)
    slug: str = "invalid-request"
    title: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    omitted: int = 0  # errors beyond those in ``errors`` that were counted but not described

    def __str__(self) -> str:
        return self.detail


def invalid(
    errors: Sequence[tuple[str, str]], status: int = 422, slug: str = "invalid-request", title: str | None = None, omitted: int = 0
) -> ProblemError:
    """A 422 for these (pointer, detail) pairs, and ``omitted`` more not described; the first one is the summary."""
    first_pointer, first_detail = errors[0]
    others = len(errors) - 1 + omitted
    more = f" (and {others} more)" if others else ""
    return ProblemError(status, f"{first_pointer or '/'}: {first_detail}{more}", list(errors), slug, title, omitted=omitted)


def pointer(*parts: str | int) -> str:
    """The JSON Pointer of these path parts ('~' and '/' escaped as RFC 6901 says)."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _loc_pointer(loc: Iterable[Any]) -> str:
    """Pydantic's location as a pointer, without the labels of union members (<tag>, type[…])."""
    return pointer(*(p for p in loc if not (isinstance(p, str) and (p.startswith("<") or "[" in p))))


_MESSAGES = {
    "missing": "required field is missing",
    "extra_forbidden": "unknown field; remove it or check its spelling",
    "finite_number": "must be a finite number (NaN, Infinity and overflowing numbers like 1e400 are refused)",
    "float_type": "must be a number (not a string or boolean)",
    "int_type": "must be an integer",
    "list_type": "must be a JSON array",
    "model_type": "must be a JSON object",
    "dict_type": "must be a JSON object",
    "too_short": "must not be empty",
}


#: The JSON parser's messages for valid JSON that it will not take, and what they mean to a client.
_PARSER_LIMITS = {
    "recursion limit exceeded": "arrays and objects are nested deeper than the parser allows (a request needs 5 levels)",
    "number out of range": "a number has more digits than a float64 can hold",
}


def from_validation_error(exc: ValidationError | RequestValidationError) -> ProblemError:
    """A 422 (or 400 for a body that is not JSON) from pydantic's errors; never echoes input."""
    # through JSON: ten times faster than .errors() for 200k errors
    raw = orjson.loads(exc.json(include_url=False, include_input=False)) if isinstance(exc, ValidationError) else exc.errors()
    if any(e["type"] == "json_invalid" for e in raw):
        msg = next(e for e in raw if e["type"] == "json_invalid").get("ctx", {}).get("error", "")
        for symptom, meaning in _PARSER_LIMITS.items():  # valid JSON beyond what the parser takes: a 422, not a 400
            if symptom in msg:
                return invalid([("", f"{meaning} ({msg})")], slug="limit-exceeded", title="Limit exceeded")
        return ProblemError(400, f"the body is not valid JSON: {msg}", [("", f"not valid JSON: {msg}")], "malformed-json", "Malformed JSON")
    items = []
    for e in raw[:MAX_LISTED_ERRORS]:  # 200k errors are counted, not described
        loc = e["loc"][1:] if isinstance(exc, RequestValidationError) and e["loc"][:1] == ("body",) else e["loc"]
        items.append((tuple(loc), e["type"], _MESSAGES.get(e["type"], e["msg"])))
    return invalid(_in_the_form_sent(items), omitted=len(raw) - len(items))


_WRONG_FORM = {"list_type", "dict_type", "model_type", "model_attributes_type"}


def _is_tag(part: Any) -> bool:
    return isinstance(part, str) and part.startswith("<")


def _in_the_form_sent(items: list[tuple[tuple[Any, ...], str, str]]) -> list[tuple[str, str]]:
    """(pointer, detail) pairs, where a value that may come in several forms (``<tag>`` in its location, e.g.
    a JSON array or a binary tensor object) is judged only as the form it was sent in: the other forms'
    "must be a JSON array/object" go, unless the value fits no form, which then gets one error naming them all."""

    def field(loc: tuple[Any, ...]) -> tuple[Any, ...]:
        first_tag = next((i for i, part in enumerate(loc) if _is_tag(part)), len(loc))
        return loc[:first_tag]

    def wrong_form(loc: tuple[Any, ...], kind: str) -> bool:
        return kind in _WRONG_FORM and len(loc) > len(field(loc)) and all(_is_tag(p) for p in loc[len(field(loc)) :])

    sent_as_a_form = {field(loc) for loc, kind, _ in items if len(loc) > len(field(loc)) and not wrong_form(loc, kind)}
    result: list[tuple[str, str]] = []
    fits_none: dict[str, list[str]] = {}
    for loc, kind, detail in items:
        if not wrong_form(loc, kind):
            result.append((_loc_pointer(loc), detail))
        elif field(loc) not in sent_as_a_form:
            fits_none.setdefault(_loc_pointer(loc), []).append(detail.removeprefix("must be "))
    return result + [(ptr, "must be " + " or ".join(dict.fromkeys(forms))) for ptr, forms in fits_none.items()]


def from_interop_error(exc: InteropError) -> ProblemError:
    """A 422 for a file that cannot be imported (or a network a format cannot carry): its kind, and where in the file."""
    summary = f"{exc.pointer}: {exc.detail}" if exc.pointer else exc.detail
    return ProblemError(422, summary, [(exc.pointer, exc.detail)], exc.kind, exc.title)


def from_engine_error(exc: EngineError) -> ProblemError:
    """A 422 for a request the engine could not compute."""
    if isinstance(exc, NonFiniteError):
        where = pointer("network", "layers", exc.layer) if exc.layer is not None else pointer("loss")
        return ProblemError(422, str(exc), [(where, str(exc))], "non-finite-result", "Computation overflowed")
    if isinstance(exc, DomainError):  # outside the loss's domain: fix the target, or the loss / output activation
        return ProblemError(422, str(exc), [(pointer("t") if exc.operand == "t" else pointer("loss"), str(exc))])
    return ProblemError(422, str(exc), [("", str(exc))])


#: Longest text of one field of a problem: 20 errors with a pointer and a detail each stay far below 64 KiB.
MAX_TEXT = 1000


def _clip(text: str) -> str:
    """``text``, cut to MAX_TEXT characters: a pointer or message may contain a (huge) key the client sent."""
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def problem_body(p: ProblemError) -> dict[str, Any]:
    """The problem+json document for ``p`` (also the error line of a streamed response)."""
    title = p.title or ("Invalid request" if p.slug == "invalid-request" else HTTPStatus(p.status).phrase)
    return {
        "type": f"urn:gradient-service:problem:{p.slug}",
        "title": title,
        "status": p.status,
        "detail": _clip(p.detail),
        "errors": [{"pointer": _clip(ptr), "detail": _clip(d)} for ptr, d in p.errors[:MAX_LISTED_ERRORS]],
        "errors_omitted": max(0, len(p.errors) - MAX_LISTED_ERRORS) + p.omitted,
    }


def problem_response(p: ProblemError) -> Response:
    """The problem+json response for ``p``."""
    return Response(orjson.dumps(problem_body(p)), status_code=p.status, media_type=PROBLEM_JSON, headers=p.headers)


_HTTP_SLUGS = {404: "not-found", 405: "method-not-allowed", 413: "body-too-large", 415: "unsupported-media-type"}


def install(app: FastAPI) -> None:
    """Register the handlers that answer every error as problem+json."""

    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ProblemError)
        return problem_response(exc)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ValidationError | RequestValidationError)
        return problem_response(from_validation_error(exc))

    async def on_engine(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, EngineError)
        return problem_response(from_engine_error(exc))

    async def on_interop(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, InteropError)
        return problem_response(from_interop_error(exc))

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        slug = _HTTP_SLUGS.get(exc.status_code, "http-error")
        return problem_response(ProblemError(exc.status_code, detail, [], slug, headers=dict(exc.headers or {})))

    async def on_disconnect(request: Request, exc: Exception) -> Response:
        # the client went away before its body arrived (e.g. a load generator stopping): nobody reads the answer
        return problem_response(ProblemError(400, "the client closed the connection before the body arrived", [], "client-disconnected"))

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        rid = request_id.get()
        log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc, extra={"request_id": rid})
        detail = f"the server failed unexpectedly; the error was logged with request id {rid}"
        return problem_response(ProblemError(500, detail, [], "internal-error", headers={"X-Request-ID": rid}))

    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(ValidationError, on_validation)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(EngineError, on_engine)
    app.add_exception_handler(InteropError, on_interop)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(ClientDisconnect, on_disconnect)
    app.add_exception_handler(Exception, on_unexpected)


#: The error responses every computing route declares, for the OpenAPI docs.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"description": text, "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
    for status, text in {
        400: "The body is not valid JSON (or not valid gzip).",
        401: "An API key is needed (only when the server is configured with keys).",
        413: "The body (after gzip decoding) is larger than `max_body_bytes`.",
        415: "The body is not application/json, or its Content-Encoding is neither gzip nor identity.",
        422: "Valid JSON that does not describe a computable request, or over a limit (`GET /v1/limits`); `errors` points at each problem.",
        503: "The server is at capacity; retry after `Retry-After` seconds.",
        504: "The computation ran past `max_compute_seconds` and was stopped.",
    }.items()
}
