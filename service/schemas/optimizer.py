"""Optimizers and their state on the wire.

The state is sent back by the client on the next step; the service keeps none.
On the wire it is ``{"step": n, "slots": {slot: [{"weights": …, "bias": …}, …]}}``
with one entry per layer, shaped like that layer's W and b.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import Field
from pydantic.types import FailFast

from service.engine.network import Array, Layer
from service.engine.optimizers import Optimizer, OptimizerState
from service.errors import invalid, pointer
from service.schemas.base import WireModel
from service.schemas.tensor import Matrix, Vector


class SGD(WireModel):
    """Gradient descent: θ ← θ − η ∂E/∂θ."""

    name: Literal["sgd"]
    learning_rate: float = Field(0.01, gt=0, description="η, the step size (torch.optim's `lr`)")


OptimizerSpec = SGD


class SlotIn(WireModel):
    """One layer's share of an optimizer slot, shaped like its W and b."""

    weights: Matrix
    bias: Vector | None = None


class OptimizerStateIn(WireModel):
    """The optimizer state returned by the previous step."""

    step: int = Field(ge=0, description="steps taken so far")
    # fail fast and few keys: a body of 10M bad entries must cost one error, not 10M (12 GB)
    slots: dict[str, Annotated[list[SlotIn], FailFast()]] = Field(
        default_factory=dict, max_length=16, description="per slot, one entry per layer"
    )

    def to_engine(self, optimizer: Optimizer, layers: Sequence[Layer]) -> OptimizerState:
        """The engine's state; every slot must be the optimizer's and shaped like the parameters."""
        errors: list[tuple[str, str]] = []
        for name in self.slots.keys() - set(optimizer.slots):
            errors.append(
                (
                    pointer("optimizer_state", "slots", name),
                    f"{optimizer.name} has no slot {name!r}; its slots are {list(optimizer.slots) or 'none'}",
                )
            )
        for name in set(optimizer.slots) - self.slots.keys():
            errors.append((pointer("optimizer_state", "slots"), f"slot {name!r} is missing"))
        if errors:
            raise invalid(errors)
        slots: dict[str, list[Array]] = {}
        for name, per_layer in self.slots.items():
            if len(per_layer) != len(layers):
                raise invalid(
                    [(pointer("optimizer_state", "slots", name), f"has {len(per_layer)} entries but the network has {len(layers)} layers")]
                )
            arrays: list[Array] = []
            for l, (slot, layer) in enumerate(zip(per_layer, layers, strict=True)):
                for field, value, param in (("weights", slot.weights, layer.W), ("bias", slot.bias, layer.b)):
                    where = pointer("optimizer_state", "slots", name, l, field)
                    if param is None:
                        if value is not None:
                            errors.append((where, f"layer {l} has no bias, so its slot has none"))
                        continue
                    if value is None or value.shape != param.shape:
                        found = "nothing" if value is None else f"shape {list(value.shape)}"
                        errors.append((where, f"has {found} but the parameter has shape {list(param.shape)}"))
                        continue
                    arrays.append(value.astype(param.dtype, copy=False))
            slots[name] = arrays
        if errors:
            raise invalid(errors)
        return OptimizerState(self.step, slots)


def state_to_wire(state: OptimizerState, layers: Sequence[Layer]) -> dict[str, Any]:
    """The engine's state in the wire form that :class:`OptimizerStateIn` reads back."""
    slots: dict[str, list[dict[str, Any]]] = {}
    for name, arrays in state.slots.items():
        it = iter(arrays)
        slots[name] = [{"weights": next(it), "bias": next(it) if layer.b is not None else None} for layer in layers]
    return {"step": state.step, "slots": slots}
