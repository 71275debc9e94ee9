"""Stateless optimizers, as torch.optim computes them: parameters, gradients and state in; new ones out.

Each optimizer lives in its own module with its update equations and its registry
entry (hyperparameters with defaults and ranges, formula, how Keras differs); this
module is the registry. Every optimizer also takes the gradient-clipping options of
:mod:`.clipping`. See :mod:`.base` for the interface (flat parameter list, named
state slots, step count).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from service.engine.catalog import CatalogEntry
from service.engine.optimizers import adagrad, adam, clipping, rmsprop, sgd
from service.engine.optimizers.base import Optimizer, OptimizerState
from service.engine.registry import Entry, Registry


def _with_clipping(entry: Entry[Optimizer]) -> Entry[Optimizer]:
    """``entry`` that also takes clip_norm and clip_value and applies them before its update."""

    def build(*, clip_norm: float | None, clip_value: float | None, **hyperparameters: Any) -> Optimizer:
        clipped = clipping.with_clipping(entry.build(**hyperparameters), clip_norm, clip_value)
        return replace(clipped, hyperparameters={**hyperparameters, "clip_norm": clip_norm, "clip_value": clip_value})

    specs = entry.specs + clipping.SPECS
    described = replace(entry.describe, parameters=tuple(s.parameter() for s in specs))
    return Entry(build, described, specs, entry.title)


OPTIMIZERS: Registry[Optimizer] = Registry(
    "optimizer", [_with_clipping(e) for e in (sgd.ENTRY, adam.ADAM, adam.ADAMW, rmsprop.ENTRY, adagrad.ENTRY)]
)


def optimizer_names() -> list[str]:
    """The names :func:`get_optimizer` accepts."""
    return OPTIMIZERS.names()


#: Every slot an optimizer's state may carry (torch.optim's state keys), in the order of the optimizers above.
SLOT_NAMES = ("momentum_buffer", "exp_avg", "exp_avg_sq", "max_exp_avg_sq", "square_avg", "grad_avg", "sum")


def slot_names() -> tuple[str, ...]:
    """The names of every slot any optimizer's state may carry (which one carries which depends on its hyperparameters)."""
    return SLOT_NAMES


def get_optimizer(name: str, **hyperparameters: Any) -> Optimizer:
    """The optimizer called ``name`` with its hyperparameters (``learning_rate`` …, torch.optim's other names), clipping included.

    Raises UnknownNameError, ParameterError (naming the hyperparameter) or EngineError (a combination torch refuses).
    """
    return OPTIMIZERS.get(name, hyperparameters)


def catalog() -> list[CatalogEntry]:
    """Every optimizer: its hyperparameters (the clipping options included), formula and Keras difference."""
    return OPTIMIZERS.catalog()


__all__ = ["OPTIMIZERS", "SLOT_NAMES", "Optimizer", "OptimizerState", "catalog", "get_optimizer", "optimizer_names", "slot_names"]
