"""Activation functions h, each with its derivative beside it.

Every activation maps the pre-activation ``a`` (N × K) to ``z = h(a)`` (N × K)
and provides the vector–Jacobian product used by backpropagation (primer eq. 3):

    vjp(a, z, g) = g ⊙ ḣ(a)          elementwise activations
    vjp(a, z, g) = g Jₕ(a)           softmax and other non-elementwise ones

where ``g = ∂E/∂z`` (N × K) and the result is ``∂E/∂a`` (N × K).
Derivatives at kinks follow PyTorch (relu'(0) = 0).
All functions are written to stay finite without warnings for |a| up to 1e3.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from service.engine.errors import EngineError, UnknownNameError

Array = NDArray[np.floating[Any]]


@dataclass(frozen=True)
class Activation:
    """An activation h: ``forward(a) -> z`` and ``vjp(a, z, g) -> ∂E/∂a``."""

    name: str
    forward: Callable[[Array], Array]
    vjp: Callable[[Array, Array, Array], Array]


def _elementwise(name: str, h: Callable[[Array], Array], dh: Callable[[Array, Array], Array]) -> Activation:
    """Build an elementwise activation from h(a) and its derivative ḣ(a, z)."""
    return Activation(name, h, lambda a, z, g: g * dh(a, z))


def _sigmoid(a: Array) -> Array:
    """σ(a) = 1 / (1 + e⁻ᵃ), evaluated as ½(1 + tanh(a/2)): no overflow for any a."""
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def _softmax(a: Array) -> Array:
    """softmax(a)ₖ = e^(aₖ − max a) / Σⱼ e^(aⱼ − max a), row by row (N × K)."""
    e = np.exp(a - a.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _softmax_vjp(a: Array, z: Array, g: Array) -> Array:
    """gJ for J = diag(z) − z zᵀ:  ∂E/∂aₖ = zₖ (gₖ − Σⱼ gⱼ zⱼ)."""
    return z * (g - (g * z).sum(axis=-1, keepdims=True))


def _relu_grad(a: Array, z: Array) -> Array:
    return (a > 0).astype(a.dtype)


_BUILDERS: dict[str, Callable[..., Activation]] = {
    "linear": lambda: _elementwise("linear", lambda a: a, lambda a, z: np.ones_like(a)),
    "tanh": lambda: _elementwise("tanh", np.tanh, lambda a, z: 1.0 - z * z),
    "sigmoid": lambda: _elementwise("sigmoid", _sigmoid, lambda a, z: z * (1.0 - z)),
    "relu": lambda: _elementwise("relu", lambda a: np.maximum(a, 0), _relu_grad),
    "softmax": lambda: Activation("softmax", _softmax, _softmax_vjp),
}


def activation_names() -> list[str]:
    """The names :func:`get_activation` accepts."""
    return sorted(_BUILDERS)


def get_activation(name: str, **params: Any) -> Activation:
    """The activation called ``name``, built with its parameters."""
    builder = _BUILDERS.get(name)
    if builder is None:
        raise UnknownNameError("activation", name, activation_names())
    try:
        return builder(**params)
    except TypeError as exc:
        raise EngineError(f"activation {name!r}: {exc}") from exc
