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
An NDJSON answer is a :class:`StreamCall` (the same request, read line by line) run
by ``stream``: a generator in :class:`Client`, an async iterator in :class:`AsyncClient`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, Concatenate, Generic, Literal, ParamSpec, TypeVar

import httpx
import numpy as np
import numpy.typing as npt
import orjson

T = TypeVar("T")
P = ParamSpec("P")
Array = npt.NDArray[np.float64]
Dtype = Literal["float64", "float32"]
Reduction = Literal["sum", "mean"]
#: A loss: a name, or an object with ``name`` and parameters (``{"name": "huber", "delta": 0.5}``).
LossSpec = str | Mapping[str, Any]
NDJSON = "application/x-ndjson"
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


def _optional(value: Any) -> Array | None:
    return None if value is None else _array(value)


def _loss(value: Any) -> float | Array:
    return _array(value) if isinstance(value, list) else float(value)


@dataclass(frozen=True)
class ForwardLayer:
    a: Array  #: a⁽ˡ⁾ = W⁽ˡ⁾ z⁽ˡ⁻¹⁾ + b⁽ˡ⁾
    z: Array  #: z⁽ˡ⁾ = h⁽ˡ⁾(a⁽ˡ⁾)


@dataclass(frozen=True)
class BackwardLayer(ForwardLayer):
    delta: Array  #: δ⁽ˡ⁾ = ∂E/∂a⁽ˡ⁾
    grad_weights: Array  #: ∂E/∂W⁽ˡ⁾, K × M
    grad_bias: Array | None  #: ∂E/∂b⁽ˡ⁾, or None for a layer without bias
    per_example_grad_weights: Array | None = None  #: ∂Eₙ/∂W⁽ˡ⁾ per point (N × K × M); with ``per_example_gradients``
    per_example_grad_bias: Array | None = None  #: ∂Eₙ/∂b⁽ˡ⁾ per point; with ``per_example_gradients``, for a layer with bias
    per_example_grad_norm: Array | None = None  #: ‖(∂Eₙ/∂W⁽ˡ⁾, ∂Eₙ/∂b⁽ˡ⁾)‖₂ per point; with ``per_example_gradients``

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> BackwardLayer:
        extras = ("grad_bias", "per_example_grad_weights", "per_example_grad_bias", "per_example_grad_norm")
        return cls(
            _array(raw["a"]), _array(raw["z"]), _array(raw["delta"]), _array(raw["grad_weights"]), *(_optional(raw.get(k)) for k in extras)
        )


@dataclass(frozen=True)
class ForwardResult:
    y: Array
    layers: list[ForwardLayer]

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> ForwardResult:
        return cls(_array(raw["y"]), [ForwardLayer(_array(layer["a"]), _array(layer["z"])) for layer in raw["layers"]])


def _gradient_fields(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {"y": _array(raw["y"]), "grad_x": _array(raw["grad_x"]), "layers": [BackwardLayer.from_json(layer) for layer in raw["layers"]]}


@dataclass(frozen=True, kw_only=True)
class BackwardResult:
    loss: float | Array  #: E, reduced over the batch; for reduction "none" the per-point Eₙ (an array for a batch)
    y: Array
    grad_x: Array  #: ∂E/∂x
    layers: list[BackwardLayer]
    per_example_grad_norm: Array | None = None  #: ‖∂Eₙ/∂θ‖₂ over all layers, per point; with ``per_example_gradients``
    input_jacobian: Array | None = None  #: ∂y/∂x per point, K⁽ᴸ⁾ × M⁽¹⁾ each; with ``input_jacobian``

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> BackwardResult:
        return cls(
            loss=_loss(raw["loss"]),
            **_gradient_fields(raw),
            per_example_grad_norm=_optional(raw.get("per_example_grad_norm")),
            input_jacobian=_optional(raw.get("input_jacobian")),
        )


@dataclass(frozen=True, kw_only=True)
class TrainStepResult:
    loss: float  #: E + P at θ before the step
    penalty: float  #: P, the regularization penalty in ``loss`` (0 without regularization)
    y: Array
    grad_x: Array
    layers: list[BackwardLayer]
    network: list[Layer]  #: the network after the step
    optimizer_state: dict[str, Any]  #: send it back with the next step

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> TrainStepResult:
        return cls(
            loss=float(raw["loss"]),
            penalty=float(raw["penalty"]),
            **_gradient_fields(raw),
            network=_layers(raw["network"]["layers"]),
            optimizer_state=raw["optimizer_state"],
        )


@dataclass(frozen=True)
class TrainResult:
    losses: Array  #: per step: the loss (E + P) of its batch at θ before the step
    epoch_losses: Array  #: per epoch: the batch-size-weighted mean of its step losses
    network: list[Layer]  #: the network after the last step
    optimizer_state: dict[str, Any]  #: send it back to continue training

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> TrainResult:
        return cls(_array(raw["losses"]), _array(raw["epoch_losses"]), _layers(raw["network"]["layers"]), raw["optimizer_state"])


@dataclass(frozen=True)
class EpochEvent:
    """A line of the training stream, sent as an epoch ends."""

    epoch: int  #: 1-based
    epochs: int  #: epochs requested
    loss: float  #: the epoch's loss, as in ``TrainResult.epoch_losses``
    losses: Array  #: its step losses


def _train_event(raw: Mapping[str, Any]) -> EpochEvent | TrainResult:
    if raw["event"] == "epoch":
        return EpochEvent(raw["epoch"], raw["epochs"], float(raw["loss"]), _array(raw["losses"]))
    if raw["event"] == "error":  # a later epoch failed after the stream started
        raise ProblemError.from_json(raw)
    return TrainResult.from_json(raw)


@dataclass(frozen=True)
class Comparison:
    max_abs_error: float  #: max |analytic − numerical|
    max_rel_error: float  #: max |analytic − numerical| / max(|numerical|, atol)
    passed: bool  #: every entry within atol + rtol·|numerical|

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Comparison:
        return cls(float(raw["max_abs_error"]), float(raw["max_rel_error"]), bool(raw["passed"]))


@dataclass(frozen=True)
class LayerCheck:
    weights: Comparison
    bias: Comparison | None  #: None for a layer without bias


@dataclass(frozen=True)
class GradcheckResult:
    passed: bool  #: every layer's W and b, and x, passed
    layers: list[LayerCheck]
    x: Comparison  #: ∂E/∂x against finite differences in x

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> GradcheckResult:
        layers = [
            LayerCheck(Comparison.from_json(l["weights"]), None if l.get("bias") is None else Comparison.from_json(l["bias"]))
            for l in raw["layers"]
        ]
        return cls(bool(raw["passed"]), layers, Comparison.from_json(raw["x"]))


@dataclass(frozen=True)
class Parameter:
    name: str
    default: Any  #: the value used when the parameter is not sent
    range: str  #: the allowed values, e.g. "> 0"
    description: str


@dataclass(frozen=True)
class CatalogEntry:
    """An activation, loss, optimizer or initializer the service accepts."""

    name: str  #: the name to send (a string, or ``name`` in an object with parameters)
    formula: str
    parameters: list[Parameter]
    aliases: list[str]
    keras_difference: str | None
    notes: list[str]

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> CatalogEntry:
        parameters = [Parameter(p["name"], p["default"], p["range"], p["description"]) for p in raw["parameters"]]
        return cls(raw["name"], raw["formula"], parameters, raw["aliases"], raw.get("keras_difference"), raw["notes"])


@dataclass(frozen=True)
class Limits:
    """What one request may ask of this server (each is the server setting ``GRADIENT_<NAME>``)."""

    max_body_bytes: int
    max_layers: int
    max_units_per_layer: int
    max_parameters: int
    max_batch_rows: int
    max_batch_parameters: int
    max_extra_values: int
    max_train_steps: int
    max_compute_seconds: float
    max_concurrent_computations: int
    max_queued_computations: int

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Limits:
        return cls(**{f.name: raw[f.name] for f in fields(cls)})  # a newer server's extra limits are left out


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
    def from_json(cls, raw: Mapping[str, Any]) -> ProblemError:
        items = [ProblemItem(e["pointer"], e["detail"]) for e in raw.get("errors", [])]
        return cls(raw["status"], raw["type"], raw["title"], raw.get("detail", ""), items, raw.get("errors_omitted", 0))

    @classmethod
    def from_response(cls, response: httpx.Response) -> ProblemError:
        try:
            raw = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raw = None
        if not (isinstance(raw, dict) and {"type", "title", "status"} <= raw.keys()):  # not problem+json (e.g. a proxy's page)
            return cls(response.status_code, "about:blank", response.reason_phrase, response.text[:500])
        return cls.from_json(raw)


# ---------------------------------------------------------------- one builder per endpoint


@dataclass(frozen=True)
class Call(Generic[T]):
    """One request: method, path, JSON body, and how to read the answer (``accept``: statuses that are not errors)."""

    method: str
    path: str
    read: Callable[[httpx.Response], T]
    body: Mapping[str, Any] | None = None
    accept: frozenset[int] = frozenset({200})


@dataclass(frozen=True)
class StreamCall(Generic[T]):
    """A request answered by NDJSON (``Accept: application/x-ndjson``): ``read`` turns each line, as it arrives, into an item."""

    method: str
    path: str
    read: Callable[[Mapping[str, Any]], T]
    body: Mapping[str, Any] | None = None


def _streamed(build: Callable[P, Call[Any]], read: Callable[[Mapping[str, Any]], T]) -> Callable[P, StreamCall[T]]:
    """The builder of the NDJSON variant of ``build``'s request: the same arguments and body, read line by line."""

    def builder(*args: P.args, **kwargs: P.kwargs) -> StreamCall[T]:
        call = build(*args, **kwargs)
        return StreamCall(call.method, call.path, read, call.body)

    builder.__name__ = f"{build.__name__}_stream"
    builder.__doc__ = f"{build.__doc__} Streamed: an item per NDJSON line as it arrives."
    return builder


def _json_as(parse: Callable[[Any], T]) -> Callable[[httpx.Response], T]:
    return lambda response: parse(orjson.loads(response.content))


def _loss_body(network: Network, x: npt.ArrayLike, t: npt.ArrayLike, loss: LossSpec, reduction: str, dtype: Dtype) -> dict[str, Any]:
    return {"network": _wire_network(network), "x": x, "t": t, "loss": loss, "reduction": reduction, "dtype": dtype}


def forward(network: Network, x: npt.ArrayLike, *, dtype: Dtype = "float64") -> Call[ForwardResult]:
    """Forward pass: y and every layer's a and z."""
    return Call("POST", "/v1/forward", _json_as(ForwardResult.from_json), {"network": _wire_network(network), "x": x, "dtype": dtype})


def backward(
    network: Network,
    x: npt.ArrayLike,
    t: npt.ArrayLike,
    *,
    loss: LossSpec = "half_sse",
    reduction: Literal["sum", "mean", "none"] = "sum",
    dtype: Dtype = "float64",
    per_example_gradients: bool = False,
    input_jacobian: bool = False,
) -> Call[BackwardResult]:
    """Backpropagation: E, y, ∂E/∂x and every layer's a, z, δ, ∂E/∂W and ∂E/∂b (and the opt-in extras)."""
    body = {
        **_loss_body(network, x, t, loss, reduction, dtype),
        "per_example_gradients": per_example_gradients,
        "input_jacobian": input_jacobian,
    }
    return Call("POST", "/v1/backward", _json_as(BackwardResult.from_json), body)


def gradcheck(
    network: Network,
    x: npt.ArrayLike,
    t: npt.ArrayLike,
    *,
    loss: LossSpec = "half_sse",
    reduction: Literal["sum", "mean", "none"] = "sum",
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> Call[GradcheckResult]:
    """Backpropagation's gradients against central finite differences (float64, torch.autograd.gradcheck's defaults)."""
    body = {**_loss_body(network, x, t, loss, reduction, "float64"), "eps": eps, "atol": atol, "rtol": rtol}
    return Call("POST", "/v1/gradcheck", _json_as(GradcheckResult.from_json), body)


def _step_body(
    network: Network,
    x: npt.ArrayLike,
    t: npt.ArrayLike,
    optimizer: Mapping[str, Any],
    optimizer_state: Mapping[str, Any] | None,
    loss: LossSpec,
    reduction: Reduction,
    dtype: Dtype,
    regularization: Mapping[str, float] | None,
) -> dict[str, Any]:
    return {
        **_loss_body(network, x, t, loss, reduction, dtype),
        "optimizer": optimizer,
        "optimizer_state": optimizer_state,
        "regularization": regularization,
    }


def train_step(
    network: Network,
    x: npt.ArrayLike,
    t: npt.ArrayLike,
    *,
    optimizer: Mapping[str, Any],
    optimizer_state: Mapping[str, Any] | None = None,
    loss: LossSpec = "half_sse",
    reduction: Reduction = "sum",
    dtype: Dtype = "float64",
    regularization: Mapping[str, float] | None = None,
) -> Call[TrainStepResult]:
    """One optimizer step; pass the returned ``optimizer_state`` to the next call. ``regularization``: {"l1": …, "l2": …}."""
    body = _step_body(network, x, t, optimizer, optimizer_state, loss, reduction, dtype, regularization)
    return Call("POST", "/v1/train-step", _json_as(TrainStepResult.from_json), body)


def train(
    network: Network,
    x: npt.ArrayLike,
    t: npt.ArrayLike,
    *,
    optimizer: Mapping[str, Any],
    epochs: int = 1,
    batch_size: int | None = None,
    shuffle: bool = True,
    seed: int = 0,
    optimizer_state: Mapping[str, Any] | None = None,
    loss: LossSpec = "half_sse",
    reduction: Reduction = "sum",
    dtype: Dtype = "float64",
    regularization: Mapping[str, float] | None = None,
) -> Call[TrainResult]:
    """``epochs`` passes over (x, t) in batches of ``batch_size`` (None: all), shuffled by ``seed``: the losses, final network and state."""
    body = {
        **_step_body(network, x, t, optimizer, optimizer_state, loss, reduction, dtype, regularization),
        "epochs": epochs,
        "batch_size": batch_size,
        "shuffle": shuffle,
        "seed": seed,
    }
    return Call("POST", "/v1/train", _json_as(TrainResult.from_json), body)


#: :func:`train` as a stream: an :class:`EpochEvent` as each epoch ends, then the :class:`TrainResult`.
train_stream = _streamed(train, _train_event)


def init_network(
    sizes: Sequence[int],
    activations: Sequence[str | Mapping[str, Any]],
    *,
    initializer: str = "glorot_uniform",
    bias: bool = True,
    bias_initializer: str | None = None,
    seed: int = 0,
) -> Call[list[Layer]]:
    """A network of ``sizes`` ([inputs, outputs of layer 1, …]) drawn from ``initializer`` and ``seed``; pass it to any method."""
    body = {
        "sizes": sizes,
        "activations": activations,
        "initializer": initializer,
        "bias": bias,
        "bias_initializer": bias_initializer,
        "seed": seed,
    }
    return Call("POST", "/v1/networks/init", _json_as(lambda raw: _layers(raw["network"]["layers"])), body)


def _catalog(kind: str) -> Call[list[CatalogEntry]]:
    return Call("GET", f"/v1/{kind}", _json_as(lambda raw: [CatalogEntry.from_json(entry) for entry in raw]))


def activations() -> Call[list[CatalogEntry]]:
    """Every activation h: parameters, formula, derivative at kinks, how Keras differs."""
    return _catalog("activations")


def losses() -> Call[list[CatalogEntry]]:
    """Every loss E: parameters, formula and gradient, domain, how Keras differs."""
    return _catalog("losses")


def optimizers() -> Call[list[CatalogEntry]]:
    """Every optimizer: hyperparameters, update rule, how Keras differs."""
    return _catalog("optimizers")


def initializers() -> Call[list[CatalogEntry]]:
    """Every weight initializer: parameters, distribution, how Keras differs."""
    return _catalog("initializers")


def limits() -> Call[Limits]:
    """Every limit a request is checked against on this server."""
    return Call("GET", "/v1/limits", _json_as(Limits.from_json))


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


def _request(http: httpx.Client | httpx.AsyncClient, call: Call[Any] | StreamCall[Any]) -> httpx.Request:
    headers = {"accept": NDJSON} if isinstance(call, StreamCall) else {}
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


def _sync_stream(build: Callable[P, StreamCall[T]]) -> Callable[Concatenate[Client, P], Iterator[T]]:
    def method(self: Client, /, *args: P.args, **kwargs: P.kwargs) -> Iterator[T]:
        return self.stream(build(*args, **kwargs))

    method.__name__, method.__doc__ = build.__name__, build.__doc__
    return method


def _async_stream(build: Callable[P, StreamCall[T]]) -> Callable[Concatenate[AsyncClient, P], AsyncIterator[T]]:
    def method(self: AsyncClient, /, *args: P.args, **kwargs: P.kwargs) -> AsyncIterator[T]:
        return self.stream(build(*args, **kwargs))

    method.__name__, method.__doc__ = build.__name__, build.__doc__
    return method


class Client:
    """Blocking client; use it as a context manager (or call :meth:`close`)."""

    def __init__(self, base_url: str = DEFAULT_URL, *, timeout: float = 60.0, http: httpx.Client | None = None) -> None:
        self.http = http or httpx.Client(base_url=base_url, timeout=timeout)

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

    forward = _sync(forward)
    backward = _sync(backward)
    gradcheck = _sync(gradcheck)
    train_step = _sync(train_step)
    train = _sync(train)
    train_stream = _sync_stream(train_stream)
    init_network = _sync(init_network)
    activations = _sync(activations)
    losses = _sync(losses)
    optimizers = _sync(optimizers)
    initializers = _sync(initializers)
    limits = _sync(limits)
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
    """The same methods as :class:`Client`, as coroutines (streams as async iterators); use it with ``async with``."""

    def __init__(self, base_url: str = DEFAULT_URL, *, timeout: float = 60.0, http: httpx.AsyncClient | None = None) -> None:
        self.http = http or httpx.AsyncClient(base_url=base_url, timeout=timeout)

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

    forward = _async(forward)
    backward = _async(backward)
    gradcheck = _async(gradcheck)
    train_step = _async(train_step)
    train = _async(train)
    train_stream = _async_stream(train_stream)
    init_network = _async(init_network)
    activations = _async(activations)
    losses = _async(losses)
    optimizers = _async(optimizers)
    initializers = _async(initializers)
    limits = _async(limits)
    livez = _async(livez)
    readyz = _async(readyz)
    metrics = _async(metrics)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
