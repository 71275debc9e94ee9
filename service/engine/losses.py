"""Loss functions E, each with its gradient beside it.

A loss gives the per-point error Eₙ(y, t) for a batch (y, t: N × K → N) and its
gradient ∂Eₙ/∂y (N × K). The batch loss is the reduction over points:

    sum  (default, Bishop):  E = Σₙ Eₙ          ∂E/∂y = ∂Eₙ/∂y
    mean:                    E = (1/N) Σₙ Eₙ    ∂E/∂y = ∂Eₙ/∂y / N

A loss may also fuse with the output activation: ``fused[h]`` computes Eₙ and
δ⁽ᴸ⁾ = ∂Eₙ/∂a⁽ᴸ⁾ straight from a⁽ᴸ⁾, which is exact and stays finite where the
two-step chain would not (softmax + cross-entropy: δ = y Σt − t).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from service.engine.activations import _softmax
from service.engine.errors import EngineError, UnknownNameError

Array = NDArray[np.floating[Any]]
Fused = Callable[[Array, Array], tuple[Array, Array]]


@dataclass(frozen=True)
class Loss:
    """A loss: ``value(y, t) -> Eₙ`` (N,) and ``grad(y, t) -> ∂Eₙ/∂y`` (N × K)."""

    name: str
    value: Callable[[Array, Array], Array]
    grad: Callable[[Array, Array], Array]
    fused: dict[str, Fused] = field(default_factory=dict)


def _log_softmax(a: Array) -> Array:
    """log softmax(a) = a − max a − log Σ e^(a − max a): finite for any finite a."""
    shifted = a - a.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _softmax_cce(a: Array, t: Array) -> tuple[Array, Array]:
    """Softmax + categorical cross-entropy from logits a (N × K).

    Eₙ = −Σₖ tₖ log softmax(a)ₖ and δ = softmax(a) Σₖ tₖ − t (= y − t for one-hot t).
    """
    per_point = -(t * _log_softmax(a)).sum(axis=-1)
    delta = _softmax(a) * t.sum(axis=-1, keepdims=True) - t
    return per_point, delta


def _cce_value(y: Array, t: Array) -> Array:
    """Eₙ = −Σₖ tₖ log yₖ on probabilities y (log 0 is taken as the float's min log)."""
    tiny = np.finfo(y.dtype).tiny
    return -(t * np.log(np.maximum(y, tiny))).sum(axis=-1)


def _cce_grad(y: Array, t: Array) -> Array:
    """∂Eₙ/∂yₖ = −tₖ / yₖ."""
    tiny = np.finfo(y.dtype).tiny
    return -t / np.maximum(y, tiny)


_LOSSES: dict[str, Loss] = {
    # The primer's loss: Eₙ = ½ Σₖ (yₖ − tₖ)², so δ⁽ᴸ⁾ = y − t for a linear output (eq. 5).
    "half_sse": Loss(
        "half_sse",
        lambda y, t: 0.5 * ((y - t) ** 2).sum(axis=-1),
        lambda y, t: y - t,
    ),
    # Keras/PyTorch mse: Eₙ = (1/K) Σₖ (yₖ − tₖ)², the mean over the K outputs.
    "mse": Loss(
        "mse",
        lambda y, t: ((y - t) ** 2).mean(axis=-1),
        lambda y, t: (2.0 / y.shape[-1]) * (y - t),
    ),
    "categorical_cross_entropy": Loss("categorical_cross_entropy", _cce_value, _cce_grad, {"softmax": _softmax_cce}),
}

REDUCTIONS = ("sum", "mean")


def loss_names() -> list[str]:
    """The names :func:`get_loss` accepts."""
    return sorted(_LOSSES)


def get_loss(name: str) -> Loss:
    """The loss called ``name``."""
    loss = _LOSSES.get(name)
    if loss is None:
        raise UnknownNameError("loss", name, loss_names())
    return loss


def reduce(per_point: Array, reduction: str) -> tuple[Array, float]:
    """E from Eₙ (N,), and the factor that scales ∂Eₙ/∂y into ∂E/∂y."""
    if reduction == "sum":
        return per_point.sum(), 1.0
    if reduction == "mean":
        return per_point.mean(), 1.0 / per_point.shape[0]
    raise EngineError(f"unknown reduction {reduction!r}; expected one of: {', '.join(REDUCTIONS)}")
