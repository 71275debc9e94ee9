"""Loss functions E, each with its gradient beside it, their registry and the batch reduction.

A loss gives the per-point error Eₙ(y, t) for a batch (y, t: N × K → N) and its
gradient ∂Eₙ/∂y (N × K). The batch loss is the reduction over points:

    sum  (default, Bishop):  E = Σₙ Eₙ          ∂E/∂y = ∂Eₙ/∂y
    mean:                    E = (1/N) Σₙ Eₙ    ∂E/∂y = ∂Eₙ/∂y / N
    none:                    E = (Eₙ)ₙ           gradients are those of Σₙ Eₙ
                                                 (PyTorch's ``loss.backward(ones)``)

A loss may also fuse with the output activation: ``fused[h]`` computes Eₙ and
δ⁽ᴸ⁾ = ∂Eₙ/∂a⁽ᴸ⁾ straight from a⁽ᴸ⁾, only where that gives the same numbers as
the two-step chain up to rounding (softmax + cross-entropy: δ = y Σt − t).
The losses live in losses_regression.py and losses_classification.py.
"""

from __future__ import annotations

from typing import Any

from service.engine.activation_base import Activation
from service.engine.arrays import Array
from service.engine.catalog import CatalogEntry
from service.engine.errors import EngineError
from service.engine.loss_base import Loss, mean_last
from service.engine.losses_classification import ENTRIES as CLASSIFICATION
from service.engine.losses_regression import ENTRIES as REGRESSION
from service.engine.registry import Registry

__all__ = ["REDUCTIONS", "Loss", "catalog", "get_loss", "loss_names", "per_point_loss", "reduce"]

REDUCTIONS = ("sum", "mean", "none")

_REGISTRY = Registry[Loss]("loss", [*REGRESSION, *CLASSIFICATION])


def loss_names() -> list[str]:
    """The names :func:`get_loss` accepts (aliases included)."""
    return _REGISTRY.names()


def get_loss(name: str, **params: Any) -> Loss:
    """The loss called ``name``, built with its parameters (PyTorch's defaults for the rest)."""
    return _REGISTRY.get(name, params)


def catalog() -> list[CatalogEntry]:
    """Every loss: parameters with defaults and ranges, formula, and how Keras differs."""
    return _REGISTRY.catalog()


def per_point_loss(loss: Loss, h: Activation, a_L: Array, y: Array, t: Array) -> tuple[Array, Array]:
    """Eₙ and ∂Eₙ/∂a⁽ᴸ⁾ for output activation h: the fused form when the loss has one for h."""
    fused = loss.fused.get(h.name)
    if fused is not None:
        return fused(a_L, t)
    return loss.value(y, t), h.vjp(a_L, y, loss.grad(y, t))


def reduce(per_point: Array, reduction: str) -> tuple[Array, float]:
    """E from Eₙ (… × N), and the factor that scales ∂Eₙ/∂y into ∂E/∂y.

    For ``none``, E is Eₙ itself and the gradients are those of Σₙ Eₙ (factor 1).
    """
    if reduction == "sum":
        return per_point.sum(axis=-1), 1.0
    if reduction == "mean":
        return mean_last(per_point), 1.0 / per_point.shape[-1]
    if reduction == "none":
        return per_point, 1.0
    raise EngineError(f"unknown reduction {reduction!r}; expected one of: {', '.join(REDUCTIONS)}")
