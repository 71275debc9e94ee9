"""Limits on what one request may ask of the engine, checked once, right after parsing.

Every computing request passes through :func:`check_network` (from the request
schema's conversion to engine inputs); a training route also calls
:func:`check_train_steps`. A request over a limit gets a 422 problem+json whose
``errors`` name the limit, its value and what was sent, with a JSON Pointer.
The body size is limited earlier, before parsing (service/api/body.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field, create_model

from service.config import Settings, get_settings
from service.errors import LimitExceeded, invalid, pointer

#: The settings published at ``GET /v1/limits``: every bound on what one request may cost.
LIMIT_SETTINGS = (
    "max_body_bytes",
    "max_layers",
    "max_units_per_layer",
    "max_parameters",
    "max_batch_rows",
    "max_batch_parameters",
    "max_extra_values",
    "max_train_steps",
    "max_init_parameters",
    "max_gradcheck_entries",
    "max_gradcheck_work",
    "max_explain_steps",
    "max_diagram_bytes",
    "max_import_uncompressed_bytes",
    "max_compute_seconds",
    "max_concurrent_computations",
    "max_queued_computations",
    "small_body_bytes",
    "body_timeout_seconds",
    "max_receiving_bytes",
    "memory_budget_bytes",
    "max_dataset_body_bytes",
    "dataset_body_timeout_seconds",
    "max_dataset_rows",
    "max_dataset_bytes",
    "max_job_steps",
    "max_job_seconds",
    "job_retention_seconds",
    "tenant_max_datasets",
    "tenant_max_dataset_bytes",
    "tenant_max_active_jobs",
    "tenant_max_jobs",
    "min_free_disk_bytes",
)


#: The limits of this server (``GET /v1/limits``): each field is the setting ``GRADIENT_<NAME>``, described once, in service/config.py.
Limits: type[BaseModel] = create_model(  # type: ignore[call-overload]
    "Limits",
    __doc__="The limits of this server (`GET /v1/limits`); each is the setting `GRADIENT_<NAME>`.",
    **{
        name: (Settings.model_fields[name].annotation, Field(description=Settings.model_fields[name].description))
        for name in LIMIT_SETTINGS
    },
)


def published(settings: Settings) -> dict[str, Any]:
    """The values of :data:`LIMIT_SETTINGS` in this server's settings."""
    values = {name: getattr(settings, name) for name in LIMIT_SETTINGS}
    values["memory_budget_bytes"] = settings.memory_budget()  # the budget in force, also when derived from the cgroup
    return values


#: How a limit whose default depends on the machine is shown in the OpenAPI document (the same on every machine):
#: its rule; ``GET /v1/limits`` gives the figure in force.
MACHINE_DEFAULTS = {"memory_budget_bytes": "derived from the machine (see below); `GET /v1/limits` gives the figure in force"}


def describe(settings: Settings) -> str:
    """The limits as a Markdown table, for the OpenAPI description: the same bytes on every machine."""
    shown = {name: getattr(settings, name) for name in LIMIT_SETTINGS}
    rows = [
        f"| `{name}` | {MACHINE_DEFAULTS[name] if name in MACHINE_DEFAULTS and not value else f'{value:,}'} | "
        f"{Settings.model_fields[name].description} |"
        for name, value in shown.items()
    ]
    return "\n".join(["| limit | value | what it bounds |", "|---|---|---|", *rows])


@dataclass(frozen=True)
class LayerShape:
    """Layer l's W is K × M; ``bias`` is K, or 0 for a layer without bias."""

    K: int
    M: int
    bias: int


def _over(where: str, sent: str, value: int, name: str) -> tuple[str, str]:
    return where, f"{sent}: {value:,}; the limit {name} is {getattr(get_settings(), name):,}"


def check_network(layers: Sequence[LayerShape], rows: int) -> None:
    """422 naming every limit that a network of these layers and a batch of ``rows`` points exceed."""
    s = get_settings()
    parameters = sum(layer.K * layer.M + layer.bias for layer in layers)
    errors: list[tuple[str, str]] = []
    if len(layers) > s.max_layers:
        errors.append(_over(pointer("network", "layers"), "layers", len(layers), "max_layers"))
    for l, layer in enumerate(layers[: s.max_layers]):
        units = max(layer.K, layer.M)
        if units > s.max_units_per_layer:
            where, sent = pointer("network", "layers", l, "weights"), f"{layer.K} × {layer.M} weights, units"
            errors.append(_over(where, sent, units, "max_units_per_layer"))
    if parameters > s.max_parameters:
        errors.append(_over(pointer("network", "layers"), "parameters (weights and biases)", parameters, "max_parameters"))
    if rows > s.max_batch_rows:
        errors.append(_over(pointer("x"), "rows (data points)", rows, "max_batch_rows"))
    elif rows * parameters > s.max_batch_parameters:
        sent = f"{rows:,} rows for {parameters:,} parameters, rows × parameters"
        errors.append(_over(pointer("x"), sent, rows * parameters, "max_batch_parameters"))
    if errors:
        raise exceeded(errors)


def check_extras(sizes: dict[str, int]) -> None:
    """422 for each opt-in extra (field name → numbers it would return) over ``max_extra_values``."""
    errors = [
        _over(pointer(name), "numbers it would return (data points × their size)", size, "max_extra_values")
        for name, size in sizes.items()
        if size > get_settings().max_extra_values
    ]
    if errors:
        raise exceeded(errors)


def check_train_steps(steps: int, where: str) -> None:
    """422 if a training request would take more than ``max_train_steps`` steps; ``where`` points at the field."""
    if steps > get_settings().max_train_steps:
        raise exceeded([_over(where, "optimizer steps", steps, "max_train_steps")])


def check_gradcheck(entries: int, work: int) -> None:
    """Refuse a gradcheck that perturbs more than ``max_gradcheck_entries`` entries or costs more than ``max_gradcheck_work``."""
    s = get_settings()
    if entries > s.max_gradcheck_entries or work > s.max_gradcheck_work:
        raise exceeded(
            [
                (
                    "",
                    f"gradcheck perturbs each of the {entries} weights, biases and inputs, about {work:.2g} multiply-adds; "
                    f"the limits max_gradcheck_entries = {s.max_gradcheck_entries} and max_gradcheck_work = {s.max_gradcheck_work:.2g} "
                    "allow less: check a smaller network or batch",
                )
            ]
        )


def check_init_parameters(count: int, where: str) -> None:
    """Refuse a network to initialize with more than ``max_init_parameters`` weights and biases."""
    if count > get_settings().max_init_parameters:
        raise exceeded([_over(where, "parameters (weights and biases) it describes", count, "max_init_parameters")])


def check_explain_steps(steps: int, remedies: Callable[[int], str]) -> None:
    """Refuse an explanation of more than ``max_explain_steps`` steps; ``remedies(limit)`` says which filters bring it under."""
    limit = get_settings().max_explain_steps
    if steps > limit:
        raise exceeded([("", f"the derivation would need {steps:,} steps; the limit max_explain_steps is {limit:,}. {remedies(limit)}")])


def check_diagram_bytes(estimate: int) -> None:
    """Refuse a diagram whose SVG is estimated over ``max_diagram_bytes``, before it is drawn."""
    limit = get_settings().max_diagram_bytes
    if estimate > limit:
        raise exceeded(
            [
                (
                    pointer("network", "layers"),
                    f"the diagram would be about {estimate:,} bytes of SVG (estimated from the layer sizes; layers over 64 neurons "
                    f"are summarized as 16); the limit max_diagram_bytes is {limit:,}: draw fewer layers, or show fewer values",
                )
            ]
        )


def exceeded(errors: list[tuple[str, str]]) -> LimitExceeded:
    """The limit error for these (pointer, detail) pairs."""
    return invalid(errors, kind=LimitExceeded)  # type: ignore[return-value]


def check_job(steps: int, seconds: float, where_steps: str, where_seconds: str) -> None:
    """422 for a training job over ``max_job_steps`` steps, or asking for more than ``max_job_seconds`` of compute."""
    s = get_settings()
    errors = []
    if steps > s.max_job_steps:
        errors.append(_over(where_steps, "optimizer steps", steps, "max_job_steps"))
    if seconds > s.max_job_seconds:
        errors.append((where_seconds, f"seconds: {seconds:,g}; the limit max_job_seconds is {s.max_job_seconds:,g}"))
    if errors:
        raise exceeded(errors)
