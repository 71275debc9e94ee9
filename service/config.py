"""Settings, read from the environment (prefix ``GRADIENT_``) once at start-up."""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def available_cpus() -> int:
    """The CPUs this process may run on (its affinity mask, which containers and taskset narrow)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class Settings(BaseSettings):
    """Every setting the service reads; each is ``GRADIENT_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="GRADIENT_", extra="ignore")

    host: str = Field("127.0.0.1", description="address the console script binds")
    port: int = Field(8000, ge=1, le=65535, description="port the console script binds")
    workers: int = Field(0, ge=0, description="uvicorn worker processes; 0: one per CPU")
    blas_threads: int = Field(0, ge=0, description="BLAS threads per worker; 0: CPUs ÷ workers, at least 1")
    log_level: str = Field("info", description="uvicorn log level")
    max_body_bytes: int = Field(32 * 1024 * 1024, ge=1024, description="largest request body accepted (413 above)")
    drain_seconds: float = Field(2.0, ge=0, description="after SIGTERM, seconds /readyz answers 503 while requests are still served")
    graceful_timeout_seconds: int = Field(30, ge=0, description="after the drain, seconds in-flight requests get to finish")


@lru_cache
def get_settings() -> Settings:
    """The settings of this process."""
    return Settings()
