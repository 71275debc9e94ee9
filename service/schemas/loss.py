"""The loss on the wire: a name, or an object with a name and parameters."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from service.engine.losses import Loss, get_loss, loss_names
from service.errors import pointer
from service.schemas.named import NamedObject, build, name_or_object

if TYPE_CHECKING:
    LossName = str
else:  # the engine's names, so the docs list them and pydantic refuses any other
    LossName = Literal[tuple(loss_names())]


class LossObject(NamedObject):
    """A loss with parameters, e.g. ``{"name": "huber", "delta": 1.0}``; GET /v1/losses lists them."""

    name: LossName


if TYPE_CHECKING:
    LossSpec = str | LossObject
else:
    LossSpec = name_or_object(LossName, LossObject)


def to_engine_loss(spec: str | LossObject) -> Loss:
    """The engine's loss; a bad parameter is a 422 pointing at /loss/<parameter>."""
    return build(spec, get_loss, pointer("loss"))
