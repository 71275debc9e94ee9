"""The ``gradient-service`` console script: serve the app with uvicorn, run training-job workers, hash API keys.

    gradient-service [--host H] [--port P] [--workers N] [--blas-threads N] [--log-level L]
    gradient-service worker
    gradient-service keys hash TENANT        (the key on stdin)

Every setting is an environment variable ``GRADIENT_<NAME>``; ``--help`` lists them all (from service/config.py).
"""

from __future__ import annotations

import argparse
import logging.config
import os
import signal
import sys
import tempfile
import threading
from contextlib import ExitStack
from pathlib import Path

import uvicorn

from service import children
from service.config import Settings, available_cpus, get_settings, settings_help
from service.errors import BackendUnavailable
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


def parser(settings: Settings) -> argparse.ArgumentParser:
    """The command line: serving flags (defaults from the settings), the ``worker`` and ``keys`` subcommands."""
    p = argparse.ArgumentParser(
        prog="gradient-service",
        description="Serve the gradient service (the default), run training-job workers, or hash API keys.",
        epilog=settings_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--host", default=settings.host, help=f"bind address (GRADIENT_HOST, default {settings.host})")
    p.add_argument("--port", type=int, default=settings.port, help=f"port (GRADIENT_PORT, default {settings.port})")
    p.add_argument(
        "--workers",
        type=int,
        default=settings.workers,
        help=f"web worker processes (GRADIENT_WORKERS, default {settings.workers}: 1 per CPU)",
    )
    p.add_argument(
        "--blas-threads",
        type=int,
        default=settings.blas_threads,
        help="BLAS threads per worker (GRADIENT_BLAS_THREADS; default 0: CPUs ÷ workers)",
    )
    p.add_argument("--log-level", default=settings.log_level, help=f"log level (GRADIENT_LOG_LEVEL, default {settings.log_level})")
    sub = p.add_subparsers(dest="command", metavar="{worker,keys}")
    sub.add_parser(
        "worker",
        help="run training jobs from the job backend until SIGTERM or SIGINT",
        description="Run training jobs from the job backend (GRADIENT_JOBS_BACKEND) until SIGTERM or SIGINT.",
        epilog=settings_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    keys = sub.add_parser("keys", help="API keys for GRADIENT_API_KEYS_FILE", description="API keys for GRADIENT_API_KEYS_FILE.")
    hash_ = keys.add_subparsers(dest="keys_command", metavar="{hash}", required=True).add_parser(
        "hash",
        help="print the keys file's line for a key read from stdin",
        description="Read a key from stdin and print its line for GRADIENT_API_KEYS_FILE: `TENANT SHA256HEX`. Only the hash is printed.",
    )
    hash_.add_argument("tenant", help="the tenant the key belongs to (letters, digits, '.', '_', '-')")
    return p


def main(argv: list[str] | None = None, app: str = "service.main:app") -> None:
    """Parse the command line and run what it asks for (serving, by default)."""
    settings = get_settings()
    args = parser(settings).parse_args(sys.argv[1:] if argv is None else argv)
    if args.command == "keys":
        _hash_key(args.tenant)
    elif args.command == "worker":
        _worker(settings)
    else:
        _serve(settings, args, app)


def _hash_key(tenant: str) -> None:
    from service.tenants import line_for

    key = sys.stdin.readline().rstrip("\r\n")
    if not key:
        sys.exit('gradient-service keys hash: no key on stdin (e.g. `printf %s "$KEY" | gradient-service keys hash alice`)')
    try:
        print(line_for(tenant, key))
    except ValueError as exc:
        sys.exit(f"gradient-service keys hash: {exc}")


def _worker(settings: Settings) -> None:
    """``gradient-service worker``: run training jobs until SIGTERM or SIGINT (the step in progress ends, and is checkpointed)."""
    children.watch_parent()
    logging.config.dictConfig(uvicorn_log_config(settings.log_level))
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    from service.handlers.jobs import prepare
    from service.jobs.backend import get_backend
    from service.jobs.worker import Worker

    Worker(get_backend(), prepare, stopping).serve()


def _serve(settings: Settings, args: argparse.Namespace, app: str) -> None:
    """uvicorn with ``app``; on the embedded backend, also the data dir's lock, its cleaning, and ``job_workers`` job workers."""
    from service.jobs.backend import make_backend
    from service.jobs.cleanup import sweep
    from service.jobs.lock import DataDirInUse, owning
    from service.jobs.supervisor import Supervisor

    children.watch_parent()
    workers = args.workers or available_cpus()
    limit_blas_threads(workers, args.blas_threads)
    logging.config.dictConfig(uvicorn_log_config(args.log_level))
    backend = make_backend(settings)
    with ExitStack() as stack:
        if backend.exclusive:
            try:
                stack.enter_context(owning(settings.data_dir))
            except DataDirInUse as exc:
                sys.exit(f"gradient-service: {exc}")
        try:
            sweep(backend, 0.0 if backend.exclusive else settings.dataset_body_timeout_seconds)
        except BackendUnavailable as exc:  # a shared data dir is also swept by the workers, later
            logging.getLogger("service.jobs").warning("the data dir was not swept at start: %s", exc)
        _metrics_dir(workers, stack)
        if backend.exclusive and settings.job_workers:
            stack.enter_context(Supervisor(settings.job_workers, backend.store))
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
