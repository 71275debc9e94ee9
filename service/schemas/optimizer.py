"""Optimizers and their state on the wire.

``optimizer`` is an object whose ``name`` selects the algorithm (a discriminated
union); the other fields are torch.optim's hyperparameters with torch's names and
defaults, except the step size, which is ``learning_rate`` (torch's ``lr``).
Gradient clipping (``clip_norm`` or ``clip_value``) is part of every optimizer
object: like Keras's ``clipnorm``/``clipvalue`` it transforms ∂E/∂θ just before
the update, and torch's ``clip_grad_norm_`` is called at that same point.
Each optimizer's model is derived from its entry in the engine's registry
(service/engine/optimizers/): names, defaults, bounds and descriptions are stated there once.

The state is sent back by the client on the next step; the service keeps none.
On the wire it is ``{"step": n, "slots": {slot: [{"weights": …, "bias": …}, …]}}``
with one entry per layer, shaped like that layer's W and b. Slot names are
torch.optim's state keys (``momentum_buffer``, ``exp_avg``, …). :class:`OptimizerState` is
both what a response returns and what the next request sends: one schema for both.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import Discriminator, Field, Tag, create_model
from pydantic.types import FailFast

from service.engine.arrays import Array
from service.engine.errors import EngineError, ParameterError
from service.engine.network import Layer
from service.engine.optimizers import OPTIMIZERS, Optimizer, get_optimizer
from service.engine.optimizers import OptimizerState as EngineState
from service.engine.parameters import flatten, unflatten
from service.engine.registry import Entry, Spec
from service.errors import invalid, pointer
from service.schemas.base import WireModel
from service.schemas.tensor import Matrix, Vector


class OptimizerObject(WireModel):
    """What every optimizer object has: ``name``; the models below add the hyperparameters of each."""

    name: str

    def to_engine(self) -> Optimizer:
        """The engine's optimizer, clipping included.

        The bounds were checked as the body was parsed; a combination torch refuses (nesterov without momentum,
        both clip_norm and clip_value) is an invalid request pointing at /optimizer.
        """
        try:
            return get_optimizer(self.name, **self.model_dump(exclude={"name"}))
        except ParameterError as exc:
            raise invalid([(pointer("optimizer", exc.parameter), exc.problem)]) from exc
        except EngineError as exc:
            raise invalid([(pointer("optimizer"), str(exc))]) from exc


def _field(spec: Spec) -> tuple[Any, Any]:
    """The pydantic field of a hyperparameter, from its one description in the engine's registry."""
    text = spec.description
    bounds: dict[str, Any] = dict(spec.bounds)
    if spec.kind == "flag":
        return bool, Field(spec.default, description=text)
    if spec.kind == "pair":
        member = Annotated[float, Field(**bounds)]
        return tuple[member, member], Field(spec.default, description=text)
    if spec.kind == "optional_real":
        return float | None, Field(None, description=text, **bounds)
    return float, Field(spec.default, description=text, **bounds)


def _model(entry: Entry[Optimizer]) -> type[OptimizerObject]:
    """The wire model of one optimizer: ``name`` fixed to its name, then its hyperparameters with defaults and bounds."""
    described = entry.describe
    doc = f"{described.name}: {described.formula}" + (f". {described.keras_difference}" if described.keras_difference else "")
    fields: dict[str, Any] = {
        "name": (Literal[described.name], Field(description="the optimizer; its hyperparameters are the other members"))
    }
    fields.update({spec.name: _field(spec) for spec in entry.specs})
    return create_model(entry.title, __base__=OptimizerObject, __doc__=doc, **fields)


#: One wire model per optimizer of the engine's registry, in its order.
OPTIMIZER_MODELS: tuple[type[OptimizerObject], ...] = tuple(_model(e) for e in OPTIMIZERS.entries)
globals().update({m.__name__: m for m in OPTIMIZER_MODELS})  # importable by name (SGD, Adam …), so a request pickles


def _optimizer_tag(value: Any) -> str | None:
    name = value.get("name") if isinstance(value, dict) else getattr(value, "name", None)
    return f"<{name}>" if isinstance(name, str) else None


_MAPPING = {m.model_fields["name"].annotation.__args__[0]: f"#/components/schemas/{m.__name__}" for m in OPTIMIZER_MODELS}  # type: ignore[union-attr]

if TYPE_CHECKING:
    OptimizerSpec = OptimizerObject
else:
    OptimizerSpec = Annotated[
        Union[tuple(Annotated[m, Tag(f"<{name}>")] for name, m in zip(_MAPPING, OPTIMIZER_MODELS, strict=True))],  # noqa: UP007
        Discriminator(
            _optimizer_tag,
            custom_error_type="unknown_optimizer",
            custom_error_message=f"`name` must be one of: {', '.join(OPTIMIZERS.names())}",
        ),
        # The tags above keep pydantic's error locations clean; the docs still get OpenAPI's discriminator.
        Field(json_schema_extra={"discriminator": {"propertyName": "name", "mapping": _MAPPING}}),
    ]


class Slot(WireModel):
    """One layer's share of an optimizer slot, shaped like its W and b."""

    weights: Matrix = Field(description="the slot's values for W, shaped like the layer's weights")
    bias: Vector | None = Field(None, description="the slot's values for b; null (or absent) for a layer without bias")


def _slot_names(schema: dict[str, Any]) -> None:
    # The keys are validated as strings, so that an unknown slot gets a message naming the optimizer's slots;
    # the document still lists the names a slot may have.
    schema["propertyNames"] = {"$ref": "#/components/schemas/SlotName"}


class OptimizerState(WireModel):
    """The optimizer state a train step returns: send it back unchanged with the next step.

    A state with ``step`` 0 may leave out slots (they start as torch.optim starts them);
    after that every slot of the optimizer must be there.
    """

    step: int = Field(ge=0, description="steps taken so far (t − 1 for the next step's bias corrections)")
    # fail fast and few keys: a body of 10M bad entries must cost one error, not 10M (12 GB)
    slots: dict[str, Annotated[list[Slot], FailFast()]] = Field(
        default_factory=dict,
        max_length=16,
        description="per slot (torch.optim's state key, e.g. `exp_avg`), one entry per layer",
        json_schema_extra=_slot_names,
    )

    def to_engine(self, optimizer: Optimizer, layers: Sequence[Layer]) -> EngineState:
        """The engine's state; every slot must be the optimizer's and shaped like the parameters."""
        errors: list[tuple[str, str]] = []
        for name in sorted(self.slots.keys() - set(optimizer.slots)):
            errors.append(
                (
                    pointer("optimizer_state", "slots", name),
                    f"{optimizer.name} has no slot {name!r}; its slots are {list(optimizer.slots) or 'none'}",
                )
            )
        if self.step > 0:  # before the first step a slot may be absent: the update starts it as torch does
            for name in sorted(set(optimizer.slots) - self.slots.keys()):
                errors.append((pointer("optimizer_state", "slots"), f"slot {name!r} is missing (a state after step 1 carries every slot)"))
        if errors:
            raise invalid(errors)
        slots: dict[str, list[Array]] = {}
        for name, per_layer in self.slots.items():
            if len(per_layer) != len(layers):
                raise invalid(
                    [(pointer("optimizer_state", "slots", name), f"has {len(per_layer)} entries but the network has {len(layers)} layers")]
                )
            for l, (slot, layer) in enumerate(zip(per_layer, layers, strict=True)):
                for field, value, param in (("weights", slot.weights, layer.W), ("bias", slot.bias, layer.b)):
                    where = pointer("optimizer_state", "slots", name, l, field)
                    if param is None and value is not None:
                        errors.append((where, f"layer {l} has no bias, so its slot has none"))
                    elif param is not None and (value is None or value.shape != param.shape):
                        found = "nothing" if value is None else f"shape {list(value.shape)}"
                        errors.append((where, f"has {found} but the parameter has shape {list(param.shape)}"))
            if not errors:
                per_param = [
                    (s.weights.astype(layer.W.dtype, copy=False), _like(s.bias, layer.b))
                    for s, layer in zip(per_layer, layers, strict=True)
                ]
                slots[name] = flatten(per_param)
        if errors:
            raise invalid(errors)
        return EngineState(self.step, slots)


def state_to_wire(state: EngineState, layers: Sequence[Layer]) -> dict[str, Any]:
    """The engine's state in the wire form that :class:`OptimizerState` reads back."""
    slots = {name: [{"weights": W, "bias": b} for W, b in unflatten(layers, arrays)] for name, arrays in state.slots.items()}
    return {"step": state.step, "slots": slots}


def _like(value: Array | None, param: Array | None) -> Array | None:
    """A bias slot in its parameter's dtype (None where the layer has no bias)."""
    return None if value is None or param is None else value.astype(param.dtype, copy=False)
