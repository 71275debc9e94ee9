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
class Step:
    """One line of the derivation: ``symbol = formula = substituted = value``.

    ``layer``, ``point`` and ``index`` are 0-based (None where the quantity has
    none); ``symbol``, ``formula`` and ``substituted`` are LaTeX in the primer's
    1-based notation. ``value`` is the engine's own number for this quantity, in
    full precision. ``depends_on`` holds the ids of the listed steps whose values
    ``substituted`` uses (each comes earlier in the list). ``derivative`` is, for a
    δ step, the activation's derivative written out and evaluated
    (``\\tanh'(1.7) = 1 - \\tanh^{2}(1.7) = 0.1250``), else None.
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
