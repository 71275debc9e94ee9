"""The interface every optimizer implements: parameters, gradients and state in; new ones out.

Parameters are a flat list of arrays θᵢ (W⁽¹⁾, b⁽¹⁾, W⁽²⁾, … in layer order) with
gradients gᵢ of the same shapes. The state holds the step count t and, for each
named slot (e.g. ``momentum_buffer``), one array per parameter. Nothing is kept
between calls: the caller sends the state back on the next step, as optax does.

A slot that torch.optim creates lazily is simply absent before the first step
(``OptimizerState()``); the update then starts it as torch does (zeros, or g₁
for SGD's momentum buffer). Updates never modify the arrays they are given.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from service.engine.arrays import Array


@dataclass(frozen=True)
class OptimizerState:
    """``step`` updates taken so far; ``slots[name][i]`` is that slot's array for θᵢ."""

    step: int = 0
    slots: dict[str, list[Array]] = field(default_factory=dict)


Update = Callable[[list[Array], list[Array], OptimizerState], tuple[list[Array], OptimizerState]]


@dataclass(frozen=True)
class Optimizer:
    """An optimizer: its name, the slots its state carries after a step, its update, and the hyperparameters it was built with."""

    name: str
    slots: tuple[str, ...]
    update: Update
    hyperparameters: Mapping[str, Any] = field(default_factory=dict)


def slot(state: OptimizerState, name: str, params: list[Array], initial: Callable[[Array], Array]) -> list[Array]:
    """The slot's arrays, or ``initial(θᵢ)`` for every parameter before the slot exists."""
    arrays = state.slots.get(name)
    return arrays if arrays is not None else [initial(theta) for theta in params]


def lerp(start: Array, end: Array, weight: float) -> Array:
    """start + w (end − start), evaluated as torch.lerp does on the CPU (from the nearer end)."""
    if weight < 0.5:
        return start + weight * (end - start)
    return end - (end - start) * (1.0 - weight)
