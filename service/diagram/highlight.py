"""Which neurons and edges a step depends on, from the explain step graph.

A step's own element and those of its ``depends_on`` steps stand out: a, z, δ
steps are neurons, ∂E/∂w steps edges, ∂E/∂b steps bias edges, ∂E/∂x steps inputs.
The weights a step's substitution reads (w⁽ˡ⁾ₖ,ₘ and b⁽ˡ⁾ₖ in a⁽ˡ⁾ₖ, and so in z⁽ˡ⁾ₖ,
w⁽ˡ⁺¹⁾ₖ,ₘ in δ⁽ˡ⁾ₘ) are edges without steps of their own, so they are added from the
step's kind: a neuron's a and z light up the edges into it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from service.engine.arrays import Array
from service.engine.errors import EngineError
from service.engine.explain import Selection, Step, count_steps, explain, sizes_of, step_id
from service.engine.losses import Loss, get_loss
from service.engine.network import Layer

#: the quantities each quantity's dependencies are among
NEEDS = {
    "a": ("a", "z"),
    "z": ("a", "z"),
    "delta": ("a", "z", "delta"),
    "grad_weights": ("grad_weights", "delta", "z"),
    "grad_bias": ("grad_bias", "delta"),
    "grad_x": ("grad_x", "delta"),
    "loss": ("loss", "z"),
}
MAX_STEPS = 20_000  # a highlight that would need more steps than this is not drawn (large layers)

Target = str | tuple[str, int | None, tuple[int, ...]]


class HighlightError(EngineError):
    """The highlight names no step of this network, or one too large to trace."""

    field = "highlight"


def target_id(target: Target, point: int) -> str:
    """A step id from an id or (quantity, layer, index); per-point quantities take ``point``."""
    if isinstance(target, str):
        return target
    quantity, layer, index = target
    per_point = quantity in ("a", "z", "delta", "grad_x")
    return step_id(quantity, layer, point if per_point else None, tuple(index))


def element(sid: str) -> list[str]:
    """The diagram elements that show step ``sid``."""
    parts = sid.split("/")
    q, rest = parts[0], [int(p) for p in parts[1:] if p.lstrip("-").isdigit()]
    if q in ("a", "z", "delta"):
        return [f"n-{rest[0]}-{rest[2]}"]
    if q == "grad_weights":
        return [f"e-{rest[0]}-{rest[-2]}-{rest[-1]}"]
    if q == "grad_bias":
        return [f"b-{rest[0]}-{rest[1]}"]
    if q == "grad_x":
        return [f"x-{rest[1]}"]
    return []


def highlighted(
    layers: Sequence[Layer], x: Array, t: Array | None, loss: Loss | None, reduction: str, point: int, target: Target
) -> set[str]:
    """Element ids of the step ``target`` and of the steps it depends on."""
    sid = target_id(target, point)
    quantity = sid.split("/")[0]
    if quantity not in NEEDS:
        raise HighlightError(f"cannot highlight {sid!r}: only a, z, delta, grad_weights, grad_bias, grad_x and loss steps")
    if quantity not in ("a", "z") and (t is None or loss is None):
        raise HighlightError(f"highlighting {sid!r} needs t and a loss")
    parts = sid.split("/")
    layer = int(parts[1]) if quantity not in ("grad_x", "loss") else 0
    sizes = sizes_of(layers)
    selection = Selection(layers=[layer - 1, layer, layer + 1], points=[point], quantities=NEEDS[quantity])
    if count_steps(sizes, [ly.b is not None for ly in layers], x.shape[0], selection) > MAX_STEPS:
        raise HighlightError(f"the layers around {sid!r} are too large to trace; highlight a step of a smaller network")
    steps = _steps(layers, x, t, loss, reduction, selection)
    found = next((s for s in steps if s.id == sid), None)
    if found is None:
        raise HighlightError(f"no step {sid!r} in this network")
    out = set(element(sid))
    for dep in found.depends_on:
        out.update(element(dep))
    idx = [int(p) for p in parts[1:] if p.isdigit()]
    K_next = layers[layer + 1].W.shape[0] if layer + 1 < len(layers) else 0
    if quantity in ("a", "z"):
        out.update(f"e-{layer}-{idx[2]}-{m}" for m in range(layers[layer].W.shape[1]))
        out.update([f"b-{layer}-{idx[2]}"] if layers[layer].b is not None else [])
        if layer == 0:
            out.update(f"x-{m}" for m in range(layers[0].W.shape[1]))
    elif quantity == "delta" and layer + 1 < len(layers):
        out.update(f"e-{layer + 1}-{k}-{idx[2]}" for k in range(K_next))
    elif quantity == "grad_weights" and layer == 0:
        out.add(f"x-{idx[-1]}")
    elif quantity == "grad_x":
        out.update(f"e-0-{k}-{idx[1]}" for k in range(layers[0].W.shape[0]))
    elif quantity == "loss":
        out.update(f"n-{len(layers) - 1}-{k}" for k in range(layers[-1].W.shape[0]))
    return out


def _steps(layers: Sequence[Layer], x: Array, t: Array | None, loss: Loss | None, reduction: str, selection: Selection) -> list[Step]:
    """The steps in ``selection``; without t and a loss, only the forward ones (a, z read neither)."""
    if t is None or loss is None:
        t = np.zeros((x.shape[0], layers[-1].W.shape[0]), dtype=x.dtype)
        loss = get_loss("half_sse")
        selection = Selection(selection.layers, [q for q in selection.quantities or () if q in ("a", "z")], selection.points)
    return explain(layers, x, t, loss, reduction, selection=selection)
