"""L1 and L2 weight penalties, as TensorFlow Playground applies them.

    P = l1 Σ |W| + (l2/2) Σ W²       over every layer's weights W⁽ˡ⁾ (not the biases)
    ∂P/∂W = l1 sign(W) + l2 W        (sign(0) = 0, the subgradient torch's |·| uses)

The objective becomes E + P and its gradient ∂E/∂W + ∂P/∂W. Biases are not
regularized, as in Playground and in Keras's usual ``kernel_regularizer``
(torch's ``weight_decay`` instead decays every parameter, biases included).
The ½ on the L2 term makes ∂P/∂W = l2 W, the form of torch's weight_decay;
Keras's ``L2(l2)`` penalty is l2 Σ W² (gradient 2 l2 W), so Keras l2 = 0.005
matches l2 = 0.01 here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from service.engine.arrays import Array


@dataclass(frozen=True)
class Regularization:
    """The penalty coefficients; both zero means no penalty."""

    l1: float = 0.0
    l2: float = 0.0

    @property
    def active(self) -> bool:
        return self.l1 != 0 or self.l2 != 0

    def penalty(self, weights: Sequence[Array]) -> float:
        """P = l1 Σ|W| + (l2/2) Σ W², summed over the given weight matrices."""
        return sum((self.l1 * float(np.abs(W).sum()) + 0.5 * self.l2 * float(np.vdot(W, W)) for W in weights), 0.0)

    def grad(self, W: Array) -> Array:
        """∂P/∂W = l1 sign(W) + l2 W, shaped like W (K × M)."""
        return self.l1 * np.sign(W) + self.l2 * W


NONE = Regularization()
