"""/v1/diagram on the wire: the network (t optional), what to show, digits, a highlight; Figure 6 as SVG out.

The SVG's size is estimated from the layer sizes (:func:`service.diagram.estimate_bytes`)
and checked against ``max_diagram_bytes`` before anything is drawn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator
from pydantic.json_schema import SkipJsonSchema

from service.config import get_settings
from service.diagram import estimate_bytes
from service.diagram.highlight import Target
from service.engine import Loss
from service.engine.arrays import Array
from service.errors import invalid, pointer
from service.limits import check_diagram_bytes
from service.schemas.base import WireModel
from service.schemas.examples import BACKWARD_EXAMPLE, FORWARD_EXAMPLE
from service.schemas.explain import Index, refuse
from service.schemas.loss import to_engine_loss
from service.schemas.names import DiagramShown, HighlightQuantity, StepReduction
from service.schemas.requests import ForwardInputs, ForwardRequest, LossRequest
from service.schemas.tensor import Points

NEURON_VALUES, EDGE_VALUES, NEEDS_T = ("a", "z", "delta"), ("weights", "grad_weights"), ("delta", "grad_weights")
MIN_WIDTH, MAX_WIDTH = 200, 4000  # px a drawing may be laid out for

DIAGRAM_EXAMPLE: dict[str, Any] = {**BACKWARD_EXAMPLE, "show": ["z", "weights", "delta"], "digits": 2}
DIAGRAM_EXAMPLES: dict[str, dict[str, Any]] = {
    "primer": {"summary": "Figure 6 of the primer: z in the neurons, δ below them, the weights on the edges", "value": DIAGRAM_EXAMPLE},
    "highlight": {
        "summary": "The gradients ∂E/∂w on the edges, δ₃⁽¹⁾ and what it depends on highlighted",
        "value": {**BACKWARD_EXAMPLE, "show": ["delta", "grad_weights"], "highlight": {"quantity": "delta", "layer": 0, "index": 2}},
    },
    "forward": {
        "summary": "No t: the forward pass only (a and z in the neurons)",
        "value": {**FORWARD_EXAMPLE, "show": ["z", "a", "weights"]},
    },
}


class HighlightIn(WireModel):
    """A step of the derivation, named as /v1/explain names it (0-based): it and the steps it depends on stand out."""

    quantity: HighlightQuantity = Field(description="the step's quantity, as /v1/explain names it")
    layer: Index | None = Field(None, description="0-based layer; absent for grad_x and loss")
    index: list[Index] | Index = Field(
        default_factory=list, description="the neuron k (an integer or [k]), [k, m] for grad_weights, [m] for grad_x, [] for loss"
    )

    def to_target(self, shapes: list[tuple[int, int]], has_t: bool) -> Target:
        """(quantity, layer, index), checked against the network's shapes (K, M per layer); 422 at /highlight/… otherwise."""
        q, index = self.quantity, [self.index] if isinstance(self.index, int) else list(self.index)
        if q not in ("a", "z") and not has_t:
            raise invalid([(pointer("highlight", "quantity"), f"{q} needs t (send t, or highlight an a or z step)")])
        layered = q not in ("grad_x", "loss")
        if layered != (self.layer is not None):
            raise invalid([(pointer("highlight", "layer"), f"{q} {'needs' if layered else 'has no'} layer")])
        if self.layer is not None and self.layer >= len(shapes):
            raise invalid(
                [(pointer("highlight", "layer"), f"is {self.layer} but the network has {len(shapes)} layers, 0 … {len(shapes) - 1}")]
            )
        K, M = shapes[self.layer] if self.layer is not None else (shapes[-1][0], shapes[0][1])
        bounds = {"grad_weights": [K, M], "grad_x": [M], "loss": []}.get(q, [K])
        if len(index) != len(bounds):
            raise invalid([(pointer("highlight", "index"), f"{q} has {len(bounds)} index entries, not {len(index)}")])
        bad = [
            (pointer("highlight", "index", i), f"is {v} but must be below {b}")
            for i, (v, b) in enumerate(zip(index, bounds, strict=True))
            if v >= b
        ]
        if bad:
            raise invalid(bad)
        return q, self.layer, tuple(index)


@dataclass(frozen=True)
class DiagramInputs(ForwardInputs):
    """:func:`service.diagram.draw`'s arguments."""

    t: Array | None
    loss: Loss | None
    reduction: str
    point: int
    values: tuple[str, ...]
    edges: tuple[str, ...]
    digits: int
    highlight: Target | None
    width: float | None
    max_bytes: int


class DiagramRequest(LossRequest):
    """A network and its input (and, for δ and ∂E/∂w, the target and loss), and what to draw."""

    model_config = ConfigDict(json_schema_extra={"examples": [DIAGRAM_EXAMPLE]})

    t: Points | None = Field(  # type: ignore[assignment]
        None, description="target, in the form of x; absent: the forward pass only (no δ, no ∂E/∂w)"
    )
    reduction: StepReduction = Field("sum", description="over the batch: sum (Bishop, the primer) or mean (Keras/PyTorch)")
    show: list[DiagramShown] | None = Field(
        None,
        min_length=1,
        description="what to write: a, z, delta in the neurons (the first inside, the others below), weights, grad_weights on the "
        "edges (the first on the edge, setting width and colour; both in its tooltip). Absent: z and weights, and delta with t",
    )
    digits: int = Field(2, ge=1, le=17, description="significant digits of the numbers drawn (2, as Figure 6)")
    point: Index = Field(0, description="the data point of x drawn (0-based), for a batch")
    highlight: HighlightIn | None = Field(None, description="a step whose neurons and edges, and those of the steps it uses, stand out")
    width: float | None = Field(
        None,
        ge=MIN_WIDTH,
        le=MAX_WIDTH,
        description="lay the drawing out for this many px (columns closer, the legend wrapped), so that shown at this width its "
        "text is 11–13 CSS px, on a phone too; absent: 230 px between columns",
    )
    response_encoding: SkipJsonSchema[Literal["json"]] = "json"
    include: SkipJsonSchema[None] = None  # type: ignore[assignment]

    _refuse = field_validator("response_encoding", "include", mode="before")(refuse)

    def to_engine(self) -> DiagramInputs:  # type: ignore[override]
        """The forward inputs, t and the loss when t is sent, what to show; the SVG's estimated size within ``max_diagram_bytes``."""
        inputs = ForwardRequest.to_engine(self)
        default: list[str] = ["z", "weights", "delta"] if self.t is not None else ["z", "weights"]
        show: list[str] = list(self.show) if self.show else default
        if self.t is None:
            missing = [(pointer("show", i), f"{name} needs t") for i, name in enumerate(show) if name in NEEDS_T]
            if missing:
                raise invalid(missing)
        N = int(inputs.x.shape[0])
        if self.point >= N:
            raise invalid([(pointer("point"), f"is {self.point} but x has {N} data points, 0 … {N - 1}")])
        values = tuple(dict.fromkeys(v for v in show if v in NEURON_VALUES))
        edges = tuple(dict.fromkeys(v for v in show if v in EDGE_VALUES))
        sizes = [self.network.input_size, *(layer.weights.shape[0] for layer in self.network.layers)]
        check_diagram_bytes(estimate_bytes(sizes, max(1, len(values)), max(1, len(edges))))
        loss = t = None
        if self.t is not None:
            loss = to_engine_loss(self.loss)
            t = self._targets(inputs, loss)
        shapes = [(int(layer.W.shape[0]), int(layer.W.shape[1])) for layer in inputs.layers]
        target = None if self.highlight is None else self.highlight.to_target(shapes, self.t is not None)
        return DiagramInputs(
            inputs.layers,
            inputs.x,
            inputs.batched,
            t=t,
            loss=loss,
            reduction=self.reduction,
            point=self.point,
            values=values,
            edges=edges,
            digits=self.digits,
            highlight=target,
            width=self.width,
            max_bytes=get_settings().max_diagram_bytes,
        )
