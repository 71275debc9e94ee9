"""The ``gradient-service`` console script: start the app with uvicorn."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

import uvicorn

from service.config import available_cpus, get_settings
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


#: What OpenBLAS, OpenMP and MKL read for their thread count when NumPy loads them.
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def limit_blas_threads(workers: int, blas_threads: int) -> None:
    """Let the workers' BLAS threads share the CPUs instead of each worker taking them all.

    ``workers × threads > CPUs`` makes OpenBLAS's threads wait on each other: on 2
    CPUs with 2 workers, a 784-512-512-10 batch took ~7× longer with 2 threads per
    worker than with 1. Set in the environment before the workers import NumPy; an
    explicit ``blas_threads`` (not 0) wins, otherwise a variable already set by the operator does.
    """
    threads = str(blas_threads or max(1, available_cpus() // workers))
    for name in BLAS_THREAD_VARIABLES:
        if blas_threads:
            os.environ[name] = threads
        else:
            os.environ.setdefault(name, threads)


def main(argv: list[str] | None = None, app: str = "service.main:app") -> None:
    """Parse flags (defaults from the ``GRADIENT_*`` settings) and run uvicorn with ``app``; ``worker``: run training jobs instead.

    With the embedded job backend, ``job_workers`` worker processes run beside uvicorn (see
    :mod:`service.jobs.supervisor`), so this one command serves everything.
    """
    settings = get_settings()
    args_list = sys.argv[1:] if argv is None else argv
    if args_list[:1] == ["worker"]:
        from service.jobs.backend import main as worker_main

        worker_main()
        return
    parser = argparse.ArgumentParser(prog="gradient-service", description="Run the gradient service.")
    parser.add_argument("--host", default=settings.host, help=f"bind address (GRADIENT_HOST, default {settings.host})")
    parser.add_argument("--port", type=int, default=settings.port, help=f"port (GRADIENT_PORT, default {settings.port})")
    parser.add_argument(
        "--workers", type=int, default=settings.workers, help=f"worker processes (GRADIENT_WORKERS, default {settings.workers}: 1 per CPU)"
    )
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=settings.blas_threads,
        help="BLAS threads per worker (GRADIENT_BLAS_THREADS; default 0: CPUs ÷ workers)",
    )
    parser.add_argument("--log-level", default=settings.log_level, help="uvicorn log level")
    args = parser.parse_args(args_list)
    workers = args.workers or available_cpus()
    limit_blas_threads(workers, args.blas_threads)
    with ExitStack() as stack:
        _metrics_dir(workers, stack)
        if settings.jobs_backend == "embedded" and settings.job_workers:
            from service.jobs.supervisor import Supervisor

            stack.enter_context(Supervisor(settings.job_workers))
        uvicorn.run(
            app,
            host=args.host,
            port=args.port,
            workers=workers,
            log_level=args.log_level,
            log_config=uvicorn_log_config(args.log_level),
            access_log=False,  # service.middleware.request_id logs each request, with its id
            timeout_graceful_shutdown=settings.graceful_timeout_seconds,
        )


if __name__ == "__main__":
    main()
