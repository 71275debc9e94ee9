"""The docs pages, Swagger UI at /docs and ReDoc at /redoc, served without any other host.

FastAPI's own pages load their JavaScript and CSS from a CDN (and ReDoc its fonts
from Google), so on a network without internet they are blank. Here the assets come
from the pinned ``fastapi-offline`` package (it ships swagger-ui-bundle.js,
swagger-ui.css and redoc.standalone.js) and are served by this app under ``/docs-assets``.
ReDoc's script is served with one change: the logo it shows in its sidebar comes from its
vendor's CDN, which the pages may not reach (a console error on every visit), so that one
URL is an empty inline image instead.

``/openapi.json`` is served here too, as the bytes that ``python -m service.openapi_export`` commits.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.staticfiles import StaticFiles
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from service.api.openapi import document_bytes

OPENAPI_URL = "/openapi.json"
ASSETS_URL = "/docs-assets"
ASSETS_DIR = Path(str(files("fastapi_offline") / "static"))
REDOC_SCRIPT = "redoc.standalone.js"
#: The one URL of another host in ReDoc's script (its sidebar's logo), and what it becomes: an empty image.
REDOC_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"
NO_IMAGE = b"data:image/svg+xml,%3Csvg xmlns=%22http://www.w3.org/2000/svg%22 width=%220%22 height=%220%22/%3E"

#: The pages may load scripts, styles, images, fonts and data from this service only (and inline/data:/blob:).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'"
)

#: Swagger UI options: no call to the public validator, and the request's duration shown.
SWAGGER_UI_PARAMETERS = {"validatorUrl": None, "displayRequestDuration": True, "defaultModelsExpandDepth": 0, "tryItOutEnabled": False}


@cache
def redoc_script() -> bytes:
    """ReDoc's script with its logo's URL replaced (the pinned fastapi-offline's copy has it exactly once)."""
    script = (ASSETS_DIR / REDOC_SCRIPT).read_bytes()
    if script.count(REDOC_LOGO) != 1:
        raise RuntimeError(f"{REDOC_SCRIPT} no longer has its logo's URL exactly once: check the fastapi-offline version")
    return script.replace(REDOC_LOGO, NO_IMAGE)


def install(app: FastAPI) -> None:
    """Serve the document, the assets and the two pages; the app must be built with ``docs_url=None, redoc_url=None, openapi_url=None``."""
    served: dict[str, bytes] = {}

    @app.get(OPENAPI_URL, include_in_schema=False)
    async def openapi(request: Request) -> Response:
        root = request.scope.get("root_path", "").rstrip("/")
        if root not in served:
            served[root] = document_bytes(app.openapi(), root)
        return Response(served[root], media_type="application/json")

    @app.get(f"{ASSETS_URL}/{REDOC_SCRIPT}", include_in_schema=False)
    async def redoc_standalone() -> Response:
        return Response(redoc_script(), media_type="text/javascript; charset=utf-8")

    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS_DIR), name="docs-assets")
    oauth2_redirect = "/docs/oauth2-redirect"

    def assets(request: Request) -> str:
        return f"{request.scope.get('root_path', '')}{ASSETS_URL}"

    def urls(request: Request) -> dict[str, str]:
        """The document's URL and the favicon's, under the proxy's root path: what both pages take."""
        root = request.scope.get("root_path", "")
        return {"openapi_url": f"{root}{OPENAPI_URL}", "favicon": f"{assets(request)}/favicon.png"}

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        page = urls(request)
        return _own_hosts_only(
            get_swagger_ui_html(
                openapi_url=page["openapi_url"],
                title=f"{app.title} — docs",
                oauth2_redirect_url=f"{request.scope.get('root_path', '')}{oauth2_redirect}",
                swagger_js_url=f"{assets(request)}/swagger-ui-bundle.js",
                swagger_css_url=f"{assets(request)}/swagger-ui.css",
                swagger_favicon_url=page["favicon"],
                swagger_ui_parameters=SWAGGER_UI_PARAMETERS,
            )
        )

    @app.get(oauth2_redirect, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        page = urls(request)
        script = f"{assets(request)}/{REDOC_SCRIPT}"
        html = get_redoc_html(
            openapi_url=page["openapi_url"],
            title=f"{app.title} — ReDoc",
            redoc_js_url=script,
            redoc_favicon_url=page["favicon"],
            with_google_fonts=False,
        )
        return _own_hosts_only(html)


def _own_hosts_only(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return page
