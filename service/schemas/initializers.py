"""POST /v1/networks/init on the wire: layer sizes, activations, an initializer and a seed in; a network out."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from service.engine import Activation, get_activation
from service.errors import invalid, pointer
from service.limits import check_init_parameters
from service.schemas.base import WireModel
from service.schemas.named import build
from service.schemas.names import BiasInitializerName, InitializerName
from service.schemas.network import ActivationSpec, Network

INIT_EXAMPLE: dict[str, Any] = {
    "sizes": [2, 3, 2],
    "activations": ["tanh", "linear"],
    "initializer": "glorot_uniform",
    "bias": True,
    "seed": 0,
}


@dataclass(frozen=True)
class InitInputs:
    """:func:`service.engine.initializers.init_parameters`'s arguments, and each layer's activation (built, and as sent)."""

    sizes: list[int]
    initializer: str
    bias_initializer: str | None
    seed: int
    activations: list[Activation]
    wire_activations: list[Any]


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

    def to_engine(self) -> InitInputs:
        """The initializer's arguments, after checking the activations (one per layer) and ``max_init_parameters``."""
        L = len(self.sizes) - 1
        if len(self.activations) != L:
            detail = f"has {len(self.activations)} entries but sizes describes {L} layers; give one per layer"
            raise invalid([(pointer("activations"), detail)])
        check_init_parameters(sum((M + int(self.bias)) * K for M, K in pairwise(self.sizes)), pointer("sizes"))
        activations = [build(act, get_activation, pointer("activations", l)) for l, act in enumerate(self.activations)]
        bias = self.bias_initializer or ("torch_default" if self.initializer == "torch_default" else "zeros")
        wire = [act if isinstance(act, str) else act.model_dump() for act in self.activations]
        return InitInputs(list(self.sizes), self.initializer, bias if self.bias else None, self.seed, activations, wire)


class InitResponse(BaseModel):
    """The new network."""

    network: Network = Field(description="ready to send as `network` to /v1/forward, /v1/backward, /v1/train-step or /v1/train")
