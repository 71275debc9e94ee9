"""Stateless optimizers, as torch.optim computes them: parameters, gradients and state in; new ones out.

Each optimizer lives in its own module with its update equations and its
catalog entry; this module is the registry. See :mod:`.base` for the
interface (flat parameter list, named state slots, step count).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from service.engine import clipping
from service.engine.catalog import CatalogEntry
from service.engine.errors import EngineError, UnknownNameError
from service.engine.optimizers import adagrad, adam, rmsprop, sgd
from service.engine.optimizers.base import Array, Optimizer, OptimizerState

_BUILDERS: dict[str, Callable[..., Optimizer]] = {
    "sgd": sgd.sgd,
    "adam": adam.adam,
    "adamw": adam.adamw,
    "rmsprop": rmsprop.rmsprop,
    "adagrad": adagrad.adagrad,
}


def optimizer_names() -> list[str]:
    """The names :func:`get_optimizer` accepts."""
    return sorted(_BUILDERS)


def get_optimizer(name: str, **hyperparameters: Any) -> Optimizer:
    """The optimizer called ``name`` with its hyperparameters (``learning_rate`` …, torch.optim's other names)."""
    builder = _BUILDERS.get(name)
    if builder is None:
        raise UnknownNameError("optimizer", name, optimizer_names())
    try:
        return builder(**hyperparameters)
    except TypeError as exc:
        raise EngineError(f"optimizer {name!r}: {exc}") from exc


def catalog() -> list[CatalogEntry]:
    """Every optimizer: its hyperparameters (plus the clipping options all accept), formula and Keras difference."""
    entries = [sgd.CATALOG, *adam.CATALOG, rmsprop.CATALOG, adagrad.CATALOG]
    return sorted((replace(e, parameters=e.parameters + clipping.PARAMETERS) for e in entries), key=lambda e: e.name)


__all__ = ["Array", "Optimizer", "OptimizerState", "catalog", "get_optimizer", "optimizer_names"]
