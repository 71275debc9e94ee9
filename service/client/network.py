"""A network as the client sends and receives it: a list of :class:`Layer` holding NumPy arrays."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Layer:
    """A dense layer: W (K × M, one row per output neuron), optional b (K), activation h.

    ``trainable`` False freezes W and b (Keras's word), ``train_bias`` False b alone: training leaves them as they are.
    """

    weights: npt.ArrayLike
    bias: npt.ArrayLike | None = None
    activation: str | Mapping[str, Any] = "linear"
    trainable: bool = True
    train_bias: bool = True

    def wire(self) -> dict[str, Any]:
        frozen = {**({} if self.trainable else {"trainable": False}), **({} if self.train_bias else {"train_bias": False})}
        return {"weights": self.weights, **({} if self.bias is None else {"bias": self.bias}), "activation": self.activation, **frozen}


#: A network: a list of :class:`Layer`, or its wire form ``{"layers": [...]}``.
Network = Sequence[Layer] | Mapping[str, Any]


def wire_network(network: Network) -> Any:
    """The ``network`` member of a request body."""
    return network if isinstance(network, Mapping) else {"layers": [layer.wire() for layer in network]}


def array(value: Any) -> Array:
    return np.asarray(value, dtype=np.float64)


def optional_array(value: Any) -> Array | None:
    return None if value is None else array(value)


def read_network(raw: Mapping[str, Any]) -> list[Layer]:
    """The layers of an answer's ``network`` member (``{"layers": [...]}``), as arrays."""
    return [
        Layer(
            array(layer["weights"]),
            optional_array(layer.get("bias")),
            layer["activation"],
            layer.get("trainable", True),
            layer.get("train_bias", True),
        )
        for layer in raw["layers"]
    ]
