"""Stateless optimizers: parameters, gradients and state in; new parameters and state out.

Parameters are a flat list of arrays θᵢ (W⁽¹⁾, b⁽¹⁾, W⁽²⁾, … in layer order) with
gradients gᵢ of the same shapes. The state holds the step count and, for each
named slot (e.g. ``momentum_buffer``), one array per parameter. Nothing is kept
between calls: the caller sends the state back on the next step, as optax does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from service.engine.catalog import CatalogEntry, Parameter
from service.engine.errors import EngineError, UnknownNameError

Array = NDArray[np.floating[Any]]


@dataclass(frozen=True)
class OptimizerState:
    """``step`` updates taken so far; ``slots[name][i]`` is that slot's array for θᵢ."""

    step: int = 0
    slots: dict[str, list[Array]] = field(default_factory=dict)


Update = Callable[[list[Array], list[Array], OptimizerState], tuple[list[Array], OptimizerState]]


@dataclass(frozen=True)
class Optimizer:
    """An optimizer: its name, the slot names its state carries, and its update."""

    name: str
    slots: tuple[str, ...]
    update: Update


def _sgd(learning_rate: float) -> Optimizer:
    """Plain gradient descent: θᵢ ← θᵢ − η gᵢ."""

    def update(params: list[Array], grads: list[Array], state: OptimizerState) -> tuple[list[Array], OptimizerState]:
        new = [theta - learning_rate * g for theta, g in zip(params, grads, strict=True)]
        return new, OptimizerState(state.step + 1, {})

    return Optimizer("sgd", (), update)


_BUILDERS: dict[str, Callable[..., Optimizer]] = {"sgd": _sgd}


def optimizer_names() -> list[str]:
    """The names :func:`get_optimizer` accepts."""
    return sorted(_BUILDERS)


def get_optimizer(name: str, **hyperparameters: Any) -> Optimizer:
    """The optimizer called ``name`` with its hyperparameters (``learning_rate`` …)."""
    builder = _BUILDERS.get(name)
    if builder is None:
        raise UnknownNameError("optimizer", name, optimizer_names())
    try:
        return builder(**hyperparameters)
    except TypeError as exc:
        raise EngineError(f"optimizer {name!r}: {exc}") from exc


def catalog() -> list[CatalogEntry]:
    """Every optimizer, its hyperparameters with defaults and ranges, its update rule, and how Keras differs."""
    return [
        CatalogEntry(
            "sgd",
            "θᵢ ← θᵢ − η gᵢ",
            (Parameter("learning_rate", 0.01, "> 0", "η, the step size (torch.optim's `lr`)"),),
            keras_difference="Keras's SGD default learning rate is also 0.01.",
        )
    ]
