"""The ``gradient-service`` console script: start the app with uvicorn."""

from __future__ import annotations

import argparse
import os
import tempfile
from contextlib import ExitStack
from pathlib import Path

import uvicorn

from service.config import get_settings
from service.logs import uvicorn_log_config
from service.metrics import MULTIPROC_ENV


def _metrics_dir(workers: int, stack: ExitStack) -> None:
    """Give prometheus_client one directory that every worker writes its samples to.

    An operator's ``PROMETHEUS_MULTIPROC_DIR`` is emptied of an earlier run's files; with
    several workers and none set, a temporary directory is made and removed at exit.
    """
    configured = os.environ.get(MULTIPROC_ENV)
    if configured:
        for stale in Path(configured).glob("*.db"):
            stale.unlink()
    elif workers > 1:
        os.environ[MULTIPROC_ENV] = stack.enter_context(tempfile.TemporaryDirectory(prefix="gradient-metrics-"))


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
    with ExitStack() as stack:
        _metrics_dir(args.workers, stack)
        uvicorn.run(
            "service.main:app",
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_level=args.log_level,
            log_config=uvicorn_log_config(args.log_level),
            access_log=False,  # service.middleware.request_id logs each request, with its id
            timeout_graceful_shutdown=settings.graceful_timeout_seconds,
        )


if __name__ == "__main__":
    main()
