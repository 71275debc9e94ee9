"""/v1/explain on the wire: what backward takes, plus digits, a rendering, an optional optimizer and filters; the steps out.

The step count is checked against ``max_explain_steps`` from the shapes alone
(:func:`service.engine.explain.count_steps`) before any step is built; a refusal
names the filters (``quantities``, ``layers``, ``points``) that would bring it under.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import PydanticCustomError

from service.engine.explain import Factor, Selection, Step, count_per_filter, count_steps, sizes_of
from service.engine.optimizers import Optimizer
from service.engine.optimizers import OptimizerState as EngineState
from service.errors import NonFiniteResult, invalid, pointer
from service.limits import check_explain_steps
from service.schemas.examples import BACKWARD_EXAMPLE, CLASSIFICATION_BACKWARD_EXAMPLE
from service.schemas.names import Chain, Render, StepQuantity, StepReduction
from service.schemas.optimizer import OptimizerSpec, OptimizerState
from service.schemas.requests import LossInputs, LossRequest, extended

CONVENTION = "W[k][m]: output neuron k ← input m (PyTorch's weight; a Keras kernel is its transpose)"
Index = Annotated[int, Field(ge=0)]

EXPLAIN_EXAMPLE: dict[str, Any] = {**BACKWARD_EXAMPLE, "digits": 2, "render": "text"}
EXPLAIN_EXAMPLES: dict[str, dict[str, Any]] = {
    "primer": {"summary": "The primer's 2-3-2 network (Figure 6) at 2 digits, in the primer's text style (§5)", "value": EXPLAIN_EXAMPLE},
    "primer-step": {
        "summary": "One SGD step on the primer's network: each new weight, and the loss after it",
        "value": {**BACKWARD_EXAMPLE, "optimizer": {"name": "sgd", "learning_rate": 0.1}, "quantities": ["update", "loss_after"]},
    },
    "classification": {
        "summary": "δ of a 2-3-3 softmax classifier on a batch of 2 (δ⁽ᴸ⁾ = (y − t)/N, fused with cross-entropy), in LaTeX",
        "value": {**CLASSIFICATION_BACKWARD_EXAMPLE, "quantities": ["delta"], "render": "latex"},
    },
}

_FILTERS = {"quantity": "quantities", "layer": "layers", "point": "points"}


def refuse(value: object) -> object:
    """A before-validator for a field the parent model has but this request does not take."""
    raise PydanticCustomError("extra_forbidden", "unknown field")


@dataclass(frozen=True)
class ExplainInputs(LossInputs):
    """:func:`service.engine.explain.explain`'s arguments, and the rendering to make of its steps."""

    digits: int
    render: str
    chain: str
    selection: Selection
    optimizer: Optimizer | None
    state: EngineState | None


class ExplainRequest(LossRequest):
    """What backward takes, and how to show the derivation: digits, a rendering, an optional optimizer step, filters."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXPLAIN_EXAMPLE]})

    reduction: StepReduction = Field("sum", description="over the batch: sum (Bishop, the primer) or mean (Keras/PyTorch)")
    digits: int = Field(
        4, ge=1, le=17, description="significant digits of the numbers in `substituted` and `rendered` (`value` is always full precision)"
    )
    render: Render = Field(
        "markdown",
        description="`rendered` as Markdown with $…$ math, a LaTeX align* body, plain text in the primer's style (δ₃⁽¹⁾ = …), "
        "an HTML fragment of MathML (a list item per step with `data-step` and `data-depends`; the learner's page shows it), "
        "or none (`rendered` is null)",
    )
    chain: Chain = Field(
        "compact",
        description="factors: each δ, ∂E/∂w, ∂E/∂b and ∂E/∂x written as the chain rule's factors (`factors`, each with what it "
        "differentiates and its value): ∂E/∂y · ∂y/∂a · ∂a/∂w for an output weight, the layer above's sum term by term for a "
        "hidden one, softmax with cross-entropy through ∂E/∂y and the softmax Jacobian before the shortcut y − t",
    )
    optimizer: OptimizerSpec | None = Field(
        None,
        description="explain one update step too: each new weight and bias (`update`), with the optimizer's state and "
        "hyperparameters in `parts` (Adam's m, v, m̂, v̂; SGD's momentum buffer …), and the loss after it (`loss_after`)",
    )
    optimizer_state: OptimizerState | None = Field(None, description="the state of the previous step (as /v1/train-step takes it)")
    quantities: list[StepQuantity] | None = Field(None, min_length=1, description="only the steps of these quantities (absent: all)")
    layers: list[Index] | None = Field(
        None, min_length=1, description="only the steps of these layers (0-based); loss, grad_x and loss_after have no layer and stay"
    )
    points: list[Index] | None = Field(
        None, min_length=1, description="only the per-point steps of these data points (0-based); reduced steps stay"
    )
    response_encoding: SkipJsonSchema[Literal["json"]] = "json"
    include: SkipJsonSchema[None] = None  # type: ignore[assignment]

    _refuse = field_validator("response_encoding", "include", mode="before")(refuse)

    def to_engine(self) -> ExplainInputs:
        """The loss's inputs, the filters (checked against the network and x), the optimizer; within ``max_explain_steps``."""
        inputs = super().to_engine()
        L, N = len(inputs.layers), int(inputs.x.shape[0])
        errors = _out_of_range("layers", self.layers, L, f"the network has {L} layers, 0 … {L - 1}")
        errors += _out_of_range("points", self.points, N, f"x has {N} data points, 0 … {N - 1}")
        if self.optimizer is None:
            needs = [
                (pointer("quantities", i), f"{q} needs an optimizer")
                for i, q in enumerate(self.quantities or [])
                if q in ("update", "loss_after")
            ]
            errors += needs + ([(pointer("optimizer_state"), "is read only with an optimizer")] if self.optimizer_state else [])
        if errors:
            raise invalid(errors)
        selection = Selection(
            None if self.layers is None else frozenset(self.layers),
            None if self.quantities is None else frozenset(self.quantities),
            None if self.points is None else frozenset(self.points),
        )
        sizes, biases, update = sizes_of(inputs.layers), [layer.b is not None for layer in inputs.layers], self.optimizer is not None
        check_explain_steps(
            count_steps(sizes, biases, N, selection, update), lambda limit: _remedies(sizes, biases, N, update, selection, limit)
        )
        optimizer = None if self.optimizer is None else self.optimizer.to_engine()
        state = None
        if optimizer is not None and self.optimizer_state is not None:
            state = self.optimizer_state.to_engine(optimizer, inputs.layers)
        return ExplainInputs(
            **extended(inputs),
            digits=self.digits,
            render=self.render,
            chain=self.chain,
            selection=selection,
            optimizer=optimizer,
            state=state,
        )


def _out_of_range(field: str, values: Sequence[int] | None, bound: int, what: str) -> list[tuple[str, str]]:
    return [(pointer(field, i), f"is {v} but {what}") for i, v in enumerate(values or []) if v >= bound]


def _remedies(sizes: list[int], biases: list[bool], N: int, update: bool, selection: Selection, limit: int) -> str:
    """Which single filters, added to the request's own, bring the step count within ``limit``: the largest first."""
    per = count_per_filter(sizes, biases, N, update, within=selection)
    fitting = sorted(((steps, key) for key, steps in per.items() if 0 < steps <= limit), reverse=True)
    if not fitting:
        return "No single filter brings it under: combine `quantities`, `layers` and `points`, or explain a smaller network."
    shown = []
    for steps, key in fitting[:6]:
        kind, value = key.split("=")
        shown.append(
            f'"{_FILTERS[kind]}": [{value if kind != "quantity" else chr(34) + value + chr(34)}] ({steps:,} step{"s" if steps > 1 else ""})'
        )
    return "Filters that bring it under: " + ", ".join(shown) + (f" and {len(fitting) - 6} more" if len(fitting) > 6 else "") + "."


class FactorOut(BaseModel):
    """One factor of the chain rule, ∂(of)/∂(wrt): `symbol = formula = substituted = value`."""

    of: str = Field(description="what is differentiated: `loss` (E), or `a/l/n/k`, `z/l/n/k` (0-based layer, point, neuron)")
    wrt: str = Field(description="by what: `a/l/n/k`, `z/l/n/k`, `x/n/m` (an input), `w/l/k/m` (a weight) or `b/l/k` (a bias)")
    symbol: str = Field(description="LaTeX, e.g. \\frac{\\partial E}{\\partial y_{1}}")
    formula: str = Field(description="LaTeX: the rule, e.g. y_{1} - t_{1}")
    substituted: str = Field(description="LaTeX: the rule with the numbers put in (a sum: each term, then each term's value)")
    value: float = Field(description="its value")
    terms: list[TermOut] | SkipJsonSchema[None] = Field(
        None, description="for a sum (a hidden neuron's ∂E/∂z, ∂E/∂x): each term, a product of two factors; absent otherwise"
    )


class TermOut(BaseModel):
    """One term of a factor that is a sum: the product of its factors."""

    value: float = Field(description="the product of the factors")
    factors: list[FactorOut] = Field(description="e.g. ∂E/∂a⁽ˡ⁺¹⁾ⱼ (= δ⁽ˡ⁺¹⁾ⱼ) and ∂a⁽ˡ⁺¹⁾ⱼ/∂z⁽ˡ⁾ₖ (= w⁽ˡ⁺¹⁾ⱼ,ₖ)")


class PartOut(BaseModel):
    """One quantity of an optimizer's update of a parameter: `symbol = formula = substituted = value`."""

    name: str = Field(
        description="torch.optim's state key for a slot (`exp_avg`, `exp_avg_sq`, `max_exp_avg_sq`, `momentum_buffer`, "
        "`square_avg`, `grad_avg`, `sum`: the value /v1/train-step returns in optimizer_state), or `grad` (the gradient used, "
        "after clipping and weight decay), `bias_corrected_exp_avg`, `bias_corrected_exp_avg_sq`, `decayed`, `denominator`, "
        "`step_size`"
    )
    symbol: str = Field(description="LaTeX, e.g. \\hat{m}_{t}")
    formula: str = Field(description="LaTeX: the rule with the hyperparameters' symbols")
    substituted: str = Field(description="LaTeX: with the numbers")
    value: float = Field(description="its value")


class StepOut(BaseModel):
    """One line of the derivation: `symbol = formula = substituted = value`."""

    id: str = Field(description="quantity/layer/point/index, 0-based, e.g. `delta/0/0/2` (δ₃⁽¹⁾ of point 0) or `grad_weights/1/0/2`")
    quantity: StepQuantity = Field(description="what the step computes")
    layer: int | SkipJsonSchema[None] = Field(None, description="0-based layer (absent for loss, grad_x, loss_after)")
    point: int | SkipJsonSchema[None] = Field(None, description="0-based data point (absent for a reduced step)")
    index: list[int] = Field(description="0-based neuron index [k], or [k, m] for a weight")
    symbol: str = Field(description="LaTeX, 1-based as in the primer, e.g. \\delta^{(1)}_{3}")
    formula: str = Field(description="LaTeX: the rule applied (the primer's equation)")
    substituted: str = Field(description="LaTeX: the rule with the numbers put in, at `digits` significant digits")
    value: float = Field(description="the full-precision value: what /v1/backward (or /v1/train-step) returns for this quantity")
    depends_on: list[str] = Field(description="ids of the earlier steps whose values `substituted` uses")
    derivative: str | SkipJsonSchema[None] = Field(
        None, description="for a δ step, the activation's derivative written out and evaluated (LaTeX); absent for other steps"
    )
    factors: list[FactorOut] | SkipJsonSchema[None] = Field(
        None, description="with chain factors: the chain rule's factors of a δ, ∂E/∂w, ∂E/∂b or ∂E/∂x step; absent otherwise"
    )
    parts: list[PartOut] | SkipJsonSchema[None] = Field(
        None, description="for an update step: the optimizer's quantities for this parameter, in order; absent otherwise"
    )


class ExplainResponse(BaseModel):
    """The derivation as data, and as one document."""

    convention: str = Field(description="how W is indexed")
    steps: list[StepOut] = Field(description="in the order the primer teaches; every `depends_on` id comes earlier")
    rendered: str | None = Field(description="the whole derivation in the requested `render` form; null for none")


def explain_body(steps: Sequence[Step], rendered: str | None) -> dict[str, Any]:
    """The explain response; a step whose value overflowed is refused (never NaN or Infinity in a response)."""
    bad = next((s for s in steps if not math.isfinite(s.value)), None)
    if bad is not None:
        where = pointer("network", "layers", bad.layer) if bad.layer is not None else pointer("loss")
        raise NonFiniteResult(f"step {bad.id} is not finite (overflow)", [(where, f"step {bad.id} is not finite (overflow); scale down")])
    lines = next((s for s in steps if not all(math.isfinite(v) for v in _line_values(s))), None)
    if lines is not None:
        field = "chain" if lines.factors else "optimizer"
        detail = f"a line of step {lines.id} is not finite (an output at 0 or 1 divides the loss's derivative)"
        raise NonFiniteResult(detail, [(pointer(field), f"{detail}; explain it with chain compact")])
    return {
        "convention": CONVENTION,
        "steps": [
            {
                "id": s.id,
                "quantity": s.quantity,
                **({"layer": s.layer} if s.layer is not None else {}),
                **({"point": s.point} if s.point is not None else {}),
                "index": list(s.index),
                "symbol": s.symbol,
                "formula": s.formula,
                "substituted": s.substituted,
                "value": s.value,
                "depends_on": list(s.depends_on),
                **({"derivative": s.derivative} if s.derivative is not None else {}),
                **({"factors": [_factor(f) for f in s.factors]} if s.factors else {}),
                **({"parts": [dataclasses.asdict(p) for p in s.parts]} if s.parts else {}),
            }
            for s in steps
        ],
        "rendered": rendered,
    }


def _factor(f: Factor) -> dict[str, Any]:
    out: dict[str, Any] = {
        "of": f.of,
        "wrt": f.wrt,
        "symbol": f.symbol,
        "formula": f.formula,
        "substituted": f.substituted,
        "value": f.value,
    }
    if f.terms:
        out["terms"] = [{"value": t.value, "factors": [_factor(g) for g in t.factors]} for t in f.terms]
    return out


def _line_values(step: Step) -> Iterator[float]:
    """Every number of a step's factor and optimizer lines."""
    for f in step.factors:
        yield f.value
        for t in f.terms:
            yield t.value
            yield from (g.value for g in t.factors)
    yield from (p.value for p in step.parts)
