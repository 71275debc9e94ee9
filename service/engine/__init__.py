"""Pure-NumPy backpropagation engine, in the primer's notation.

Nothing here knows about HTTP, JSON or pydantic: arrays in, arrays out.
A batch is a matrix with one row per data point, so for layer l

    A⁽ˡ⁾ = Z⁽ˡ⁻¹⁾ @ W⁽ˡ⁾ᵀ + b⁽ˡ⁾        (N × K)
    Z⁽ˡ⁾ = h⁽ˡ⁾(A⁽ˡ⁾)                    (N × K)

with ``W`` of shape K × M (one row per output neuron, as in the primer).
"""

from service.engine.activations import Activation, get_activation
from service.engine.errors import EngineError, NonFiniteError
from service.engine.losses import Loss, get_loss
from service.engine.network import Gradients, Layer, Trace, backward, forward

__all__ = [
    "Activation",
    "EngineError",
    "Gradients",
    "Layer",
    "Loss",
    "NonFiniteError",
    "Trace",
    "backward",
    "forward",
    "get_activation",
    "get_loss",
]
