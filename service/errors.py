"""The service's domain errors: what went wrong with a request, in the request's terms, without HTTP.

Schemas, limits, the admission gate, the deadline and the body reader raise these;
``service/api/problems.py`` is the one place that turns them (and the engine's own
errors) into problem+json responses with a status code. Nothing here imports
FastAPI, Starlette or pydantic.

``errors`` are (pointer, detail) pairs: an RFC 6901 JSON Pointer into the request
body (``""`` for the body as a whole) and what is wrong there and what would be right.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from service.engine.errors import DomainError, EngineError, NonFiniteError
from service.interop.errors import InteropError

#: Errors described in one answer; the rest are counted (200k errors must not cost 200k descriptions).
MAX_LISTED_ERRORS = 20


@dataclass
class ServiceError(Exception):
    """A request the service refuses: ``detail`` says why, ``errors`` say where.

    ``omitted`` counts errors beyond those in ``errors`` that were counted but not described.
    """

    detail: str
    errors: list[tuple[str, str]] = field(default_factory=list)
    omitted: int = 0

    def __str__(self) -> str:
        return self.detail

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled by its fields (a parse in another process raises it there and here)."""
        return _rebuild, (type(self), dict(self.__dict__))


def _rebuild(cls: type[ServiceError], state: dict[str, Any]) -> ServiceError:
    exc = cls.__new__(cls)
    exc.__dict__.update(state)
    return exc


class InvalidRequest(ServiceError):
    """Valid JSON that does not describe a computable request: shapes, names, values."""


class NonFiniteResult(InvalidRequest):
    """A computation overflowed; the pointer names the layer (or the loss) where it first did."""


class LimitExceeded(InvalidRequest):
    """A request over one of the published limits (``GET /v1/limits``); the detail names the limit."""


class MalformedBody(ServiceError):
    """The body is not valid JSON (``what`` = "JSON") or not valid gzip (``what`` = "gzip")."""

    def __init__(self, detail: str, errors: list[tuple[str, str]] | None = None, *, what: str = "JSON") -> None:
        super().__init__(detail, errors or [])
        self.what = what


class ClientDisconnected(ServiceError):
    """The client closed the connection before its body arrived: nobody reads the answer."""


class Unauthorized(ServiceError):
    """An API key is needed and none, or a wrong one, was sent."""


class BodyTimeout(ServiceError):
    """The body did not arrive within ``body_timeout_seconds``."""


class BodyTooLarge(ServiceError):
    """The body (after gzip decoding) is over ``max_body_bytes``."""


class UnsupportedMediaType(ServiceError):
    """The body's Content-Type or Content-Encoding is not one the route takes."""


@dataclass
class Overloaded(ServiceError):
    """The server is at capacity; the client should retry after ``retry_after`` seconds."""

    retry_after: float = 1.0


class TimedOut(ServiceError):
    """The computation ran past ``max_compute_seconds`` and stopped itself."""


class UnreadableFile(InvalidRequest):
    """A file that cannot be read as a network (or a network a format cannot carry); ``kind`` and ``title`` say how."""

    def __init__(self, detail: str, errors: list[tuple[str, str]], kind: str, title: str) -> None:
        super().__init__(detail, errors)
        self.kind = kind
        self.title = title


class NotFound(ServiceError):
    """A dataset or training job that does not exist (or has expired), or is another tenant's: the same answer."""


def no_such_dataset() -> NotFound:
    """The answer for a dataset id that is not the tenant's: the same whether it exists for another tenant or not at all."""
    return NotFound("there is no dataset with this id (datasets are each tenant's own)", [(pointer("dataset"), "no such dataset")])


def no_such_job() -> NotFound:
    """The answer for a job id that is not the tenant's: the same whether it exists for another tenant or not at all."""
    return NotFound("there is no training job with this id (jobs are each tenant's own; finished ones expire after job_retention_seconds)")


class Conflict(ServiceError):
    """A request that the resource's current state does not allow: the result of a job still running, a dataset in use."""


@dataclass
class NotReady(Conflict):
    """What was asked for does not exist yet (a job's result while it runs); ask again after ``retry_after`` seconds."""

    retry_after: float = 1.0


@dataclass
class QuotaExceeded(ServiceError):
    """A tenant's quota is reached; ``quota`` names its setting. ``retry_after`` (seconds) when waiting frees it, else None."""

    quota: str = ""
    retry_after: float | None = None


class InsufficientStorage(ServiceError):
    """Writing this would cross the data dir's disk reserve (``min_free_disk_bytes``), or the disk is full."""


@dataclass
class BackendUnavailable(ServiceError):
    """The job backend (``backend``: its name, e.g. redis) cannot be reached now; retry after ``retry_after`` seconds."""

    backend: str = ""
    retry_after: float = 2.0


class Unexpected(ServiceError):
    """A failure of the server itself (a bug): logged, and answered 500."""


def invalid(errors: Sequence[tuple[str, str]], omitted: int = 0, kind: type[InvalidRequest] = InvalidRequest) -> InvalidRequest:
    """An invalid request for these (pointer, detail) pairs and ``omitted`` more; the first one is the summary."""
    first_pointer, first_detail = errors[0]
    others = len(errors) - 1 + omitted
    more = f" (and {others} more)" if others else ""
    return kind(f"{first_pointer or '/'}: {first_detail}{more}", list(errors), omitted)


def pointer(*parts: str | int) -> str:
    """The JSON Pointer of these path parts ('~' and '/' escaped as RFC 6901 says)."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def from_engine_error(exc: EngineError) -> InvalidRequest:
    """A request the engine could not compute, pointing at the layer, the loss or the target."""
    if isinstance(exc, NonFiniteError):
        where = pointer("network", "layers", exc.layer) if exc.layer is not None else pointer("loss")
        return NonFiniteResult(str(exc), [(where, str(exc))])
    if isinstance(exc, DomainError):  # outside the loss's domain: fix the target, or the loss / output activation
        return InvalidRequest(str(exc), [(pointer("t") if exc.operand == "t" else pointer("loss"), str(exc))])
    field = getattr(exc, "field", "")  # a diagram's errors name the field at fault (service.diagram)
    if isinstance(field, str) and field:
        return InvalidRequest(str(exc), [(pointer(field), str(exc))])
    return InvalidRequest(str(exc), [("", str(exc))])


def from_interop_error(exc: InteropError) -> UnreadableFile:
    """A file that cannot be imported (or a network a format cannot carry): its kind, and where in the file."""
    summary = f"{exc.pointer}: {exc.detail}" if exc.pointer else exc.detail
    return UnreadableFile(summary, [(exc.pointer, exc.detail)], exc.kind, exc.title)


def to_record(exc: ServiceError) -> dict[str, Any]:
    """A domain error as plain data (a failed job keeps it in its store; :func:`from_record` makes it again)."""
    return {"error": type(exc).__name__, "detail": exc.detail, "errors": [list(e) for e in exc.errors], "omitted": exc.omitted}


def from_record(record: dict[str, Any]) -> ServiceError:
    """The domain error :func:`to_record` stored (an unknown kind: :class:`Unexpected`)."""
    kind = globals().get(str(record.get("error")))
    cls = kind if isinstance(kind, type) and issubclass(kind, ServiceError) and kind is not UnreadableFile else Unexpected
    return cls(str(record.get("detail", "")), [(str(p), str(d)) for p, d in record.get("errors", [])], int(record.get("omitted", 0)))
