"""The ASGI application: routers, error handlers and the OpenAPI document. No math here."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from service import __version__
from service.api import openapi
from service.api.problems import install as install_error_handlers
from service.api.routes import catalog, compute, datasets, docs, explain, gradcheck, health, jobs, learn, limits
from service.api.routes import interop as interop_routes
from service.api.routes import networks as network_routes
from service.api.routes import training as training_routes
from service.config import get_settings
from service.lifecycle import Lifecycle, lifespan
from service.limits import describe as describe_limits
from service.middleware import install as install_middleware

DESCRIPTION = """\
Gradients of dense feed-forward networks, in the notation of the backpropagation primer:
for each layer l, **a⁽ˡ⁾ = W⁽ˡ⁾ z⁽ˡ⁻¹⁾ + b⁽ˡ⁾** and **z⁽ˡ⁾ = h⁽ˡ⁾(a⁽ˡ⁾)**, with x = z⁽⁰⁾ and y = z⁽ᴸ⁾;
**δ⁽ˡ⁾ = ∂E/∂a⁽ˡ⁾** is the propagated error. `weights` has one row per output neuron (K × M),
as in the primer and PyTorch; a Keras kernel is its transpose.

Every route is prefilled with the primer's worked example: *Try it out* → *Execute* shows its numbers.
To see the work as the primer shows it — Figure 6, the derivation step by step, training with a live loss
curve — open the **[learner's page](learn)** (`GET /learn`; it uses only this API).
Errors are `application/problem+json` with JSON Pointers into the request.
"""


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        app.openapi_schema = openapi.build(app)
    return app.openapi_schema


def create_app() -> FastAPI:
    """Build the application."""
    settings = get_settings()
    description = f"{DESCRIPTION}\n## Limits\n\nAlso at `GET /v1/limits`; a request over one gets a 413 or 422 naming it.\n\n"
    app = FastAPI(
        title="Gradient service",
        version=__version__,
        description=description + describe_limits(settings),
        docs_url=None,
        redoc_url=None,
        openapi_url=None,  # served by docs.install, as the committed bytes
        lifespan=lifespan,
    )
    app.state.lifecycle = Lifecycle()
    install_error_handlers(app)
    install_middleware(app, settings)
    app.include_router(compute.router)
    app.include_router(explain.router)
    app.include_router(health.router)
    app.include_router(training_routes.router)
    app.include_router(datasets.router)
    app.include_router(jobs.router)
    app.include_router(network_routes.router)
    app.include_router(interop_routes.router)
    app.include_router(gradcheck.router)
    app.include_router(catalog.router)
    app.include_router(limits.router)
    docs.install(app)
    learn.install(app)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


app = create_app()
