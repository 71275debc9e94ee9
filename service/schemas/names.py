"""Every enumeration on the wire, each one named type: one OpenAPI component per enum, shared by every field that uses it.

A ``TypeAliasType`` validates exactly as the ``Literal`` it names (a string, one of the
values) and makes pydantic's JSON Schema a ``$ref`` to one definition of that name, so a
generated client has one ``Dtype`` (not one per request) and one ``ActivationName``
(not one per place a layer appears). The names of activations, losses, initializers and
optimizer slots come from the engine's registries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field
from typing_extensions import TypeAliasType

from service.engine.activations import activation_names
from service.engine.explain import CHAINS, QUANTITIES
from service.engine.initializers import BIAS_INITIALIZERS, initializer_names
from service.engine.losses import loss_names
from service.engine.optimizers import slot_names

if TYPE_CHECKING:
    ActivationName = str
    LossName = str
    InitializerName = str
    BiasInitializerName = str
    SlotName = str
    Dtype = Literal["float64", "float32"]
    ResponseEncoding = Literal["json", "base64"]
    Reduction = Literal["sum", "mean", "none"]
    StepReduction = Literal["sum", "mean"]
    ForwardQuantity = Literal["a", "z"]
    BackwardQuantity = Literal["a", "z", "delta", "grad_weights", "grad_bias"]
    StepQuantity = str
    Render = Literal["markdown", "latex", "text", "mathml", "none"]
    Chain = Literal["compact", "factors"]
    DiagramShown = Literal["a", "z", "weights", "delta", "grad_weights"]
    HighlightQuantity = Literal["a", "z", "delta", "grad_weights", "grad_bias", "grad_x", "loss"]
    JobState = Literal["queued", "running", "succeeded", "failed", "cancelled"]
else:

    def _enum(name: str, values: tuple[str, ...], description: str) -> TypeAliasType:
        return TypeAliasType(name, Annotated[Literal[values], Field(description=description)])

    ActivationName = _enum(
        "ActivationName",
        tuple(activation_names()),
        "An activation h by name (aliases included); GET /v1/activations describes each and its parameters.",
    )
    LossName = _enum(
        "LossName", tuple(loss_names()), "A loss E by name (aliases included); GET /v1/losses describes each and its parameters."
    )
    InitializerName = _enum(
        "InitializerName", tuple(initializer_names()), "How W is drawn by /v1/networks/init; GET /v1/initializers describes each."
    )
    BiasInitializerName = _enum(
        "BiasInitializerName", BIAS_INITIALIZERS, "How b is drawn: zeros (Keras's default) or torch_default, U(±1/√fan_in) (nn.Linear's)."
    )
    SlotName = _enum(
        "SlotName",
        slot_names(),
        "A slot of an optimizer's state: torch.optim's state key (which optimizer carries which: GET /v1/optimizers).",
    )
    Dtype = _enum(
        "Dtype",
        ("float64", "float32"),
        "A floating-point type: float64 (exact teaching numbers) or float32 (Keras's and PyTorch's default).",
    )
    ResponseEncoding = _enum(
        "ResponseEncoding",
        ("json", "base64"),
        "How the response's arrays are sent: json, as JSON arrays; base64, each as a binary tensor {dtype, shape, b64}.",
    )
    Reduction = _enum(
        "Reduction",
        ("sum", "mean", "none"),
        "How the loss is reduced over the batch: sum (Bishop, the primer), mean (Keras/PyTorch) or none (one loss per point).",
    )
    StepReduction = _enum(
        "StepReduction",
        ("sum", "mean"),
        "How a training step reduces the loss over the batch: sum (Bishop, the primer) or mean (Keras/PyTorch).",
    )
    ForwardQuantity = _enum(
        "ForwardQuantity", ("a", "z"), "A per-layer quantity of the forward pass: a (pre-activation) or z (activation)."
    )
    BackwardQuantity = _enum(
        "BackwardQuantity",
        ("a", "z", "delta", "grad_weights", "grad_bias"),
        "A per-layer quantity of backpropagation: a, z, delta (δ = ∂E/∂a), grad_weights (∂E/∂W) or grad_bias (∂E/∂b).",
    )
    StepQuantity = _enum(
        "StepQuantity",
        tuple(QUANTITIES),
        "What a step of the derivation computes: a, z, the loss, delta (δ), grad_weights, grad_bias, grad_x, "
        "and with an optimizer each new weight or bias (update) and the loss after the step (loss_after).",
    )
    Render = _enum(
        "Render",
        ("markdown", "latex", "text", "mathml", "none"),
        "How /v1/explain renders the whole derivation: Markdown with $…$ math, a LaTeX align* body, plain text in the primer's "
        "style, an HTML fragment of MathML, or none.",
    )
    Chain = _enum(
        "Chain",
        CHAINS,
        "How /v1/explain writes δ and the gradients: compact, as the primer does, or factors, the chain rule written out "
        "(∂E/∂y · ∂y/∂a · ∂a/∂w, a hidden layer's sum term by term, softmax through its Jacobian), each factor with its value.",
    )
    DiagramShown = _enum(
        "DiagramShown",
        ("a", "z", "weights", "delta", "grad_weights"),
        "What a diagram writes: a, z or delta in the neurons, weights or grad_weights (∂E/∂w) on the edges.",
    )
    HighlightQuantity = _enum(
        "HighlightQuantity",
        ("a", "z", "delta", "grad_weights", "grad_bias", "grad_x", "loss"),
        "The quantity of the derivation step a diagram highlights (as /v1/explain names it).",
    )
    JobState = _enum(
        "JobState",
        ("queued", "running", "succeeded", "failed", "cancelled"),
        "Where a training job is: queued, running, succeeded, failed (see its problem) or cancelled.",
    )

#: The enums above, for the OpenAPI components (an enum no field references still gets its component).
ENUMS: tuple[Any, ...] = (
    ActivationName,
    LossName,
    InitializerName,
    BiasInitializerName,
    SlotName,
    Dtype,
    ResponseEncoding,
    Reduction,
    StepReduction,
    ForwardQuantity,
    BackwardQuantity,
    StepQuantity,
    Render,
    Chain,
    DiagramShown,
    HighlightQuantity,
    JobState,
)
