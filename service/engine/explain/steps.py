"""A step of the derivation, the selection that filters steps, and the step id scheme.

Step ids
--------
An id is the quantity, then its layer (if it has one), then its data point (if it
has one), then its index, all 0-based and joined by ``/``:

    a/0/0/2               a⁽¹⁾₃ of point 0            (quantity/layer/point/k)
    z/1/2/0               z⁽²⁾₁ of point 2
    loss/1                E₁, the loss of point 1     (only for a batch, N > 1)
    loss                  E, the reduced loss
    delta/0/0/2           δ⁽¹⁾₃ of point 0
    grad_weights/1/0/2    ∂E/∂w⁽²⁾₁,₃ (reduced over the batch: no point)
    grad_weights/1/2/0/2  point 2's term of it         (only for a batch, N > 1)
    grad_bias/1/0         ∂E/∂b⁽²⁾₁ (reduced; its per-point terms are the δ steps)
    grad_x/0/1            ∂E/∂x₂ of point 0            (no layer)
    update/1/W/0/2        the new w⁽²⁾₁,₃ after one optimizer step
    update/1/b/0          the new b⁽²⁾₁
    loss_after            E at the updated parameters

Each quantity has a fixed number of index entries (grad_weights and a W update
two, loss none, the others one), so an id parses unambiguously from the left.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

QUANTITIES = ("a", "z", "loss", "delta", "grad_weights", "grad_bias", "grad_x", "update", "loss_after")


@dataclass(frozen=True)
class Factor:
    """One factor of the chain rule, ∂(of)/∂(wrt), as a line: ``symbol = formula = substituted = value``.

    ``of`` and ``wrt`` name the quantities (0-based, as step ids do): ``loss`` (E), ``a/l/n/k``,
    ``z/l/n/k``, ``x/n/m``, ``w/l/k/m``, ``b/l/k``; so ∂E/∂y₁ of point 0 in a 2-layer network is
    of ``loss``, wrt ``z/1/0/0``. A factor that is a sum over the layer above (∂E/∂z of a hidden
    neuron) or over a softmax's outputs lists its ``terms``, each a product of two factors.
    """

    of: str
    wrt: str
    symbol: str
    formula: str
    substituted: str
    value: float
    terms: tuple[Term, ...] = ()


@dataclass(frozen=True)
class Term:
    """One term of a sum in a factor: the product of its ``factors`` (each with its value), and that product."""

    value: float
    factors: tuple[Factor, ...]


@dataclass(frozen=True)
class Part:
    """One quantity of an optimizer's update of one parameter: ``symbol = formula = substituted = value``.

    ``name`` is torch.optim's state key for a state slot (``exp_avg``, ``momentum_buffer`` …), else what
    the quantity is: ``grad`` (the gradient the optimizer uses, after clipping and weight decay),
    ``bias_corrected_exp_avg`` / ``bias_corrected_exp_avg_sq`` (m̂, v̂), ``decayed`` (AdamW's θ(1 − ηλ)),
    ``step_size`` (Adagrad's η_t), ``denominator``.
    """

    name: str
    symbol: str
    formula: str
    substituted: str
    value: float


@dataclass(frozen=True)
class Step:
    """One line of the derivation: ``symbol = formula = substituted = value``.

    ``layer``, ``point`` and ``index`` are 0-based (None where the quantity has
    none); ``symbol``, ``formula`` and ``substituted`` are LaTeX in the primer's
    1-based notation. ``value`` is the engine's own number for this quantity, in
    full precision. ``depends_on`` holds the ids of the listed steps whose values
    ``substituted`` uses (each comes earlier in the list). ``derivative`` is, for a
    δ step, the activation's derivative written out and evaluated
    (``\\tanh'(1.7) = 1 - \\tanh^{2}(1.7) = 0.1250``), else None. ``factors`` are the chain
    rule's factors of a δ, ∂E/∂w, ∂E/∂b or ∂E/∂x step, when asked for (explain's ``chain``
    "factors"); ``parts`` the optimizer's quantities of an update step (its state, m̂, v̂ …).
    """

    id: str
    quantity: str
    layer: int | None
    point: int | None
    index: tuple[int, ...]
    symbol: str
    formula: str
    substituted: str
    value: float
    depends_on: tuple[str, ...]
    derivative: str | None = None
    factors: tuple[Factor, ...] = ()
    parts: tuple[Part, ...] = ()


def step_id(quantity: str, layer: int | None, point: int | None, index: tuple[int, ...], kind: str | None = None) -> str:
    """The id of a step (see the module docstring); ``kind`` is "W" or "b" for an update."""
    parts: list[object] = [quantity]
    if layer is not None:
        parts.append(layer)
    if kind is not None:
        parts.append(kind)
    if point is not None:
        parts.append(point)
    parts.extend(index)
    return "/".join(str(p) for p in parts)


@dataclass(frozen=True)
class Selection:
    """Which steps to produce; None selects everything along that axis.

    ``layers`` filters steps that have a layer (loss, grad_x and loss_after have
    none and always pass); ``points`` filters steps that belong to one data point
    (reduced steps, point None, always pass); ``quantities`` filters by quantity.
    """

    layers: Collection[int] | None = None
    quantities: Collection[str] | None = None
    points: Collection[int] | None = None

    def wants(self, quantity: str, layer: int | None, point: int | None) -> bool:
        return (
            (self.quantities is None or quantity in self.quantities)
            and (self.layers is None or layer is None or layer in self.layers)
            and (self.points is None or point is None or point in self.points)
        )


EVERYTHING = Selection()
