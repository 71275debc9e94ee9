"""GET /v1/activations, /v1/losses, /v1/optimizers, /v1/initializers: what each name means and takes.

Each list comes from the engine registry that computes it (its ``catalog()``), so
the documentation cannot drift from the code. The bytes are built once per process.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import orjson
from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.responses import Response

from service.engine import activations, initializers, losses, optimizers
from service.engine.catalog import CatalogEntry

router = APIRouter(prefix="/v1", tags=["catalog"])


class ParameterOut(BaseModel):
    """One parameter of an entry: its default and the values it may take."""

    name: str = Field(description="the parameter's name, a member of the object form")
    default: float | int | str | bool | list[float] | None = Field(description="the value used when the parameter is not sent")
    range: str = Field(description="the allowed values, e.g. '> 0' or 'none | tanh'")
    description: str = Field(description="what the parameter does")


class CatalogEntryOut(BaseModel):
    """One activation, loss, optimizer or initializer: what it computes and what it takes."""

    name: str = Field(description="the name to send (a string, or `name` in an object with parameters)")
    formula: str = Field(description="what it computes, in plain text")
    parameters: list[ParameterOut] = Field(description="send them in an object: {'name': …, '<parameter>': value}")
    aliases: list[str] = Field(description="other names accepted for the same entry")
    keras_difference: str | None = Field(description="how Keras differs (the semantics and defaults here are PyTorch's)")
    notes: list[str] = Field(description="derivatives at kinks, domains, and other details")


@cache
def _body(kind: str) -> bytes:
    sources: dict[str, Callable[[], list[CatalogEntry]]] = {
        "activations": activations.catalog,
        "losses": losses.catalog,
        "optimizers": optimizers.catalog,
        "initializers": initializers.catalog,
    }
    return orjson.dumps(sources[kind]())


def _route(kind: str, summary: str) -> None:
    async def list_entries() -> Response:
        return Response(_body(kind), media_type="application/json")

    list_entries.__doc__ = summary
    router.add_api_route(
        f"/{kind}",
        list_entries,
        methods=["GET"],
        response_model=list[CatalogEntryOut],
        operation_id=f"list_{kind}",
        summary=summary.split(".")[0],
    )


_route("activations", "Every activation h: parameters (defaults, ranges), formula, derivative at kinks, and how Keras differs.")
_route("losses", "Every loss E: parameters (defaults, ranges), formula and gradient, domain, and how Keras differs.")
_route("optimizers", "Every optimizer: hyperparameters (defaults, ranges), update rule, and how Keras differs.")
_route("initializers", "Every weight initializer: parameters (defaults, ranges), distribution, and how Keras differs.")
