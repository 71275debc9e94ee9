"""Limits on what one request may ask of the engine, checked once, right after parsing.

Every computing request passes through :func:`check_network` (from the request
schema's conversion to engine inputs); a training route also calls
:func:`check_train_steps`. A request over a limit gets a 422 problem+json whose
``errors`` name the limit, its value and what was sent, with a JSON Pointer.
The body size is limited earlier, before parsing (service/api/body.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from service.config import Settings, get_settings
from service.errors import ProblemError, invalid, pointer


def _setting(name: str) -> Any:
    """A field described as the setting of the same name is (one description, in service/config.py)."""
    return Field(description=Settings.model_fields[name].description)


class Limits(BaseModel):
    """The limits of this server (``GET /v1/limits``); each is the setting ``GRADIENT_<NAME>``."""

    max_body_bytes: int = _setting("max_body_bytes")
    max_layers: int = _setting("max_layers")
    max_units_per_layer: int = _setting("max_units_per_layer")
    max_parameters: int = _setting("max_parameters")
    max_batch_rows: int = _setting("max_batch_rows")
    max_batch_parameters: int = _setting("max_batch_parameters")
    max_extra_values: int = _setting("max_extra_values")
    max_train_steps: int = _setting("max_train_steps")
    max_compute_seconds: float = _setting("max_compute_seconds")
    max_concurrent_computations: int = _setting("max_concurrent_computations")
    max_queued_computations: int = _setting("max_queued_computations")

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        return cls.model_validate({name: getattr(settings, name) for name in cls.model_fields})


def describe(settings: Settings) -> str:
    """The limits as a Markdown table, for the OpenAPI description."""
    limits = Limits.of(settings)
    rows = [f"| `{name}` | {value:,} | {Limits.model_fields[name].description} |" for name, value in limits.model_dump().items()]
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


def exceeded(errors: list[tuple[str, str]]) -> ProblemError:
    """The 422 for these (pointer, detail) pairs."""
    return invalid(errors, slug="limit-exceeded", title="Limit exceeded")
