"""GET /learn: the learner's page, and its script and styles under /learn-assets, served with the docs pages' CSP.

The page (service/pages/) is static: everything it shows it asks of the public API.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

from service.api.routes.docs import CONTENT_SECURITY_POLICY
from service.pages import PAGES_DIR, STATIC_DIR

ASSETS_URL = "/learn-assets"


def install(app: FastAPI) -> None:
    """Serve the page at /learn and its assets at /learn-assets (relative links: a path prefix in front works)."""
    app.mount(ASSETS_URL, StaticFiles(directory=STATIC_DIR), name="learn-assets")
    html = (PAGES_DIR / "learn.html").read_text()

    @app.get("/learn", include_in_schema=False)
    async def learn() -> HTMLResponse:
        return HTMLResponse(html, headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY, "Cache-Control": "no-cache"})
