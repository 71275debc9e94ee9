"""POST /v1/networks/init: a network drawn from an initializer and a seed."""

from __future__ import annotations

from fastapi import APIRouter

from service.api.json_route import post_json
from service.api.problems import ERROR_RESPONSES
from service.handlers.networks import init_network as handle_init_network
from service.schemas.initializers import InitRequest, InitResponse

router = APIRouter(prefix="/v1", tags=["networks"], responses=ERROR_RESPONSES)


post_json(
    router,
    "/networks/init",
    InitRequest,
    handle_init_network,
    operation_id="init_network",
    summary="A new network from layer sizes, an initializer and a seed",
    description="""A network with the given layer sizes and activations, its W (and b) drawn by `initializer` from `seed`.

    The same request gives the same numbers on every machine (numpy's PCG64 generator).
    """,
    response_model=InitResponse,
)
