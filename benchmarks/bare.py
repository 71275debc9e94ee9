"""A bare FastAPI app: one POST route that ignores its body and returns a constant dict, nothing else.

Benchmark (a) compares the primer's request on the service against this, each on its own uvicorn worker
started the same way (service/cli.py's options), so the ratio is what the service adds to the framework's floor:
middleware, admission, validation, the engine, serialization.
"""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI()


@app.post("/bare")
async def bare() -> dict[str, str]:
    """A constant JSON object."""
    return {"status": "ok"}


@app.get("/livez")
async def livez() -> dict[str, str]:
    """What the benchmark's server start waits for."""
    return {"status": "ok"}
