"""Pure ASGI middleware (no ``BaseHTTPMiddleware``: no extra task or body copy per request), one concept per file."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from service.config import Settings
from service.middleware.api_key import ApiKeyMiddleware
from service.middleware.content_encoding import ContentEncodingMiddleware
from service.middleware.front import FrontMiddleware
from service.tenants import Keyring


def install(app: FastAPI, settings: Settings) -> None:
    """Add the middleware; a request passes request id and metrics (one layer) → CORS → API key → content encoding → routes."""
    app.add_middleware(
        ContentEncodingMiddleware,
        max_bytes=settings.max_body_bytes,
        path_limits={"/v1/datasets": (settings.max_dataset_body_bytes, "max_dataset_body_bytes")},
    )
    if (keyring := Keyring(settings.api_key_list(), settings.api_keys_file)).active:
        app.add_middleware(ApiKeyMiddleware, keyring=keyring)
    if origins := settings.cors_origin_list():
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", "Content-Encoding", "Authorization", "X-API-Key", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After"],
        )
    app.add_middleware(FrontMiddleware)
