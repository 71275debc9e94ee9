"""Each tenant quota, on both backends: the request one over it gets a 429 naming the quota, and the one after a deletion
(or after a job ends) succeeds. Quotas are published at /v1/limits."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pytest

from tests.jobs.conftest import Deployment, deploy, wait_for

pytestmark = pytest.mark.slow

QUOTAS = {
    "GRADIENT_TENANT_MAX_DATASETS": "2",
    "GRADIENT_TENANT_MAX_DATASET_BYTES": "1300",  # a 40-row dataset is 960 bytes as stored, a 10-row one 240
    "GRADIENT_TENANT_MAX_ACTIVE_JOBS": "1",
    "GRADIENT_TENANT_MAX_JOBS": "3",
}
NETWORK = {"layers": [{"weights": [[0.5, -0.4], [0.3, 0.8]], "activation": "tanh"}, {"weights": [[0.7, -0.5]], "activation": "linear"}]}


@pytest.fixture(scope="module", params=["embedded", "redis"])
def d(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    yield from deploy(request, tmp_path_factory, QUOTAS)


def upload(d: Deployment, rows: int, seed: int) -> httpx.Response:
    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    np.savez(buf, x=rng.normal(size=(rows, 2)), t=rng.normal(size=(rows, 1)))
    return httpx.post(f"{d.url}/v1/datasets", content=buf.getvalue(), headers={"Content-Type": "application/octet-stream"}, timeout=30)


def over(r: httpx.Response, quota: str, value: int) -> dict[str, Any]:
    assert r.status_code == 429, r.text
    assert r.headers["content-type"] == "application/problem+json"
    problem = dict(r.json())
    assert problem["type"] == "urn:gradient-service:problem:quota-exceeded"
    assert quota in problem["detail"]
    assert f"{value:,}" in problem["detail"]
    return problem


def test_the_quotas_are_published(d: Deployment) -> None:
    limits = httpx.get(f"{d.url}/v1/limits").json()
    assert {k: str(limits[k.removeprefix("GRADIENT_").lower()]) for k in QUOTAS} == QUOTAS


def test_the_dataset_quotas_count_datasets_and_their_bytes(d: Deployment) -> None:
    big = upload(d, 40, 1)
    assert big.status_code == 201, big.text
    assert big.json()["bytes"] == 960
    small = upload(d, 10, 2)
    assert small.status_code == 201
    problem = over(upload(d, 10, 3), "tenant_max_datasets", 2)
    assert "delete" in problem["detail"]
    assert httpx.delete(f"{d.url}/v1/datasets/{small.json()['id']}").status_code == 204
    over(upload(d, 40, 4), "tenant_max_dataset_bytes", 1300)  # 960 + 960 > 1300
    assert httpx.delete(f"{d.url}/v1/datasets/{big.json()['id']}").status_code == 204
    assert upload(d, 40, 4).status_code == 201  # room again


def test_the_job_quotas_count_active_and_kept_jobs(d: Deployment) -> None:
    dataset = upload(d, 10, 9)
    assert dataset.status_code in (200, 201), dataset.text
    x_t = {"dataset": dataset.json()["id"], "network": NETWORK, "optimizer": {"name": "sgd", "learning_rate": 0.01}, "batch_size": 1}

    def submit(epochs: int) -> httpx.Response:
        return httpx.post(f"{d.url}/v1/trainings", json={**x_t, "epochs": epochs}, timeout=30)

    long = submit(2000)
    assert long.status_code == 202, long.text
    refused = submit(1)
    over(refused, "tenant_max_active_jobs", 1)
    assert int(refused.headers["retry-after"]) >= 1  # waiting frees a place
    httpx.post(f"{d.url}/v1/trainings/{long.json()['id']}/cancel")
    wait_for(f"{d.url}/v1/trainings/{long.json()['id']}", lambda j: j["state"] == "cancelled", what="cancelled")
    for _ in range(2):
        short = submit(1)
        assert short.status_code == 202, short.text
        wait_for(f"{d.url}/v1/trainings/{short.json()['id']}", lambda j: j["state"] == "succeeded", what="short job")
    kept = submit(1)
    over(kept, "tenant_max_jobs", 3)  # three kept: the cancelled one and two that succeeded
    assert "retry-after" not in kept.headers  # waiting does not free this one (until they expire): deleting does
    assert httpx.delete(f"{d.url}/v1/trainings/{long.json()['id']}").status_code == 204
    assert submit(1).status_code == 202
