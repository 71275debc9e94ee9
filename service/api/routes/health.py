"""Liveness: answers without touching the engine."""

from fastapi import APIRouter
from starlette.responses import Response

router = APIRouter(tags=["operations"])


@router.get("/livez", operation_id="livez", responses={200: {"content": {"application/json": {"example": {"status": "ok"}}}}})
async def livez() -> Response:
    """The process is up and its event loop answers."""
    return Response(b'{"status":"ok"}', media_type="application/json")
