"""The loss on the wire: a name, or an object with a name and parameters."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from service.engine.losses import Loss, get_loss
from service.errors import pointer
from service.schemas.named import NamedObject, build, name_or_object
from service.schemas.names import LossName


class LossObject(NamedObject):
    """A loss with parameters, e.g. ``{"name": "huber", "delta": 1.0}``; GET /v1/losses lists them."""

    name: LossName = Field(description="the loss; its parameters are the object's other members")


if TYPE_CHECKING:
    LossSpec = str | LossObject
else:
    LossSpec = name_or_object(LossName, LossObject)


def to_engine_loss(spec: str | LossObject) -> Loss:
    """The engine's loss; a bad parameter is a 422 pointing at /loss/<parameter>."""
    return build(spec, get_loss, pointer("loss"))
