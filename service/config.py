"""Settings, read from the environment (prefix ``GRADIENT_``) once at start-up."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from service.interop.convert import DEFAULT_MAX_UNCOMPRESSED_BYTES


def available_cpus() -> int:
    """The CPUs this process may run on (its affinity mask, which containers and taskset narrow)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


#: What an idle worker holds (measured ~75 MiB) and room for its Python heap, left out of the default memory budget.
WORKER_BASE_BYTES = 256 * 1024 * 1024

_CGROUP_LIMITS = (Path("/sys/fs/cgroup/memory.max"), Path("/sys/fs/cgroup/memory/memory.limit_in_bytes"))


def cgroup_memory_limit() -> int | None:
    """The memory limit of this process's cgroup (v2, else v1), or None where there is none."""
    for path in _CGROUP_LIMITS:
        try:
            text = path.read_text().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < 1 << 60:  # v1 writes "no limit" as a huge number, v2 as "max"
            return int(text)
    return None


class Settings(BaseSettings):
    """Every setting the service reads; each is ``GRADIENT_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="GRADIENT_", extra="ignore")

    host: str = Field("127.0.0.1", description="address the console script binds")
    port: int = Field(8000, ge=1, le=65535, description="port the console script binds")
    workers: int = Field(0, ge=0, description="uvicorn worker processes; 0: one per CPU")
    blas_threads: int = Field(
        0,
        ge=0,
        description="BLAS threads per worker; 0: CPUs ÷ workers, at least 1. Sets `OPENBLAS_NUM_THREADS`, `OMP_NUM_THREADS` and "
        "`MKL_NUM_THREADS`; with 0 an operator's own setting of those wins",
    )
    log_level: str = Field("info", description="uvicorn log level")
    max_body_bytes: int = Field(32 * 1024 * 1024, ge=1024, description="request body, in bytes, also after gzip decoding (413 above)")
    drain_seconds: float = Field(2.0, ge=0, description="after SIGTERM, seconds /readyz answers 503 while requests are still served")
    graceful_timeout_seconds: int = Field(30, ge=0, description="after the drain, seconds in-flight requests get to finish")

    # Limits on what a request may ask the engine to do (422 above; see service/limits.py).
    # The defaults serve a 784-512-512-10 network (669,706 parameters) with a batch of 256.
    max_layers: int = Field(64, ge=1, description="layers in a network")
    max_units_per_layer: int = Field(4096, ge=1, description="inputs or outputs of one layer (columns or rows of its weights)")
    max_parameters: int = Field(1 << 20, ge=1, description="weights and biases of a network, in total")
    max_batch_rows: int = Field(1024, ge=1, description="data points (rows of x) in one request")
    max_batch_parameters: int = Field(1 << 28, ge=1, description="rows of x times parameters: the compute budget of one pass")
    max_extra_values: int = Field(
        1 << 22, ge=1, description="numbers one opt-in extra of /v1/backward may return (per-example gradients, input Jacobian)"
    )
    max_train_steps: int = Field(1000, ge=1, description="optimizer steps one training request may take")
    max_init_parameters: int = Field(1_000_000, ge=1, description="weights and biases of a network drawn by /v1/networks/init")
    max_gradcheck_entries: int = Field(
        20_000, ge=1, description="weights, biases and inputs /v1/gradcheck perturbs (two evaluations of E each)"
    )
    max_gradcheck_work: int = Field(
        500_000_000, ge=1, description="multiply-adds of one /v1/gradcheck: entries × rows × weights, an upper bound on its cost"
    )
    max_explain_steps: int = Field(
        1794,
        ge=1,
        description="steps one explanation may have (422 above, naming the filters that bring it down); "
        "1794 is a 16-16-16-16 network with biases, one data point and an optimizer step (service.engine.explain.count_steps)",
    )
    max_diagram_bytes: int = Field(
        2_000_000,
        ge=10_000,
        description="estimated size of one diagram's SVG (422 above; service.diagram.fits): layers over 16 neurons are summarized, "
        "so this bounds the number of layers and the edges drawn",
    )
    max_import_uncompressed_bytes: int = Field(
        DEFAULT_MAX_UNCOMPRESSED_BYTES,
        ge=1024,
        description="bytes an imported archive (a .keras zip) may unpack to in all; a zip bomb is refused there (422)",
    )

    # Slow and heavy clients (service/api/body.py, service/api/memory.py).
    body_timeout_seconds: float = Field(
        10.0, gt=0, description="time a request's body may take to arrive, from its first byte on (408 and the connection closed after)"
    )
    max_receiving_bytes: int = Field(
        64 * 1024 * 1024,
        ge=1024,
        description="bytes of bodies larger than small_body_bytes being received at once per worker (declared lengths); "
        "beyond, a large body waits for room, so slow senders queue behind each other and never hold a computation slot",
    )
    memory_budget_bytes: int = Field(
        0,
        ge=0,
        description="memory the computations of one worker may use at once, by their estimated peak (503 with Retry-After when full, "
        "413 for a request that could never fit); 0: the cgroup's memory limit (else half the machine's memory) ÷ workers, less 256 MiB",
    )

    # Time and concurrency (service/api/gate.py, service/api/deadline.py).
    max_compute_seconds: float = Field(30.0, gt=0, description="time one computation may run (504 after; the computation stops)")
    max_concurrent_computations: int = Field(
        2,
        ge=1,
        description="computations running at once per worker process, in each of two lanes (bodies up to small_body_bytes, and larger)",
    )
    max_queued_computations: int = Field(64, ge=0, description="computations waiting for a slot, per lane (503 with Retry-After beyond)")
    small_body_bytes: int = Field(
        64 * 1024,
        ge=0,
        description="bodies up to this size take the small lane of computation slots, so they never queue behind large ones",
    )
    inline_max_body_bytes: int = Field(
        512,
        ge=0,
        description="bodies up to this size are computed on the event loop (their whole work costs about what a hand-off "
        "to a worker thread does); larger ones in a worker thread",
    )

    # Datasets and training jobs (service/jobs/).
    data_dir: Path = Field(
        Path("gradient-data"),
        description="where datasets, checkpoints and the embedded job store live (relative: to the working directory)",
    )
    jobs_backend: Literal["embedded", "redis"] = Field(
        "embedded",
        description="embedded: SQLite and files under data_dir, worker processes started by gradient-service itself; "
        "redis: job state in Redis, the queue a Dramatiq Redis broker, workers are `gradient-service worker` processes",
    )
    redis_url: str = Field("redis://127.0.0.1:6379/0", description="the Redis server of the redis backend")
    job_workers: int = Field(
        1,
        ge=0,
        description="training-job worker processes gradient-service starts beside the web workers (0: none, run `gradient-service worker`)",
    )
    max_dataset_body_bytes: int = Field(
        2 * 1024 * 1024 * 1024,
        ge=1024,
        description="body of POST /v1/datasets, in bytes (413 above); a file body is streamed to disk, a JSON one held as one body",
    )
    dataset_body_timeout_seconds: float = Field(
        600.0, gt=0, description="time the body of POST /v1/datasets may take to arrive (408 after)"
    )
    max_dataset_rows: int = Field(10_000_000, ge=1, description="data points (rows of x) of one dataset")
    max_dataset_bytes: int = Field(2 * 1024 * 1024 * 1024, ge=1024, description="bytes of a dataset's arrays x and t together, as stored")
    max_job_steps: int = Field(10_000_000, ge=1, description="optimizer steps one training job may take (/v1/train: max_train_steps)")
    max_job_seconds: float = Field(
        7 * 24 * 3600.0, gt=0, description="compute time one training job may take, over all its attempts (it fails with a timeout after)"
    )
    job_retention_seconds: float = Field(
        7 * 24 * 3600.0,
        gt=0,
        description="a finished job (succeeded, failed, cancelled) and its result are deleted this long after it ends",
    )
    job_checkpoint_steps: int = Field(
        500, ge=1, description="a running job checkpoints (network, optimizer state, RNG, step) every this many steps"
    )
    job_checkpoint_seconds: float = Field(10.0, gt=0, description="… and at least this often, in seconds")
    job_lease_seconds: float = Field(
        15.0,
        gt=0,
        description="a worker renews its lease on a job every third of this; a job whose lease ran out is resumed by another worker",
    )

    # Tenants: what one tenant may keep (service/jobs/quotas.py), and what the disk must keep free (service/jobs/files.py).
    tenant_max_datasets: int = Field(1000, ge=0, description="datasets one tenant may keep (429 above: delete one)")
    tenant_max_dataset_bytes: int = Field(
        8 * 1024 * 1024 * 1024, ge=0, description="bytes of all of one tenant's datasets, as stored (429 above: delete some)"
    )
    tenant_max_active_jobs: int = Field(32, ge=0, description="training jobs of one tenant queued or running at once (429 above: wait)")
    tenant_max_jobs: int = Field(
        10_000, ge=0, description="training jobs one tenant may keep, finished ones included (429 above: delete some, or let them expire)"
    )
    min_free_disk_bytes: int = Field(
        1024 * 1024 * 1024,
        ge=0,
        description="bytes that must stay free on the data dir's disk: an upload or a job that would leave less gets 507",
    )

    # Access (service/middleware/, service/tenants.py).
    api_keys: SecretStr = Field(
        SecretStr(""),
        description="comma-separated API keys, each its own tenant (named by its SHA-256's first 12 hex digits); with keys (here or "
        "in api_keys_file), `/v1/*` needs `Authorization: Bearer <key>` or `X-API-Key` (401); probes, `/metrics`, the docs and "
        "`/learn` stay open",
    )
    api_keys_file: Path | None = Field(
        None,
        description="a file of lines `TENANT SHA256HEX` (a tenant and the SHA-256 of one of its keys; several lines per tenant "
        "rotate keys; # comments), re-read within seconds when it changes; `gradient-service keys hash TENANT` prints a line",
    )
    cors_origins: str = Field("", description="comma-separated origins allowed by CORS; empty: CORS off")

    def memory_budget(self) -> int:
        """``memory_budget_bytes``, or else the cgroup's memory limit (else half the machine's memory) ÷ workers,
        less what an idle worker holds (at least 64 MiB)."""
        if self.memory_budget_bytes:
            return self.memory_budget_bytes
        total = cgroup_memory_limit() or os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
        return max(64 * 1024 * 1024, total // (self.workers or available_cpus()) - WORKER_BASE_BYTES)

    def api_key_list(self) -> list[str]:
        """The configured API keys (none: access is open)."""
        return _split(self.api_keys.get_secret_value())

    def cors_origin_list(self) -> list[str]:
        """The origins CORS allows (none: no CORS headers)."""
        return _split(self.cors_origins)


def setting_rows() -> list[tuple[str, str, str]]:
    """Every setting as (environment variable, default, meaning), in the order Settings declares them."""
    rows = []
    for name, info in Settings.model_fields.items():
        default = info.default.get_secret_value() if isinstance(info.default, SecretStr) else info.default
        shown = "unset" if default is None else "empty" if default == "" else str(default)
        rows.append((f"GRADIENT_{name.upper()}", shown, info.description or ""))
    return rows


def settings_table() -> str:
    """The settings as the README's Configuration table (Markdown)."""
    rows = [
        f"| `{variable}` | {'`' + default + '`' if default not in ('unset', 'empty') else default} | {meaning} |"
        for variable, default, meaning in setting_rows()
    ]
    return "\n".join(["| variable | default | meaning |", "|---|---|---|", *rows])


def settings_help() -> str:
    """The settings as the console script's ``--help`` lists them."""
    lines = ["settings (environment variables; a flag above wins over its variable):"]
    for variable, default, meaning in setting_rows():
        lines += [f"  {variable}  (default: {default})", f"      {meaning}"]
    return "\n".join(lines)


def _split(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


@lru_cache
def get_settings() -> Settings:
    """The settings of this process."""
    return Settings()


if __name__ == "__main__":  # python -m service.config: the README's Configuration table
    print(settings_table())
