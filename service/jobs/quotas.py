"""A tenant's quotas, checked by the stores inside the transaction that would cross them (so replicas agree).

Each quota is a setting (``tenant_max_*``, published at ``GET /v1/limits``); over one, a
:class:`~service.errors.QuotaExceeded` (429) names it, its value, what the tenant keeps and what frees it,
and says how long to wait where waiting helps (a job that ends frees an active-job place).
"""

from __future__ import annotations

from service.config import Settings
from service.errors import QuotaExceeded
from service.jobs.records import Quotas, Usage

#: Seconds a tenant at its active-jobs quota is told to wait before it submits again.
ACTIVE_RETRY_SECONDS = 30


def quotas(settings: Settings) -> Quotas:
    """This server's per-tenant quotas."""
    return Quotas(
        settings.tenant_max_datasets, settings.tenant_max_dataset_bytes, settings.tenant_max_active_jobs, settings.tenant_max_jobs
    )


def _over(quota: str, value: int, keeps: str, frees: str, retry_after: float | None = None) -> QuotaExceeded:
    detail = f"the quota {quota} is {value:,}: this tenant {keeps}; {frees}"
    return QuotaExceeded(detail, [("", detail)], quota=quota, retry_after=retry_after)


def _check(over: list[tuple[bool, str, int, str, str, float | None]]) -> None:
    """The first of (crossed, quota, value, what the tenant keeps, what frees it, Retry-After) that is crossed, as a 429."""
    for crossed, quota, value, keeps, frees, retry_after in over:
        if crossed:
            raise _over(quota, value, keeps, frees, retry_after)


def check_dataset_quotas(usage: Usage, quotas: Quotas, new_bytes: int) -> None:
    """429 if one more dataset of ``new_bytes`` stored bytes would cross the tenant's dataset quotas."""
    _check(
        [
            (
                usage.datasets + 1 > quotas.max_datasets,
                "tenant_max_datasets",
                quotas.max_datasets,
                f"keeps {usage.datasets:,} datasets",
                "delete one (DELETE /v1/datasets/{id}) first",
                None,
            ),
            (
                usage.dataset_bytes + new_bytes > quotas.max_dataset_bytes,
                "tenant_max_dataset_bytes",
                quotas.max_dataset_bytes,
                f"keeps {usage.dataset_bytes:,} bytes of datasets and this one needs {new_bytes:,}",
                "delete datasets (DELETE /v1/datasets/{id}) to make room",
                None,
            ),
        ]
    )


def check_job_quotas(usage: Usage, quotas: Quotas) -> None:
    """429 if one more job would cross the tenant's job quotas."""
    _check(
        [
            (
                usage.active_jobs + 1 > quotas.max_active_jobs,
                "tenant_max_active_jobs",
                quotas.max_active_jobs,
                f"has {usage.active_jobs:,} jobs queued or running",
                "wait for one to end, or cancel one (POST /v1/trainings/{id}/cancel)",
                ACTIVE_RETRY_SECONDS,
            ),
            (
                usage.jobs + 1 > quotas.max_jobs,
                "tenant_max_jobs",
                quotas.max_jobs,
                f"keeps {usage.jobs:,} jobs (finished ones included)",
                "delete finished ones (DELETE /v1/trainings/{id}); they also expire job_retention_seconds after they end",
                None,
            ),
        ]
    )
