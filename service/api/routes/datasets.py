"""POST/GET/DELETE /v1/datasets: x and t stored once per tenant, for training jobs (handlers: service/handlers/datasets.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from service.api import deadline
from service.api.body import body_to_disk, json_bytes
from service.api.gate import gate
from service.api.media import media_type
from service.api.memory import memory
from service.api.parsing import parse_and_free
from service.api.problems import RESOURCE_ERROR_RESPONSES
from service.api.tenant import Tenant
from service.config import get_settings
from service.errors import UnsupportedMediaType
from service.handlers import datasets
from service.jobs.dataset_files import STREAM_MEMORY
from service.schemas.jobs import DatasetIn, DatasetOut
from service.schemas.responses import dump

router = APIRouter(prefix="/v1", tags=["datasets"], responses=RESOURCE_ERROR_RESPONSES)


_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/DatasetIn"}},
            "application/octet-stream": {
                "schema": {
                    "type": "string",
                    "format": "binary",
                    "description": "an .npz (numpy.savez) or safetensors file with arrays x and t",
                }
            },
        },
    }
}
_CREATED: dict[int | str, Any] = {
    201: {"description": "Stored; `Location` is its URL", "model": DatasetOut},
    200: {"description": "The same data was stored before by this tenant: the same dataset", "model": DatasetOut},
}


def _answer(body: dict[str, Any], created: bool) -> Response:
    return Response(
        dump(body), status_code=201 if created else 200, media_type="application/json", headers={"Location": f"/v1/datasets/{body['id']}"}
    )


@router.post(
    "/datasets",
    operation_id="upload_dataset",
    summary="Store a dataset (x and t) once, for training jobs",
    responses=_CREATED,
    openapi_extra=_BODY,
)
async def upload_dataset(request: Request, tenant: Tenant) -> Response:
    """x (one row per point) and t, as JSON (arrays or binary tensors) or an `.npz` / safetensors file as the body.

    Checked (shapes, finite numbers, `max_dataset_rows`, `max_dataset_bytes`, the tenant's quotas `tenant_max_datasets` and
    `tenant_max_dataset_bytes`, and `min_free_disk_bytes`) from the arrays' declared shapes and dtypes, before anything is
    inflated or written; the id is the sha256 of the content, so the same data sent twice by one tenant is one dataset.
    A file body is streamed to disk (up to `max_dataset_body_bytes`), then read a slice at a time.
    """
    media = media_type(request.headers.get("content-type"))
    if media == "application/octet-stream":
        async with body_to_disk(request, get_settings().data_dir / "tmp") as path, gate(path.stat().st_size).slot():
            with memory().hold(STREAM_MEMORY):  # a file of any size is read, checked and written a slice at a time
                return _answer(*await run_in_threadpool(datasets.upload_file, tenant, path))
    if media != "application/json":
        raise UnsupportedMediaType(
            "send the dataset as JSON (application/json) or as an .npz / safetensors file (application/octet-stream)"
        )
    async with json_bytes(request, "max_dataset_body_bytes", "dataset_body_timeout_seconds") as body:

        def upload() -> tuple[dict[str, Any], bool]:
            with deadline.within(get_settings().dataset_body_timeout_seconds):
                return datasets.upload_json(tenant, parse_and_free(body, DatasetIn))

        return _answer(*await run_in_threadpool(upload))


@router.get("/datasets/{dataset_id}", response_model=DatasetOut, operation_id="get_dataset", summary="A dataset's shapes, dtypes and size")
async def get_dataset(tenant: Tenant, dataset_id: str) -> Response:
    """Shapes and dtypes of x and t, bytes stored and when it was stored."""
    return Response(dump(await run_in_threadpool(datasets.get_dataset, tenant, dataset_id)), media_type="application/json")


@router.delete("/datasets/{dataset_id}", status_code=204, operation_id="delete_dataset", summary="Delete a dataset")
async def delete_dataset(tenant: Tenant, dataset_id: str) -> Response:
    """Delete it (409 while a queued or running job trains on it)."""
    await run_in_threadpool(datasets.delete_dataset, tenant, dataset_id)
    return Response(status_code=204)
