"""A Python client for the gradient service: NumPy arrays in, NumPy arrays out.

    import numpy as np
    from service.client import Client, Layer

    network = [Layer(np.array([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]]), activation="tanh"),
               Layer(np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]))]
    with Client("http://127.0.0.1:8000") as client:
        result = client.backward(network, x=[1.0, 2.0], t=[1.0, 1.15])
    result.layers[1].grad_weights  # ∂E/∂W⁽²⁾, a 2 × 3 ndarray

:class:`AsyncClient` has the same methods as coroutines. An error answer raises
:class:`ProblemError` with the problem+json fields (``status``, ``type``, ``title``,
``detail``, ``errors``); a network failure raises httpx's own exceptions.

Every endpoint is one :class:`Call` builder below (method, path, body, how to read
the answer); both clients run it through one ``send``. A new endpoint is a builder
plus one line in each client: ``train = _sync(train)`` and ``train = _async(train)``.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Concatenate, Generic, Literal, ParamSpec, TypeVar

import httpx
import numpy as np
import numpy.typing as npt
import orjson

T = TypeVar("T")
P = ParamSpec("P")
Array = npt.NDArray[np.float64]
Dtype = Literal["float64", "float32"]
DEFAULT_URL = "http://127.0.0.1:8000"


# ---------------------------------------------------------------- what goes in and comes out


@dataclass(frozen=True)
class Layer:
    """A dense layer: W (K × M, one row per output neuron), optional b (K), activation h."""

    weights: npt.ArrayLike
    bias: npt.ArrayLike | None = None
    activation: str | Mapping[str, Any] = "linear"

    def wire(self) -> dict[str, Any]:
        return {"weights": self.weights, **({} if self.bias is None else {"bias": self.bias}), "activation": self.activation}


#: A network: a list of :class:`Layer`, or its wire form ``{"layers": [...]}``.
Network = Sequence[Layer] | Mapping[str, Any]


def _wire_network(network: Network) -> Any:
    return network if isinstance(network, Mapping) else {"layers": [layer.wire() for layer in network]}


def _array(value: Any) -> Array:
    return np.asarray(value, dtype=np.float64)


def _layers(raw: Sequence[Mapping[str, Any]]) -> list[Layer]:
    return [
        Layer(_array(layer["weights"]), None if layer.get("bias") is None else _array(layer["bias"]), layer["activation"]) for layer in raw
    ]


@dataclass(frozen=True)
class ForwardLayer:
    a: Array  #: a⁽ˡ⁾ = W⁽ˡ⁾ z⁽ˡ⁻¹⁾ + b⁽ˡ⁾
    z: Array  #: z⁽ˡ⁾ = h⁽ˡ⁾(a⁽ˡ⁾)


@dataclass(frozen=True)
class BackwardLayer(ForwardLayer):
    delta: Array  #: δ⁽ˡ⁾ = ∂E/∂a⁽ˡ⁾
    grad_weights: Array  #: ∂E/∂W⁽ˡ⁾, K × M
    grad_bias: Array | None  #: ∂E/∂b⁽ˡ⁾, or None for a layer without bias


@dataclass(frozen=True)
class ForwardResult:
    y: Array
    layers: list[ForwardLayer]

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> ForwardResult:
        return cls(_array(raw["y"]), [ForwardLayer(_array(layer["a"]), _array(layer["z"])) for layer in raw["layers"]])


def _backward_fields(raw: Mapping[str, Any]) -> dict[str, Any]:
    layers = [
        BackwardLayer(
            _array(layer["a"]),
            _array(layer["z"]),
            _array(layer["delta"]),
            _array(layer["grad_weights"]),
            None if layer.get("grad_bias") is None else _array(layer["grad_bias"]),
        )
        for layer in raw["layers"]
    ]
    return {"loss": float(raw["loss"]), "y": _array(raw["y"]), "grad_x": _array(raw["grad_x"]), "layers": layers}


@dataclass(frozen=True)
class BackwardResult:
    loss: float  #: E, reduced over the batch
    y: Array
    grad_x: Array  #: ∂E/∂x
    layers: list[BackwardLayer]

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> BackwardResult:
        return cls(**_backward_fields(raw))


@dataclass(frozen=True)
class TrainStepResult(BackwardResult):
    network: list[Layer] = field(default_factory=list)  #: the network after the step
    optimizer_state: dict[str, Any] = field(default_factory=dict)  #: send it back with the next step

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> TrainStepResult:
        return cls(**_backward_fields(raw), network=_layers(raw["network"]["layers"]), optimizer_state=raw["optimizer_state"])


@dataclass(frozen=True)
class ProblemItem:
    pointer: str  #: JSON Pointer into the request body
    detail: str


@dataclass
class ProblemError(Exception):
    """The service answered with an error (RFC 9457 problem details)."""

    status: int
    type: str
    title: str
    detail: str
    errors: list[ProblemItem] = field(default_factory=list)
    errors_omitted: int = 0

    def __str__(self) -> str:
        return f"{self.status} {self.title}: {self.detail}"

    @classmethod
    def from_response(cls, response: httpx.Response) -> ProblemError:
        try:
            raw = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raw = None
        if not (isinstance(raw, dict) and {"type", "title", "status"} <= raw.keys()):  # not problem+json (e.g. a proxy's page)
            return cls(response.status_code, "about:blank", response.reason_phrase, response.text[:500])
        items = [ProblemItem(e["pointer"], e["detail"]) for e in raw.get("errors", [])]
        return cls(raw["status"], raw["type"], raw["title"], raw.get("detail", ""), items, raw.get("errors_omitted", 0))


# ---------------------------------------------------------------- one builder per endpoint


@dataclass(frozen=True)
class Call(Generic[T]):
    """One request: method, path, JSON body, and how to read the answer (``accept``: statuses that are not errors)."""

    method: str
    path: str
    read: Callable[[httpx.Response], T]
    body: Mapping[str, Any] | None = None
    accept: frozenset[int] = frozenset({200})


def _json_as(parse: Callable[[Mapping[str, Any]], T]) -> Callable[[httpx.Response], T]:
    return lambda response: parse(orjson.loads(response.content))


def forward(network: Network, x: npt.ArrayLike, *, dtype: Dtype = "float64") -> Call[ForwardResult]:
    """Forward pass: y and every layer's a and z."""
    return Call("POST", "/v1/forward", _json_as(ForwardResult.from_json), {"network": _wire_network(network), "x": x, "dtype": dtype})


def backward(
    network: Network,
    x: npt.ArrayLike,
    t: npt.ArrayLike,
    *,
    loss: str = "half_sse",
    reduction: Literal["sum", "mean"] = "sum",
    dtype: Dtype = "float64",
) -> Call[BackwardResult]:
    """Backpropagation: E, y, ∂E/∂x and every layer's a, z, δ, ∂E/∂W and ∂E/∂b."""
    body = {"network": _wire_network(network), "x": x, "t": t, "loss": loss, "reduction": reduction, "dtype": dtype}
    return Call("POST", "/v1/backward", _json_as(BackwardResult.from_json), body)


def train_step(
    network: Network,
    x: npt.ArrayLike,
    t: npt.ArrayLike,
    *,
    optimizer: Mapping[str, Any],
    optimizer_state: Mapping[str, Any] | None = None,
    loss: str = "half_sse",
    reduction: Literal["sum", "mean"] = "sum",
    dtype: Dtype = "float64",
) -> Call[TrainStepResult]:
    """One optimizer step; pass the returned ``optimizer_state`` to the next call."""
    body = {
        "network": _wire_network(network),
        "x": x,
        "t": t,
        "loss": loss,
        "reduction": reduction,
        "dtype": dtype,
        "optimizer": optimizer,
        "optimizer_state": optimizer_state,
    }
    return Call("POST", "/v1/train-step", _json_as(TrainStepResult.from_json), body)


def livez() -> Call[bool]:
    """True while the process is up."""
    return Call("GET", "/livez", lambda response: True)


def readyz() -> Call[bool]:
    """True while the process takes new requests; False (503) while it starts or drains."""
    return Call("GET", "/readyz", lambda response: response.status_code == 200, accept=frozenset({200, 503}))


def metrics() -> Call[str]:
    """The Prometheus text exposition of ``/metrics``."""
    return Call("GET", "/metrics", lambda response: response.text)


# ---------------------------------------------------------------- the two clients, one request path


def _encode_default(value: Any) -> Any:
    if isinstance(value, np.ndarray):  # orjson takes C-contiguous float64/float32/int arrays itself; this is the rest
        return np.ascontiguousarray(value, dtype=np.float64)
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot send {type(value).__name__} as JSON")


def _request(http: httpx.Client | httpx.AsyncClient, call: Call[Any]) -> httpx.Request:
    if call.body is None:
        return http.build_request(call.method, call.path)
    content = orjson.dumps(call.body, option=orjson.OPT_SERIALIZE_NUMPY, default=_encode_default)
    return http.build_request(call.method, call.path, content=content, headers={"content-type": "application/json"})


def _answer(call: Call[T], response: httpx.Response) -> T:
    if response.status_code not in call.accept:
        raise ProblemError.from_response(response)
    return call.read(response)


def _sync(build: Callable[P, Call[T]]) -> Callable[Concatenate[Client, P], T]:
    def method(self: Client, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return self.send(build(*args, **kwargs))

    method.__name__, method.__doc__ = build.__name__, build.__doc__
    return method


def _async(build: Callable[P, Call[T]]) -> Callable[Concatenate[AsyncClient, P], Coroutine[Any, Any, T]]:
    async def method(self: AsyncClient, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await self.send(build(*args, **kwargs))

    method.__name__, method.__doc__ = build.__name__, build.__doc__
    return method


class Client:
    """Blocking client; use it as a context manager (or call :meth:`close`)."""

    def __init__(self, base_url: str = DEFAULT_URL, *, timeout: float = 60.0, http: httpx.Client | None = None) -> None:
        self.http = http or httpx.Client(base_url=base_url, timeout=timeout)

    def send(self, call: Call[T]) -> T:
        """Run one :class:`Call`: every method goes through here."""
        return _answer(call, self.http.send(_request(self.http, call)))

    forward = _sync(forward)
    backward = _sync(backward)
    train_step = _sync(train_step)
    livez = _sync(livez)
    readyz = _sync(readyz)
    metrics = _sync(metrics)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncClient:
    """The same methods as :class:`Client`, as coroutines; use it with ``async with``."""

    def __init__(self, base_url: str = DEFAULT_URL, *, timeout: float = 60.0, http: httpx.AsyncClient | None = None) -> None:
        self.http = http or httpx.AsyncClient(base_url=base_url, timeout=timeout)

    async def send(self, call: Call[T]) -> T:
        """Run one :class:`Call`: every method goes through here."""
        return _answer(call, await self.http.send(_request(self.http, call)))

    forward = _async(forward)
    backward = _async(backward)
    train_step = _async(train_step)
    livez = _async(livez)
    readyz = _async(readyz)
    metrics = _async(metrics)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
