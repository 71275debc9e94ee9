"""/v1/datasets: store x and t once (JSON, or an .npz / safetensors file streamed to disk), read their metadata, delete them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from service.errors import Conflict, pointer
from service.jobs.backend import get_backend
from service.schemas.trainings import DatasetIn


def upload_json(req: DatasetIn) -> tuple[dict[str, Any], bool]:
    """Store the dataset of a JSON body; its metadata, and whether it is new."""
    info, created = get_backend().datasets.put(req.x, req.t)
    return info.body(), created


def upload_file(path: Path) -> tuple[dict[str, Any], bool]:
    """Store the arrays x and t of an .npz or safetensors file; its metadata, and whether it is new."""
    info, created = get_backend().datasets.put_file(path)
    return info.body(), created


def get_dataset(dataset_id: str) -> dict[str, Any]:
    """The dataset's shapes, dtypes, bytes and creation time."""
    return get_backend().datasets.info(dataset_id).body()


def delete_dataset(dataset_id: str) -> None:
    """Delete the dataset, unless a queued or running job trains on it (409)."""
    backend = get_backend()
    backend.datasets.info(dataset_id)
    if backend.store.uses_dataset(dataset_id):
        detail = "a queued or running training job uses this dataset; cancel it (or let it finish) first"
        raise Conflict(detail, [(pointer("dataset"), detail)])
    backend.datasets.delete(dataset_id)
