"""The weight penalty on the wire: ``"regularization": {"l1": …, "l2": …}`` beside the loss it adds to."""

from __future__ import annotations

from pydantic import Field

from service.engine.regularization import Regularization
from service.schemas.base import WireModel


class RegularizationIn(WireModel):
    """L1/L2 penalty on every layer's weights (not the biases), as TensorFlow Playground applies it.

    The loss becomes E + l1 Σ|W| + (l2/2) Σ W² and ∂E/∂W gains l1 sign(W) + l2 W.
    Keras's ``L2(l2)`` penalty is l2 Σ W²: its l2 = 0.005 is l2 = 0.01 here.
    """

    l1: float = Field(0.0, ge=0, description="adds l1 Σ|W| to the loss and l1 sign(W) to ∂E/∂W")
    l2: float = Field(0.0, ge=0, description="adds (l2/2) Σ W² to the loss and l2 W to ∂E/∂W (torch's weight_decay, on W only)")

    def to_engine(self) -> Regularization:
        return Regularization(self.l1, self.l2)
