"""A name, or an object with a name and parameters: how activations and losses go on the wire.

``"tanh"`` or ``{"name": "leaky_relu", "negative_slope": 0.01}``; the parameters
are checked by the engine's registry, and a bad one is a 422 pointing at it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from pydantic import ConfigDict, Discriminator, Tag

from service.engine.errors import EngineError, ParameterError
from service.errors import invalid, pointer
from service.schemas.base import WireModel

T = TypeVar("T")


class NamedObject(WireModel):
    """The object form: ``name`` and any parameters (the subclass narrows ``name`` to the known names)."""

    model_config = ConfigDict(extra="allow")
    name: str


def name_or_object(name_type: Any, object_model: type[NamedObject]) -> Any:
    """The annotation accepting either form; pydantic's errors then name only the form that was sent."""

    def form(value: Any) -> str:
        return "<object>" if isinstance(value, dict | object_model) else "<name>"

    return Annotated[Annotated[name_type, Tag("<name>")] | Annotated[object_model, Tag("<object>")], Discriminator(form)]


def build(spec: str | NamedObject, get: Callable[..., T], where: str) -> T:
    """``get(name, **parameters)``; a bad parameter is a 422 at ``where``/<parameter>, any other refusal at ``where``."""
    name, params = (spec, {}) if isinstance(spec, str) else (spec.name, dict(spec.model_extra or {}))
    try:
        return get(name, **params)
    except ParameterError as exc:
        raise invalid([(where + pointer(exc.parameter), exc.problem)]) from exc
    except EngineError as exc:
        raise invalid([(where, str(exc))]) from exc
