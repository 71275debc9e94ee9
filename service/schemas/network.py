"""The network on the wire, and its conversion to the engine's layers.

:class:`Network` is both what a request sends and what a response returns (a train step's
updated network, /v1/networks/init's new one): one schema, so a client sends back what it got.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import Field

from service.engine import Layer as EngineLayer
from service.engine import get_activation
from service.errors import invalid, pointer
from service.limits import LayerShape
from service.schemas.base import WireModel
from service.schemas.named import NamedObject, build, name_or_object
from service.schemas.names import ActivationName
from service.schemas.names import Dtype as Dtype  # re-exported: requests take it from here
from service.schemas.tensor import Matrix, Vector


class ActivationObject(NamedObject):
    """An activation with parameters, e.g. ``{"name": "leaky_relu", "negative_slope": 0.01}``.

    The parameters each activation takes, with defaults and ranges, are listed by GET /v1/activations.
    """

    name: ActivationName = Field(description="the activation; its parameters are the object's other members")


if TYPE_CHECKING:
    ActivationSpec = str | ActivationObject
else:
    ActivationSpec = name_or_object(ActivationName, ActivationObject)


class Layer(WireModel):
    """A dense layer: a = W z⁽ˡ⁻¹⁾ + b, z = h(a). Responses return layers in this form, the activation as it was sent."""

    weights: Matrix = Field(description="W, K × M: one row per output neuron (PyTorch's `weight`; Keras's kernel transposed)")
    bias: Vector | None = Field(None, description="b, K entries; absent or null for no bias")
    activation: ActivationSpec = Field("linear", description="h: a name, or an object with `name` and parameters")
    trainable: bool = Field(
        True,
        description="false freezes the layer (Keras's `trainable`): training steps leave W and b as they are; "
        "their gradients are still computed and returned",
    )
    train_bias: bool = Field(True, description="false freezes b alone (W still trains); only for a layer with a bias")

    def to_engine(self, index: int, dtype: np.dtype[Any]) -> EngineLayer:
        """The engine's layer; checks the bias length and builds the activation."""
        K = self.weights.shape[0]
        if self.bias is not None and self.bias.shape[0] != K:
            raise invalid(
                [
                    (
                        pointer("network", "layers", index, "bias"),
                        f"has {self.bias.shape[0]} entries but weights has {K} rows (outputs); it needs {K}",
                    )
                ]
            )
        if self.bias is None and not self.train_bias:
            raise invalid(
                [(pointer("network", "layers", index, "train_bias"), "the layer has no bias to freeze: send a bias, or leave this out")]
            )
        h = build(self.activation, get_activation, pointer("network", "layers", index, "activation"))
        b = None if self.bias is None else self.bias.astype(dtype, copy=False)
        return EngineLayer(self.weights.astype(dtype, copy=False), b, h, self.trainable, self.train_bias)


def frozen_fields(trainable: bool, train_bias: bool) -> dict[str, bool]:
    """The wire's ``trainable`` / ``train_bias`` members of a layer, written only when false (the default is true)."""
    return {**({"trainable": False} if not trainable else {}), **({"train_bias": False} if not train_bias else {})}


class Network(WireModel):
    """A dense feed-forward network: layer l's weights have as many columns as layer l−1 has rows.

    The same schema in requests and responses: send a returned network back unchanged.
    """

    # a list of 10M bad layers: one error, not 10M
    layers: list[Layer] = Field(min_length=1, fail_fast=True, description="layer 1 (the input's) first, the output layer last")

    def to_engine(self, dtype: np.dtype[Any]) -> list[EngineLayer]:
        """The engine's layers, after checking that consecutive sizes fit (M⁽ˡ⁾ = K⁽ˡ⁻¹⁾)."""
        errors = []
        for l in range(1, len(self.layers)):
            K_prev = self.layers[l - 1].weights.shape[0]
            M = self.layers[l].weights.shape[1]
            if K_prev != M:
                errors.append(
                    (
                        pointer("network", "layers", l, "weights"),
                        f"has {M} columns (inputs) but layer {l - 1} has {K_prev} outputs (rows); it needs {K_prev} columns",
                    )
                )
        if errors:
            raise invalid(errors)
        return [layer.to_engine(l, dtype) for l, layer in enumerate(self.layers)]

    def shapes(self) -> list[LayerShape]:
        """Each layer's K × M and bias size, for the limits."""
        return [
            LayerShape(K=layer.weights.shape[0], M=layer.weights.shape[1], bias=0 if layer.bias is None else layer.bias.shape[0])
            for layer in self.layers
        ]

    def as_arrays(self) -> dict[str, Any]:
        """The network as sent, with W and b as arrays (b None where absent) and the activations as sent."""
        return {
            "layers": [
                {"weights": layer.weights, "bias": layer.bias, "activation": activation, "trainable": layer.trainable}
                for layer, activation in zip(self.layers, self.activations(), strict=True)
            ]
        }

    def activations(self) -> list[Any]:
        """Each layer's activation in the form it was sent (a name or an object)."""
        return [a if isinstance(a, str) else a.model_dump() for a in (layer.activation for layer in self.layers)]

    @property
    def input_size(self) -> int:
        return int(self.layers[0].weights.shape[1])

    @property
    def output_size(self) -> int:
        return int(self.layers[-1].weights.shape[0])
