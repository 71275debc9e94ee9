"""Optimizers and their state on the wire.

``optimizer`` is an object whose ``name`` selects the algorithm (a discriminated
union); the other fields are torch.optim's hyperparameters with torch's names and
defaults, except the step size, which is ``learning_rate`` (torch's ``lr``).
Gradient clipping (``clip_norm`` or ``clip_value``) is part of every optimizer
object: like Keras's ``clipnorm``/``clipvalue`` it transforms ∂E/∂θ just before
the update, and torch's ``clip_grad_norm_`` is called at that same point.

The state is sent back by the client on the next step; the service keeps none.
On the wire it is ``{"step": n, "slots": {slot: [{"weights": …, "bias": …}, …]}}``
with one entry per layer, shaped like that layer's W and b. Slot names are
torch.optim's state keys (``momentum_buffer``, ``exp_avg``, …).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal, Self

from pydantic import Discriminator, Field, Tag, model_validator
from pydantic.types import FailFast
from pydantic_core import PydanticCustomError

from service.engine.clipping import with_clipping
from service.engine.network import Array, Layer
from service.engine.optimizers import Optimizer, OptimizerState, get_optimizer, optimizer_names
from service.errors import invalid, pointer
from service.schemas.base import WireModel
from service.schemas.tensor import Matrix, Vector

LearningRate = Annotated[float, Field(gt=0, description="η, the step size (torch.optim's `lr`)")]
Beta = Annotated[float, Field(ge=0, lt=1)]
Momentum = Annotated[float, Field(ge=0, lt=1, description="μ, in [0, 1); 0 turns momentum off")]
Eps = Annotated[float, Field(gt=0, description="ε, added to the denominator against division by zero")]
WeightDecay = Annotated[float, Field(ge=0, description="λ: adds λθ to the gradient (L2 penalty on every parameter, biases included)")]


class _Optimizer(WireModel):
    """What every optimizer accepts: gradient clipping, applied to ∂E/∂θ before the update."""

    name: str
    clip_norm: float | None = Field(
        None,
        gt=0,
        description="if set, scale all gradients together so that their global L2 norm is at most this "
        "(torch.nn.utils.clip_grad_norm_: g·min(1, c/(‖g‖ + 1e-6)); Keras's global_clipnorm)",
    )
    clip_value: float | None = Field(
        None,
        gt=0,
        description="if set, clamp every gradient entry to [−c, c] (torch.nn.utils.clip_grad_value_; Keras's clipvalue)",
    )

    @model_validator(mode="after")
    def _one_clipping(self) -> Self:
        if self.clip_norm is not None and self.clip_value is not None:
            raise PydanticCustomError("clipping", "set at most one of clip_norm and clip_value (as Keras allows)")
        return self

    def to_engine(self) -> Optimizer:
        """The engine's optimizer, clipping included."""
        hyperparameters = self.model_dump(exclude={"name", "clip_norm", "clip_value"})
        return with_clipping(get_optimizer(self.name, **hyperparameters), self.clip_norm, self.clip_value)


class SGD(_Optimizer):
    """torch.optim.SGD: g ← g + λθ; b ← g (first step), b ← μb + (1−τ)g; g ← g + μb (nesterov) or b; θ ← θ − ηg."""

    name: Literal["sgd"]
    learning_rate: LearningRate = 1e-3
    momentum: Momentum = 0.0
    dampening: float = Field(0.0, ge=0, le=1, description="τ: the new gradient enters the momentum buffer with weight 1 − τ")
    weight_decay: WeightDecay = 0.0
    nesterov: bool = Field(False, description="Nesterov momentum; needs momentum > 0 and dampening = 0")

    @model_validator(mode="after")
    def _nesterov(self) -> Self:
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise PydanticCustomError("nesterov", "nesterov needs momentum > 0 and dampening = 0 (as torch.optim.SGD)")
        return self


class Adam(_Optimizer):
    """torch.optim.Adam: m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²; θ ← θ − η/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + ε). Keras: ε = 1e-7."""

    name: Literal["adam"]
    learning_rate: LearningRate = 1e-3
    betas: tuple[Beta, Beta] = Field((0.9, 0.999), description="[β₁, β₂], each in [0, 1): decay rates of m and v")
    eps: Eps = 1e-8
    weight_decay: WeightDecay = 0.0
    amsgrad: bool = Field(False, description="divide by the running maximum of v (slot max_exp_avg_sq)")


class AdamW(Adam):
    """torch.optim.AdamW: θ ← θ(1 − ηλ), then the Adam step. Keras: ε = 1e-7, weight_decay 0.004."""

    name: Literal["adamw"]  # type: ignore[assignment]
    weight_decay: float = Field(1e-2, ge=0, description="λ: decoupled weight decay, θ ← θ(1 − ηλ) before the Adam step")


class RMSprop(_Optimizer):
    """torch.optim.RMSprop: s ← αs + (1−α)g²; θ ← θ − η g/(√s + ε) (centered: √(s − ḡ²); momentum: b ← μb + g/d). Keras: rho 0.9, ε 1e-7."""

    name: Literal["rmsprop"]
    learning_rate: LearningRate = 1e-2
    alpha: float = Field(0.99, ge=0, lt=1, description="α: decay rate of the running average of g² (Keras's `rho`, 0.9 there)")
    eps: Eps = 1e-8
    weight_decay: WeightDecay = 0.0
    momentum: Momentum = 0.0
    centered: bool = Field(False, description="normalize by an estimate of the gradient's variance (slot grad_avg)")


class Adagrad(_Optimizer):
    """torch.optim.Adagrad: S ← S + g²; θ ← θ − η/(1 + (t−1)·lr_decay) · g/(√S + ε). Keras: initial_accumulator_value 0.1, ε 1e-7."""

    name: Literal["adagrad"]
    learning_rate: LearningRate = 1e-2
    lr_decay: float = Field(0.0, ge=0, description="the step size at step t is η / (1 + (t − 1) · lr_decay)")
    weight_decay: WeightDecay = 0.0
    initial_accumulator_value: float = Field(0.0, ge=0, description="S before the first step (Keras: 0.1)")
    eps: Eps = 1e-10


def _optimizer_tag(value: Any) -> str | None:
    name = value.get("name") if isinstance(value, dict) else getattr(value, "name", None)
    return f"<{name}>" if isinstance(name, str) else None


_MODELS: tuple[type[_Optimizer], ...] = (SGD, Adam, AdamW, RMSprop, Adagrad)
_MAPPING = {m.model_fields["name"].annotation.__args__[0]: f"#/components/schemas/{m.__name__}" for m in _MODELS}  # type: ignore[union-attr]

OptimizerSpec = Annotated[
    Annotated[SGD, Tag("<sgd>")]
    | Annotated[Adam, Tag("<adam>")]
    | Annotated[AdamW, Tag("<adamw>")]
    | Annotated[RMSprop, Tag("<rmsprop>")]
    | Annotated[Adagrad, Tag("<adagrad>")],
    Discriminator(
        _optimizer_tag,
        custom_error_type="unknown_optimizer",
        custom_error_message=f"`name` must be one of: {', '.join(optimizer_names())}",
    ),
    # The tags above keep pydantic's error locations clean; the docs still get OpenAPI's discriminator.
    Field(json_schema_extra={"discriminator": {"propertyName": "name", "mapping": _MAPPING}}),
]


class SlotIn(WireModel):
    """One layer's share of an optimizer slot, shaped like its W and b."""

    weights: Matrix
    bias: Vector | None = None


class OptimizerStateIn(WireModel):
    """The optimizer state returned by the previous step.

    Send it back unchanged. A state with ``step`` 0 may leave out slots (they start
    as torch.optim starts them); after that every slot of the optimizer must be there.
    """

    step: int = Field(ge=0, description="steps taken so far (t − 1 for the next step's bias corrections)")
    # fail fast and few keys: a body of 10M bad entries must cost one error, not 10M (12 GB)
    slots: dict[str, Annotated[list[SlotIn], FailFast()]] = Field(
        default_factory=dict, max_length=16, description="per slot (torch.optim's state key, e.g. `exp_avg`), one entry per layer"
    )

    def to_engine(self, optimizer: Optimizer, layers: Sequence[Layer]) -> OptimizerState:
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
