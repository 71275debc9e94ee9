"""The limits of this server, so that clients can size their requests."""

from typing import Any

from fastapi import APIRouter

from service.config import get_settings
from service.limits import Limits, published

router = APIRouter(prefix="/v1", tags=["operations"])


@router.get("/limits", response_model=Limits, operation_id="limits", summary="The limits every request is checked against")
async def limits() -> dict[str, Any]:
    """Every limit a request is checked against (each is the setting `GRADIENT_<NAME>`)."""
    return published(get_settings())
