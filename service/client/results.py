"""What the endpoints answer, as typed dataclasses of NumPy arrays; each reads its JSON with ``from_json``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, dataclass, fields
from typing import Any

from service.client.errors import ProblemError
from service.client.network import Array, Layer, array, optional_array, read_network


def _loss(value: Any) -> float | Array:
    return array(value) if isinstance(value, list) else float(value)


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
            array(raw["a"]), array(raw["z"]), array(raw["delta"]), array(raw["grad_weights"]), *(optional_array(raw.get(k)) for k in extras)
        )


@dataclass(frozen=True)
class ForwardResult:
    y: Array
    layers: list[ForwardLayer]

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> ForwardResult:
        return cls(array(raw["y"]), [ForwardLayer(array(layer["a"]), array(layer["z"])) for layer in raw["layers"]])


def _gradient_fields(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {"y": array(raw["y"]), "grad_x": array(raw["grad_x"]), "layers": [BackwardLayer.from_json(layer) for layer in raw["layers"]]}


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
            per_example_grad_norm=optional_array(raw.get("per_example_grad_norm")),
            input_jacobian=optional_array(raw.get("input_jacobian")),
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
            network=read_network(raw["network"]),
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
        return cls(array(raw["losses"]), array(raw["epoch_losses"]), read_network(raw["network"]), raw["optimizer_state"])


@dataclass(frozen=True)
class EpochEvent:
    """A line of the training stream, sent as an epoch ends."""

    epoch: int  #: 1-based
    epochs: int  #: epochs requested
    loss: float  #: the epoch's loss, as in ``TrainResult.epoch_losses``
    losses: Array  #: its step losses


def train_event(raw: Mapping[str, Any]) -> EpochEvent | TrainResult:
    """A line of the training stream: an :class:`EpochEvent`, or the final :class:`TrainResult`; an error line raises."""
    if raw["event"] == "epoch":
        return EpochEvent(raw["epoch"], raw["epochs"], float(raw["loss"]), array(raw["losses"]))
    if raw["event"] == "error":  # a later epoch failed after the stream started
        raise ProblemError.from_json(raw)
    return TrainResult.from_json(raw)


@dataclass(frozen=True)
class ImportResult:
    """A network read from a file by /v1/networks/import."""

    network: list[Layer]  #: W out × in, ready for any method
    source: dict[str, Any]  #: what was read: format, each layer's tensors (key, shape, dtype, transposed), what was skipped

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> ImportResult:
        return cls(read_network(raw["network"]), raw["source"])


@dataclass(frozen=True)
class ExplainStep:
    """One line of the derivation: ``symbol = formula = substituted = value`` (LaTeX, the primer's 1-based notation)."""

    id: str  #: e.g. "delta/0/0/2": quantity/layer/point/index, 0-based
    quantity: str
    layer: int | None
    point: int | None
    index: tuple[int, ...]
    symbol: str
    formula: str
    substituted: str
    value: float  #: full precision: what /v1/backward returns for the same quantity
    depends_on: tuple[str, ...]  #: ids of the earlier steps ``substituted`` uses
    derivative: str | None  #: for a δ step, the activation's derivative written out
    factors: tuple[Mapping[str, Any], ...] = ()  #: with chain "factors": each factor {of, wrt, symbol, formula, substituted, value, terms}
    parts: tuple[Mapping[str, Any], ...] = ()  #: for an update step: the optimizer's quantities {name, symbol, formula, substituted, value}


@dataclass(frozen=True)
class ExplainResult:
    convention: str
    steps: list[ExplainStep]
    rendered: str | None  #: the whole derivation as Markdown, LaTeX, text or MathML (None for render "none")

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> ExplainResult:
        steps = [
            ExplainStep(
                s["id"],
                s["quantity"],
                s.get("layer"),
                s.get("point"),
                tuple(s["index"]),
                s["symbol"],
                s["formula"],
                s["substituted"],
                float(s["value"]),
                tuple(s["depends_on"]),
                s.get("derivative"),
                tuple(s.get("factors", ())),
                tuple(s.get("parts", ())),
            )
            for s in raw["steps"]
        ]
        return cls(raw["convention"], steps, raw.get("rendered"))

    def by_id(self) -> dict[str, ExplainStep]:
        """The steps by id."""
        return {s.id: s for s in self.steps}


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
    max_init_parameters: int
    max_gradcheck_entries: int
    max_gradcheck_work: int
    max_explain_steps: int
    max_diagram_bytes: int
    max_import_uncompressed_bytes: int
    max_compute_seconds: float
    max_concurrent_computations: int
    max_queued_computations: int
    small_body_bytes: int
    body_timeout_seconds: float
    max_receiving_bytes: int
    memory_budget_bytes: int
    # datasets and training jobs (None from a server without them)
    max_dataset_body_bytes: int | None = None
    dataset_body_timeout_seconds: float | None = None
    max_dataset_rows: int | None = None
    max_dataset_bytes: int | None = None
    max_job_steps: int | None = None
    max_job_seconds: float | None = None
    job_retention_seconds: float | None = None
    # a tenant's quotas and the disk reserve (None from a server without them)
    tenant_max_datasets: int | None = None
    tenant_max_dataset_bytes: int | None = None
    tenant_max_active_jobs: int | None = None
    tenant_max_jobs: int | None = None
    min_free_disk_bytes: int | None = None

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Limits:
        # a newer server's extra limits are left out; one it must have is a KeyError; one an older server lacks, its default
        return cls(**{f.name: raw[f.name] if f.default is MISSING else raw.get(f.name, f.default) for f in fields(cls)})


@dataclass(frozen=True)
class Dataset:
    """A dataset stored by /v1/datasets: its id (the content's sha256), shapes, dtypes and size."""

    id: str
    x_shape: tuple[int, ...]
    t_shape: tuple[int, ...]
    bytes: int

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Dataset:
        return cls(raw["id"], tuple(raw["x"]["shape"]), tuple(raw["t"]["shape"]), raw["bytes"])


@dataclass(frozen=True)
class TrainingJob:
    """A training job: ``state`` is queued, running, succeeded, failed or cancelled; ``problem`` says why it failed."""

    id: str
    state: str
    step: int  #: steps done
    total: int  #: steps the job takes
    loss: float | None  #: the loss of the last step done
    attempts: int  #: more than 1: a worker resumed it from a checkpoint
    problem: dict[str, Any] | None
    waiting: str | None = None  #: why a running job is paused ("disk full", "backend"), or None

    @property
    def finished(self) -> bool:
        return self.state in ("succeeded", "failed", "cancelled")

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> TrainingJob:
        progress = raw["progress"]
        return cls(
            raw["id"],
            raw["state"],
            progress["step"],
            progress["total"],
            raw.get("loss"),
            raw["attempts"],
            raw.get("problem"),
            raw.get("waiting"),
        )


@dataclass(frozen=True)
class TrainingPage:
    """A page of the tenant's jobs, newest first; ``next`` is the cursor of the next page (None: the last)."""

    jobs: list[TrainingJob]
    next: str | None

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> TrainingPage:
        return cls([TrainingJob.from_json(j) for j in raw["jobs"]], raw.get("next"))


@dataclass(frozen=True)
class StepEvent:
    """A line of a job's event stream: a step done (``event`` "step"), or the end (``event`` "end", with the job)."""

    event: str
    step: int | None
    loss: float | None
    job: TrainingJob | None

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> StepEvent:
        if raw.get("event") == "end":
            return cls("end", None, None, TrainingJob.from_json({k: v for k, v in raw.items() if k != "event"}))
        return cls(raw.get("event", "step"), raw["step"], raw["loss"], None)
