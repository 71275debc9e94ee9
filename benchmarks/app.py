"""The service's app plus a bare route, the floor that benchmark (a) compares the primer's example against.

The bare route is FastAPI's plainest: a POST that ignores its body and returns a
constant dict through FastAPI's default response path. It lives here, not in the service.
"""

from __future__ import annotations

from service.main import create_app

app = create_app()


@app.post("/bare")
async def bare() -> dict[str, str]:
    """A constant JSON object."""
    return {"status": "ok"}
