"""One :class:`Call` builder per endpoint: method, path, JSON body, and how to read the answer.

Builders do no I/O; a client runs what they return (see ``service.client.clients``). An NDJSON
answer is a :class:`StreamCall`: the same request, read line by line.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Literal, ParamSpec, TypeVar
from urllib.parse import urlencode

import httpx
import numpy as np
import numpy.typing as npt
import orjson

from service.client.network import Layer, Network, read_network, wire_network
from service.client.results import (
    BackwardResult,
    CatalogEntry,
    Dataset,
    ExplainResult,
    ForwardResult,
    GradcheckResult,
    ImportResult,
    Limits,
    StepEvent,
    TrainingJob,
    TrainingPage,
    TrainResult,
    TrainStepResult,
    train_event,
)

T = TypeVar("T")
P = ParamSpec("P")
Dtype = Literal["float64", "float32"]
Reduction = Literal["sum", "mean"]
#: A loss: a name, or an object with ``name`` and parameters (``{"name": "huber", "delta": 0.5}``).
LossSpec = str | Mapping[str, Any]


@dataclass(frozen=True)
class Call(Generic[T]):
    """One request: method, path, JSON body (or raw ``content``), and how to read the answer (``accept``: statuses that are not errors)."""

    method: str
    path: str
    read: Callable[[httpx.Response], T]
    body: Mapping[str, Any] | None = None
    accept: frozenset[int] = frozenset({200})
    content: bytes | None = None  #: a body that is not JSON (a file), sent as application/octet-stream
    headers: Mapping[str, str] | None = None  #: more request headers (e.g. Idempotency-Key)


@dataclass(frozen=True)
class StreamCall(Generic[T]):
    """A request answered by NDJSON (``Accept: application/x-ndjson``): ``read`` turns each line, as it arrives, into an item."""

    method: str
    path: str
    read: Callable[[Mapping[str, Any]], T]
    body: Mapping[str, Any] | None = None
    headers: Mapping[str, str] | None = None


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
    return {"network": wire_network(network), "x": x, "t": t, "loss": loss, "reduction": reduction, "dtype": dtype}


def forward(network: Network, x: npt.ArrayLike, *, dtype: Dtype = "float64") -> Call[ForwardResult]:
    """Forward pass: y and every layer's a and z."""
    return Call("POST", "/v1/forward", _json_as(ForwardResult.from_json), {"network": wire_network(network), "x": x, "dtype": dtype})


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


def explain(
    network: Network,
    x: npt.ArrayLike,
    t: npt.ArrayLike,
    *,
    loss: LossSpec = "half_sse",
    reduction: Reduction = "sum",
    dtype: Dtype = "float64",
    digits: int = 4,
    render: Literal["markdown", "latex", "text", "mathml", "none"] = "markdown",
    optimizer: Mapping[str, Any] | None = None,
    optimizer_state: Mapping[str, Any] | None = None,
    quantities: Sequence[str] | None = None,
    layers: Sequence[int] | None = None,
    points: Sequence[int] | None = None,
    chain: Literal["compact", "factors"] = "compact",
) -> Call[ExplainResult]:
    """The derivation step by step (``symbol = formula = substituted = value``) and ``rendered``; with ``optimizer``, one update too.

    ``chain="factors"`` writes each δ and gradient as the chain rule's factors (each step's ``factors``).
    """
    body = {
        **_loss_body(network, x, t, loss, reduction, dtype),
        "digits": digits,
        "render": render,
        "chain": chain,
        "optimizer": optimizer,
        "optimizer_state": optimizer_state,
        "quantities": quantities,
        "layers": layers,
        "points": points,
    }
    return Call("POST", "/v1/explain", _json_as(ExplainResult.from_json), body)


def diagram(
    network: Network,
    x: npt.ArrayLike,
    t: npt.ArrayLike | None = None,
    *,
    loss: LossSpec = "half_sse",
    reduction: Reduction = "sum",
    show: Sequence[str] | None = None,
    digits: int = 2,
    point: int = 0,
    highlight: Mapping[str, Any] | None = None,
    width: float | None = None,
) -> Call[str]:
    """The network as the primer's Figure 6, SVG text; ``highlight`` e.g. ``{"quantity": "delta", "layer": 0, "index": 2}``;
    ``width``: the px to lay it out for."""
    body = {
        "network": wire_network(network),
        "x": x,
        "t": t,
        "loss": loss,
        "reduction": reduction,
        "show": show,
        "digits": digits,
        "point": point,
        "highlight": highlight,
        "width": width,
    }
    return Call("POST", "/v1/diagram", lambda response: response.text, body)


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
train_stream = _streamed(train, train_event)


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
    return Call("POST", "/v1/networks/init", _json_as(lambda raw: read_network(raw["network"])), body)


#: The formats of /v1/networks/import (``keras_json`` is import only) and /v1/networks/export.
ImportFormat = Literal["keras", "keras_json", "safetensors", "onnx"]
ExportFormat = Literal["keras", "safetensors", "onnx"]


def import_network(
    file: bytes | str | os.PathLike[str],
    *,
    format: ImportFormat,
    activations: Sequence[str | Mapping[str, Any]] | None = None,
    prefix: str | None = None,
    layers: Sequence[str] | None = None,
) -> Call[ImportResult]:
    """A network from a Keras, safetensors or ONNX file (its bytes, or a path read now): the layers and what was read.

    safetensors only: ``activations`` one per layer, ``prefix`` to strip from the keys, ``layers`` the key stems in order.
    """
    content = file if isinstance(file, bytes) else Path(file).read_bytes()
    query: dict[str, str] = {"format": format}
    if activations is not None:
        query["activations"] = orjson.dumps(list(activations)).decode()
    if prefix is not None:
        query["prefix"] = prefix
    if layers is not None:
        query["layers"] = ",".join(layers)
    return Call("POST", f"/v1/networks/import?{urlencode(query)}", _json_as(ImportResult.from_json), content=content)


def _tensor(array: npt.ArrayLike, dtype: Dtype) -> dict[str, Any]:
    """A binary tensor of the wire: 5⅓ bytes a number instead of JSON's ~20 (what a dataset of 60,000 × 784 needs)."""
    a = np.ascontiguousarray(array, dtype=np.dtype(dtype).newbyteorder("<"))
    return {"dtype": dtype, "shape": list(a.shape), "b64": base64.b64encode(a.tobytes()).decode()}


def upload_dataset(x: npt.ArrayLike, t: npt.ArrayLike, *, dtype: Dtype = "float32") -> Call[Dataset]:
    """Store x (one row per point) and t once, for training jobs; the same data twice is the same dataset (its id is the sha256)."""
    return Call(
        "POST", "/v1/datasets", _json_as(Dataset.from_json), {"x": _tensor(x, dtype), "t": _tensor(t, dtype)}, frozenset({200, 201})
    )


def start_training(
    network: Network,
    *,
    dataset: str | Dataset,
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
    idempotency_key: str | None = None,
) -> Call[TrainingJob]:
    """A training job: what :func:`train` computes, on a stored dataset, in a worker.

    A retry with the same ``idempotency_key`` is the same job.
    """
    body = {
        "network": wire_network(network),
        "dataset": dataset.id if isinstance(dataset, Dataset) else dataset,
        "optimizer": optimizer,
        "optimizer_state": optimizer_state,
        "regularization": regularization,
        "loss": loss,
        "reduction": reduction,
        "dtype": dtype,
        "epochs": epochs,
        "batch_size": batch_size,
        "shuffle": shuffle,
        "seed": seed,
    }
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
    return Call("POST", "/v1/trainings", _json_as(TrainingJob.from_json), body, frozenset({200, 202}), headers=headers)


def training(job: str | TrainingJob) -> Call[TrainingJob]:
    """A training job's state, progress and latest loss."""
    return Call("GET", f"/v1/trainings/{_job_id(job)}", _json_as(TrainingJob.from_json))


def trainings(*, state: str | None = None, limit: int = 100, cursor: str | None = None) -> Call[TrainingPage]:
    """A page of this tenant's jobs, newest first (``state``: only those); its ``next`` is the cursor of the next page."""
    query = {"limit": limit} | ({"state": state} if state else {}) | ({"cursor": cursor} if cursor else {})
    return Call("GET", f"/v1/trainings?{urlencode(query)}", _json_as(TrainingPage.from_json))


def training_events(job: str | TrainingJob, *, after: int = 0) -> StreamCall[StepEvent]:
    """A job's events as they happen: a :class:`StepEvent` per step after step ``after``, then the end (with the job)."""
    return StreamCall("GET", f"/v1/trainings/{_job_id(job)}/events?{urlencode({'after': after})}", StepEvent.from_json)


def training_result(job: str | TrainingJob) -> Call[TrainResult]:
    """A succeeded job's result: what :func:`train` answers (a ProblemError with status 409 while it runs)."""
    return Call("GET", f"/v1/trainings/{_job_id(job)}/result", _json_as(TrainResult.from_json))


def cancel_training(job: str | TrainingJob) -> Call[TrainingJob]:
    """Stop a job within one step (idempotent)."""
    return Call("POST", f"/v1/trainings/{_job_id(job)}/cancel", _json_as(TrainingJob.from_json))


def _job_id(job: str | TrainingJob) -> str:
    return job.id if isinstance(job, TrainingJob) else job


def export_network(network: Network, *, format: ExportFormat, dtype: Dtype = "float32") -> Call[bytes]:
    """The network as a file's bytes: ``.keras`` (keras.saving.load_model), safetensors (a state_dict) or ONNX."""
    body = {"network": wire_network(network), "dtype": dtype}
    return Call("POST", f"/v1/networks/export?{urlencode({'format': format})}", lambda response: response.content, body)


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
