"""The two clients, :class:`Client` and :class:`AsyncClient`: one request path each, one line per endpoint.

Every method is a builder from ``service.client.calls`` bound to the client's ``send`` (or, for an
NDJSON answer, ``stream``) by the adapters below: ``train = _sync(calls.train)`` and
``train = _async(calls.train)``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import Any, Concatenate, ParamSpec, TypeVar

import httpx
import numpy as np
import orjson

from service.client import calls
from service.client.calls import Call, StreamCall
from service.client.errors import ProblemError
from service.client.results import TrainingJob

T = TypeVar("T")
P = ParamSpec("P")
M = TypeVar("M", bound=Callable[..., Any])
NDJSON = "application/x-ndjson"
DEFAULT_URL = "http://127.0.0.1:8000"


def _encode_default(value: Any) -> Any:
    if isinstance(value, np.ndarray):  # orjson takes C-contiguous float64/float32/int arrays itself; this is the rest
        return np.ascontiguousarray(value, dtype=np.float64)
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot send {type(value).__name__} as JSON")


def _key_headers(api_key: str | None) -> dict[str, str]:
    """The header that carries the API key (its tenant's datasets and jobs are the ones the client sees)."""
    return {"Authorization": f"Bearer {api_key}"} if api_key else {}


def _request(http: httpx.Client | httpx.AsyncClient, call: Call[Any] | StreamCall[Any]) -> httpx.Request:
    headers = {"accept": NDJSON} if isinstance(call, StreamCall) else {}
    headers.update(call.headers or {})
    if isinstance(call, Call) and call.content is not None:
        return http.build_request(
            call.method, call.path, content=call.content, headers={**headers, "content-type": "application/octet-stream"}
        )
    if call.body is None:
        return http.build_request(call.method, call.path, headers=headers)
    content = orjson.dumps(call.body, option=orjson.OPT_SERIALIZE_NUMPY, default=_encode_default)
    return http.build_request(call.method, call.path, content=content, headers={**headers, "content-type": "application/json"})


def _answer(call: Call[T], response: httpx.Response) -> T:
    if response.status_code not in call.accept:
        raise ProblemError.from_response(response)
    return call.read(response)


def _item(call: StreamCall[T], line: str) -> T:
    return call.read(orjson.loads(line))


# The four adapters differ only in their types (Python cannot abstract over "T, a coroutine of T, an
# iterator of T"); the name and docstring of the method are the builder's.


def _named(method: M, build: Callable[..., Any]) -> M:
    method.__name__, method.__doc__ = build.__name__, build.__doc__
    return method


def _sync(build: Callable[P, Call[T]]) -> Callable[Concatenate[Client, P], T]:
    def method(self: Client, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return self.send(build(*args, **kwargs))

    return _named(method, build)


def _async(build: Callable[P, Call[T]]) -> Callable[Concatenate[AsyncClient, P], Coroutine[Any, Any, T]]:
    async def method(self: AsyncClient, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await self.send(build(*args, **kwargs))

    return _named(method, build)


def _sync_stream(build: Callable[P, StreamCall[T]]) -> Callable[Concatenate[Client, P], Iterator[T]]:
    def method(self: Client, /, *args: P.args, **kwargs: P.kwargs) -> Iterator[T]:
        return self.stream(build(*args, **kwargs))

    return _named(method, build)


def _async_stream(build: Callable[P, StreamCall[T]]) -> Callable[Concatenate[AsyncClient, P], AsyncIterator[T]]:
    def method(self: AsyncClient, /, *args: P.args, **kwargs: P.kwargs) -> AsyncIterator[T]:
        return self.stream(build(*args, **kwargs))

    return _named(method, build)


class Client:
    """Blocking client; use it as a context manager (or call :meth:`close`)."""

    def __init__(
        self, base_url: str = DEFAULT_URL, *, api_key: str | None = None, timeout: float = 60.0, http: httpx.Client | None = None
    ) -> None:
        self.http = http or httpx.Client(base_url=base_url, timeout=timeout, headers=_key_headers(api_key))

    def send(self, call: Call[T]) -> T:
        """Run one :class:`Call`: every method goes through here."""
        return _answer(call, self.http.send(_request(self.http, call)))

    def stream(self, call: StreamCall[T]) -> Iterator[T]:
        """Run one :class:`StreamCall` (when iterated): an item per line as it arrives; an error answer raises :class:`ProblemError`."""
        response = self.http.send(_request(self.http, call), stream=True)
        try:
            if response.status_code != 200:
                response.read()
                raise ProblemError.from_response(response)
            for line in response.iter_lines():
                if line:
                    yield _item(call, line)
        finally:
            response.close()

    forward = _sync(calls.forward)
    backward = _sync(calls.backward)
    gradcheck = _sync(calls.gradcheck)
    explain = _sync(calls.explain)
    diagram = _sync(calls.diagram)
    train_step = _sync(calls.train_step)
    train = _sync(calls.train)
    train_stream = _sync_stream(calls.train_stream)
    init_network = _sync(calls.init_network)
    import_network = _sync(calls.import_network)
    export_network = _sync(calls.export_network)
    activations = _sync(calls.activations)
    losses = _sync(calls.losses)
    optimizers = _sync(calls.optimizers)
    initializers = _sync(calls.initializers)
    limits = _sync(calls.limits)
    upload_dataset = _sync(calls.upload_dataset)
    start_training = _sync(calls.start_training)
    training = _sync(calls.training)
    trainings = _sync(calls.trainings)
    training_events = _sync_stream(calls.training_events)
    training_result = _sync(calls.training_result)
    result = training_result  # the and the README's short name
    cancel_training = _sync(calls.cancel_training)
    livez = _sync(calls.livez)
    readyz = _sync(calls.readyz)
    metrics = _sync(calls.metrics)

    def wait(self, job: str | TrainingJob, *, timeout: float | None = None, poll_seconds: float = 0.5) -> TrainingJob:
        """The job once it has finished (succeeded, failed or cancelled), asked every ``poll_seconds``; TimeoutError past ``timeout``."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not (current := self.training(job)).finished:
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"training job {current.id} is still {current.state} after {timeout} s")
            time.sleep(poll_seconds)
        return current

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncClient:
    """The same methods as :class:`Client`, as coroutines (streams as async iterators); use it with ``async with``."""

    def __init__(
        self, base_url: str = DEFAULT_URL, *, api_key: str | None = None, timeout: float = 60.0, http: httpx.AsyncClient | None = None
    ) -> None:
        self.http = http or httpx.AsyncClient(base_url=base_url, timeout=timeout, headers=_key_headers(api_key))

    async def send(self, call: Call[T]) -> T:
        """Run one :class:`Call`: every method goes through here."""
        return _answer(call, await self.http.send(_request(self.http, call)))

    async def stream(self, call: StreamCall[T]) -> AsyncIterator[T]:
        """Run one :class:`StreamCall` (when iterated): an item per line as it arrives; an error answer raises :class:`ProblemError`."""
        response = await self.http.send(_request(self.http, call), stream=True)
        try:
            if response.status_code != 200:
                await response.aread()
                raise ProblemError.from_response(response)
            async for line in response.aiter_lines():
                if line:
                    yield _item(call, line)
        finally:
            await response.aclose()

    forward = _async(calls.forward)
    backward = _async(calls.backward)
    gradcheck = _async(calls.gradcheck)
    explain = _async(calls.explain)
    diagram = _async(calls.diagram)
    train_step = _async(calls.train_step)
    train = _async(calls.train)
    train_stream = _async_stream(calls.train_stream)
    init_network = _async(calls.init_network)
    import_network = _async(calls.import_network)
    export_network = _async(calls.export_network)
    activations = _async(calls.activations)
    losses = _async(calls.losses)
    optimizers = _async(calls.optimizers)
    initializers = _async(calls.initializers)
    limits = _async(calls.limits)
    upload_dataset = _async(calls.upload_dataset)
    start_training = _async(calls.start_training)
    training = _async(calls.training)
    trainings = _async(calls.trainings)
    training_events = _async_stream(calls.training_events)
    training_result = _async(calls.training_result)
    result = training_result  # the short name
    cancel_training = _async(calls.cancel_training)
    livez = _async(calls.livez)
    readyz = _async(calls.readyz)
    metrics = _async(calls.metrics)

    async def wait(self, job: str | TrainingJob, *, timeout: float | None = None, poll_seconds: float = 0.5) -> TrainingJob:
        """The job once it has finished (succeeded, failed or cancelled), asked every ``poll_seconds``; TimeoutError past ``timeout``."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not (current := await self.training(job)).finished:
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"training job {current.id} is still {current.state} after {timeout} s")
            await asyncio.sleep(poll_seconds)
        return current

    async def aclose(self) -> None:
        await self.http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
