"""The ``gradient-service`` console script: start the app with uvicorn."""

from __future__ import annotations

import argparse
import os

import uvicorn

from service.config import available_cpus, get_settings

#: What OpenBLAS, OpenMP and MKL read for their thread count when NumPy loads them.
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def limit_blas_threads(workers: int, blas_threads: int | None) -> None:
    """Let the workers' BLAS threads share the CPUs instead of each worker taking them all.

    ``workers × threads > CPUs`` makes OpenBLAS's threads wait on each other: on 2
    CPUs with 2 workers, a 784-512-512-10 batch took ~7× longer with 2 threads per
    worker than with 1. Set in the environment before the workers import NumPy; an
    explicit ``blas_threads`` wins, otherwise a variable already set by the operator does.
    """
    threads = str(blas_threads or max(1, available_cpus() // workers))
    for name in BLAS_THREAD_VARIABLES:
        if blas_threads is not None:
            os.environ[name] = threads
        else:
            os.environ.setdefault(name, threads)


def main(argv: list[str] | None = None, app: str = "service.main:app") -> None:
    """Parse flags (defaults from the ``GRADIENT_*`` settings) and run uvicorn with ``app``."""
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="gradient-service", description="Run the gradient service.")
    parser.add_argument("--host", default=settings.host, help=f"bind address (GRADIENT_HOST, default {settings.host})")
    parser.add_argument("--port", type=int, default=settings.port, help=f"port (GRADIENT_PORT, default {settings.port})")
    parser.add_argument(
        "--workers", type=int, default=settings.workers, help=f"worker processes (GRADIENT_WORKERS, default {settings.workers})"
    )
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=settings.blas_threads,
        help="BLAS threads per worker (GRADIENT_BLAS_THREADS; default CPUs ÷ workers)",
    )
    parser.add_argument("--log-level", default=settings.log_level, help="uvicorn log level")
    args = parser.parse_args(argv)
    limit_blas_threads(args.workers, args.blas_threads)
    uvicorn.run(app, host=args.host, port=args.port, workers=args.workers, log_level=args.log_level)


if __name__ == "__main__":
    main()
