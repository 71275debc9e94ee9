"""The ``gradient-service`` console script: start the app with uvicorn."""

from __future__ import annotations

import argparse

import uvicorn

from service.config import get_settings
from service.logs import uvicorn_log_config


def main(argv: list[str] | None = None) -> None:
    """Parse flags (defaults from the ``GRADIENT_*`` settings) and run uvicorn."""
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="gradient-service", description="Run the gradient service.")
    parser.add_argument("--host", default=settings.host, help=f"bind address (GRADIENT_HOST, default {settings.host})")
    parser.add_argument("--port", type=int, default=settings.port, help=f"port (GRADIENT_PORT, default {settings.port})")
    parser.add_argument(
        "--workers", type=int, default=settings.workers, help=f"worker processes (GRADIENT_WORKERS, default {settings.workers})"
    )
    parser.add_argument("--log-level", default=settings.log_level, help="uvicorn log level")
    args = parser.parse_args(argv)
    uvicorn.run(
        "service.main:app",
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=args.log_level,
        log_config=uvicorn_log_config(args.log_level),
        access_log=False,  # service.middleware.request_id logs each request, with its id
    )


if __name__ == "__main__":
    main()
