"""/v1/datasets: store x and t once per tenant (JSON, or an .npz / safetensors file streamed to disk), read their metadata, delete them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from service.errors import Conflict, no_such_dataset, pointer
from service.jobs.backend import get_backend
from service.jobs.records import DatasetRecord
from service.schemas.jobs import DatasetIn


def dataset_body(record: DatasetRecord) -> dict[str, Any]:
    """A dataset on the wire."""
    return {
        "id": record.id,
        "x": {"shape": record.x_shape, "dtype": record.x_dtype},
        "t": {"shape": record.t_shape, "dtype": record.t_dtype},
        "bytes": record.bytes,
        "created": record.created,
    }


def upload_json(tenant: str, req: DatasetIn) -> tuple[dict[str, Any], bool]:
    """Store the dataset of a JSON body; its metadata, and whether it is new (to this tenant)."""
    record, created = get_backend().datasets.put_arrays(tenant, req.x, req.t)
    return dataset_body(record), created


def upload_file(tenant: str, path: Path) -> tuple[dict[str, Any], bool]:
    """Store the arrays x and t of an .npz or safetensors file; its metadata, and whether it is new (to this tenant)."""
    record, created = get_backend().datasets.put_file(tenant, path)
    return dataset_body(record), created


def get_dataset(tenant: str, dataset_id: str) -> dict[str, Any]:
    """The dataset's shapes, dtypes, bytes and creation time."""
    return dataset_body(get_backend().datasets.info(tenant, dataset_id))


def delete_dataset(tenant: str, dataset_id: str) -> None:
    """Delete the dataset, unless a queued or running job trains on it (409)."""
    removal = get_backend().datasets.delete(tenant, dataset_id)
    if removal == "missing":
        raise no_such_dataset()
    if removal == "in_use":
        detail = "a queued or running training job uses this dataset; cancel it (or let it finish) first"
        raise Conflict(detail, [(pointer("dataset"), detail)])
