"""Activation functions h, each with its derivative beside it, and their registry.

Every activation maps the pre-activation ``a`` (N × K) to ``z = h(a)`` (N × K)
and provides the vector–Jacobian product used by backpropagation (primer eq. 3):

    vjp(a, z, g) = g ⊙ ḣ(a)          elementwise activations (activations_elementwise.py)
    vjp(a, z, g) = g Jₕ(a)           softmax and log_softmax (here), row by row

where ``g = ∂E/∂z`` (N × K) and the result is ``∂E/∂a`` (N × K). Any leading
axes before the last are treated as batch axes. Semantics, defaults and the
derivative at kinks follow PyTorch (relu'(0) = 0); see :func:`catalog`.
All functions stay finite without warnings for |a| up to 1e3 (except exponential).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from service.engine.activation_base import Activation, Image
from service.engine.activations_elementwise import ENTRIES as ELEMENTWISE
from service.engine.arrays import Array
from service.engine.catalog import CatalogEntry
from service.engine.forms import Fixed, Forms, KerasLayer, Torch, keras, one
from service.engine.registry import Entry, Registry, entry
from service.engine.tex import ActivationTex

__all__ = ["Activation", "activation_names", "catalog", "get_activation", "log_softmax", "records", "softmax"]


def softmax(a: Array) -> Array:
    """softmax(a)ₖ = e^(aₖ − max a) / Σⱼ e^(aⱼ − max a), along the last axis."""
    e = np.exp(a - a.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def log_softmax(a: Array) -> Array:
    """log softmax(a) = a − max a − log Σ e^(a − max a): finite for any finite a."""
    shifted = a - a.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _softmax_vjp(a: Array, z: Array, g: Array) -> Array:
    """gJ for J = diag(z) − z zᵀ:  ∂E/∂aₖ = zₖ (gₖ − Σⱼ gⱼ zⱼ)."""
    return z * (g - (g * z).sum(axis=-1, keepdims=True))


def _log_softmax_vjp(a: Array, z: Array, g: Array) -> Array:
    """gJ for J = I − 1 softmax(a)ᵀ:  ∂E/∂aₖ = gₖ − softmax(a)ₖ Σⱼ gⱼ, with softmax(a) = e^z."""
    return g - np.exp(z) * g.sum(axis=-1, keepdims=True)


#: The vjp templates: ⟨g⟩ is gₖ = ∂E/∂zₖ, ⟨z⟩ is zₖ, ⟨G⟩ is Σⱼ gⱼ zⱼ (softmax) or Σⱼ gⱼ (log_softmax), ⟨p⟩ is softmax(a)ₖ = e^zₖ.
SOFTMAX_TEX = ActivationTex(
    "\\operatorname{softmax}",
    "\\frac{e^{a_{k}}}{\\sum_{j} e^{a_{j}}}",
    "⟨z⟩\\,(⟨g⟩ - ⟨G⟩)",
    "z_{k} = \\frac{e^{a_{k}}}{\\sum_{j} e^{a_{j}}},\\quad "
    "\\frac{\\partial E}{\\partial a_{k}} = z_{k}\\,\\Big(g_{k} - \\sum_{j} g_{j} z_{j}\\Big),"
    "\\ g = \\frac{\\partial E}{\\partial z}",
    jacobian="softmax",
)
LOG_SOFTMAX_TEX = ActivationTex(
    "\\operatorname{log\\_softmax}",
    "a_{k} - \\log\\sum_{j} e^{a_{j}}",
    "⟨g⟩ - ⟨p⟩\\,⟨G⟩",
    "z_{k} = a_{k} - \\log\\sum_{j} e^{a_{j}},\\quad \\frac{\\partial E}{\\partial a_{k}} = g_{k} - e^{z_{k}} \\sum_{j} g_{j},"
    "\\ g = \\frac{\\partial E}{\\partial z}",
    jacobian="log_softmax",
)

#: Over the last axis: torch's dim and ONNX's axis -1 (or 1, the last of batch × units); Keras's Softmax layer's axis.
_LAST = Fixed(-1, also=(1,))
_LAST_DIM = {"dim": Fixed(-1, also=(None, 1))}  # torch's implicit dim (None) is 1 for a batch × units input

_REGISTRY = Registry[Activation](
    "activation",
    [
        *ELEMENTWISE,
        entry(
            lambda: Activation("softmax", softmax, _softmax_vjp, SOFTMAX_TEX, Image(0, 1, open=True)),
            "softmax",
            "zₖ = e^(aₖ) / Σⱼ e^(aⱼ) over the layer's K neurons;  vjp: ∂E/∂aₖ = zₖ (gₖ − Σⱼ gⱼ zⱼ)",
            keras="Keras's softmax also normalizes over the last axis.",
            notes=("not elementwise: backpropagation uses the vector–Jacobian product, not ḣ(a)",),
            forms=Forms(
                Torch("Softmax", "torch.nn.functional.softmax", _LAST_DIM),
                keras("softmax", layers=(KerasLayer("Softmax", {"axis": Fixed(-1, also=(1, [-1], [1]))}),)),
                one("Softmax", axis=_LAST),
            ),
        ),
        entry(
            lambda: Activation("log_softmax", log_softmax, _log_softmax_vjp, LOG_SOFTMAX_TEX, Image(high=0)),
            "log_softmax",
            "zₖ = aₖ − log Σⱼ e^(aⱼ);  vjp: ∂E/∂aₖ = gₖ − softmax(a)ₖ Σⱼ gⱼ",
            keras="Keras 3 has log_softmax with the same meaning.",
            notes=("the output for kl_divergence, which takes log-probabilities as PyTorch's kl_div does",),
            forms=Forms(
                Torch("LogSoftmax", "torch.nn.functional.log_softmax", _LAST_DIM), keras("log_softmax"), one("LogSoftmax", axis=_LAST)
            ),
        ),
    ],
)
if missing := [e.describe.name for e in _REGISTRY.entries if e.forms is None]:
    raise TypeError(f"activations without their PyTorch, Keras and ONNX forms: {missing}")  # say NoForm(why) where a framework has none


def activation_names() -> list[str]:
    """The names :func:`get_activation` accepts (aliases included)."""
    return _REGISTRY.names()


def get_activation(name: str, **params: Any) -> Activation:
    """The activation called ``name``, built with its parameters (PyTorch's defaults for the rest).

    Raises ``UnknownNameError`` or ``ParameterError`` (which names the parameter).
    """
    return _REGISTRY.get(name, params)


def catalog() -> list[CatalogEntry]:
    """Every activation: parameters with defaults and ranges, formula, derivative at kinks, Keras difference."""
    return _REGISTRY.catalog()


def records() -> list[tuple[Entry[Activation], Forms]]:
    """Every activation's record (parameters, catalog text) and its framework forms, in the registry's order."""
    return [(e, e.forms) for e in _REGISTRY.entries if e.forms is not None]
