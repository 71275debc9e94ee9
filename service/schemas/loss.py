"""The loss on the wire: a name, or an object with a name and parameters."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import ConfigDict, Discriminator, Tag

from service.engine.errors import ParameterError
from service.engine.losses import Loss, get_loss, loss_names
from service.errors import invalid, pointer
from service.schemas.base import WireModel

if TYPE_CHECKING:
    LossName = str
else:  # the engine's names, so the docs list them and pydantic refuses any other
    LossName = Literal[tuple(loss_names())]


class LossObject(WireModel):
    """A loss with parameters, e.g. ``{"name": "huber", "delta": 1.0}``; GET /v1/losses lists them."""

    model_config = ConfigDict(extra="allow")
    name: LossName


def _loss_form(value: Any) -> str:
    return "<object>" if isinstance(value, dict | LossObject) else "<name>"


LossSpec = Annotated[
    Annotated[LossName, Tag("<name>")] | Annotated[LossObject, Tag("<object>")],
    Discriminator(_loss_form),
]


def to_engine_loss(spec: str | LossObject) -> Loss:
    """The engine's loss; a bad parameter is a 422 pointing at /loss/<parameter>."""
    name, params = (spec, {}) if isinstance(spec, str) else (spec.name, dict(spec.model_extra or {}))
    try:
        return get_loss(name, **params)
    except ParameterError as exc:
        raise invalid([(pointer("loss", exc.parameter), exc.problem)]) from exc
