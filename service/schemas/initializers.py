"""POST /v1/networks/init on the wire: layer sizes, activations, an initializer and a seed in; a network out."""

from __future__ import annotations

from itertools import pairwise
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from service.engine import get_activation
from service.engine.errors import EngineError
from service.engine.initializers import BIAS_INITIALIZERS, init_parameters, initializer_names
from service.errors import invalid, pointer
from service.schemas.base import WireModel
from service.schemas.network import ActivationSpec
from service.schemas.responses import NetworkOut

if TYPE_CHECKING:
    InitializerName = str
    BiasInitializerName = str
else:  # the engine's names, so the docs list them and pydantic refuses any other
    InitializerName = Literal[tuple(initializer_names())]
    BiasInitializerName = Literal[BIAS_INITIALIZERS]

#: The most parameters (weights and biases) one initialized network may have.
MAX_INIT_PARAMETERS = 1_000_000

INIT_EXAMPLE: dict[str, Any] = {
    "sizes": [2, 3, 2],
    "activations": ["tanh", "linear"],
    "initializer": "glorot_uniform",
    "bias": True,
    "seed": 0,
}


class InitRequest(WireModel):
    """A network to initialize: its sizes, activations, initializer and seed."""

    model_config = ConfigDict(json_schema_extra={"examples": [INIT_EXAMPLE]})

    sizes: list[Annotated[int, Field(ge=1)]] = Field(
        min_length=2,
        description="[M⁽¹⁾, K⁽¹⁾, …, K⁽ᴸ⁾]: the input size, then each layer's number of outputs (all ≥ 1)",
    )
    activations: list[ActivationSpec] = Field(description="h⁽ˡ⁾ for each of the len(sizes) − 1 layers: a name or an object")
    initializer: InitializerName = Field(
        "glorot_uniform",
        description="how W is drawn (Keras's default glorot_uniform; torch_default is nn.Linear's). "
        "*_normal are Keras's truncated normals; see GET /v1/initializers",
    )
    bias: bool = Field(True, description="give every layer a bias")
    bias_initializer: BiasInitializerName | None = Field(
        None,
        description="how b is drawn: zeros (Keras's default) or torch_default, U(±1/√fan_in) (nn.Linear's). "
        "Absent or null: torch_default when `initializer` is torch_default, else zeros",
    )
    seed: int = Field(
        0, ge=0, le=2**32 - 1, description="seed of numpy.random.default_rng: the same seed gives the same network everywhere"
    )

    def parameters(self) -> list[tuple[Any, Any]]:
        """W and b of every layer, after checking sizes, activations and the size limit."""
        L = len(self.sizes) - 1
        if len(self.activations) != L:
            detail = f"has {len(self.activations)} entries but sizes describes {L} layers; give one per layer"
            raise invalid([(pointer("activations"), detail)])
        count = sum((M + int(self.bias)) * K for M, K in pairwise(self.sizes))
        if count > MAX_INIT_PARAMETERS:
            raise invalid([(pointer("sizes"), f"describes {count} parameters; the limit is {MAX_INIT_PARAMETERS}")])
        for l, act in enumerate(self.activations):
            name, params = (act, {}) if isinstance(act, str) else (act.name, dict(act.model_extra or {}))
            try:
                get_activation(name, **params)
            except EngineError as exc:
                raise invalid([(pointer("activations", l), str(exc))]) from exc
        bias = self.bias_initializer or ("torch_default" if self.initializer == "torch_default" else "zeros")
        return init_parameters(self.sizes, self.initializer, bias if self.bias else None, self.seed)

    def body(self) -> dict[str, Any]:
        """The response: the network in the wire form /v1/forward, /v1/backward and /v1/train take."""
        layers = []
        for (W, b), act in zip(self.parameters(), self.activations, strict=True):
            wire_act = act if isinstance(act, str) else act.model_dump()
            layers.append({"weights": W, **({"bias": b} if b is not None else {}), "activation": wire_act})
        return {"network": {"layers": layers}}


class InitResponse(BaseModel):
    network: NetworkOut = Field(description="ready to send as `network` to /v1/forward, /v1/backward, /v1/train-step or /v1/train")
