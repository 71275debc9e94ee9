"""Datasets: x and t stored once per tenant under ``<data_dir>/datasets/<tenant>/<id>/`` as ``.npy`` files, the id their content hash.

The size a dataset will take once stored is known before anything is written (the arrays' shapes, or a
file's headers: :mod:`service.jobs.dataset_files`) and checked against the limits, the tenant's quotas and
the disk reserve. Then the arrays are checked (finite numbers), hashed and written a slice at a time
into a temporary folder that is renamed into place, and the record goes to the store, which checks the
quotas again in its transaction (replicas agree). A training job maps the files back
(``np.load(mmap_mode="r")``), so a worker reads the rows of each batch from the page cache.
No HTTP here: the route streams a file body to disk and hands over its path.
"""

from __future__ import annotations

import functools
import hashlib
import math
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from service.config import Settings
from service.engine.arrays import Array
from service.errors import InsufficientStorage, invalid, no_such_dataset, pointer
from service.jobs.dataset_files import SLICE_BYTES, open_arrays, stored_dtype
from service.jobs.files import check_room, full, is_full, remove_tree, temporary_name
from service.jobs.quotas import check_dataset_quotas, quotas
from service.jobs.records import DatasetRecord
from service.jobs.store import Store
from service.limits import exceeded

_HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True)
class Source:
    """One array to store: its name, shape and stored dtype, and its rows as slices of the stored dtype."""

    name: str
    shape: tuple[int, ...]
    dtype: np.dtype[Any]
    slices: Callable[[int], Iterator[np.ndarray[Any, Any]]]

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize


def _in_memory(name: str, a: np.ndarray[Any, Any]) -> Source:
    if a.dtype.kind not in "fiub":
        raise invalid([(pointer(name), f"has dtype {a.dtype}; send float32 or float64 numbers")])
    dtype = stored_dtype(a.dtype)

    def slices(rows: int) -> Iterator[np.ndarray[Any, Any]]:
        for i in range(0, max(1, a.shape[0] if a.ndim else 1), rows):
            yield np.ascontiguousarray(a[i : i + rows], dtype=dtype)

    return Source(name, tuple(a.shape), dtype, slices)


def content_id(parts: Iterator[tuple[Source, np.ndarray[Any, Any]]]) -> str:
    """sha256 of the dtypes, shapes and little-endian bytes of x and t: the same data is the same dataset (within a tenant)."""
    digest = hashlib.sha256()
    current: Source | None = None
    for source, part in parts:
        if source is not current:
            digest.update(f"{source.dtype.str}{list(source.shape)};".encode())
            current = source
        digest.update(part.tobytes())
    return digest.hexdigest()


class Datasets:
    """The datasets of every tenant under ``root`` (``<data_dir>/datasets``), their records in ``store``."""

    def __init__(self, root: Path, store: Store, settings: Settings) -> None:
        self.root = root
        self.store = store
        self.settings = settings

    def _dir(self, tenant: str, dataset_id: str) -> Path:
        if not (len(dataset_id) == 64 and _HEX.issuperset(dataset_id)):
            raise no_such_dataset()
        return self.root / tenant / dataset_id

    # storing --------------------------------------------------------------------------------------------------
    def put_arrays(self, tenant: str, x: np.ndarray[Any, Any], t: np.ndarray[Any, Any]) -> tuple[DatasetRecord, bool]:
        """Check and store x and t (held in memory: a JSON body); the dataset, and whether it is new."""
        return self._put(tenant, [_in_memory("x", x), _in_memory("t", t)])

    def put_file(self, tenant: str, path: Path) -> tuple[DatasetRecord, bool]:
        """:meth:`put_arrays` for the arrays x and t of an ``.npz`` or safetensors file, read a slice at a time."""
        with ExitStack() as stack:
            arrays = open_arrays(path, stack)
            sources = [Source(m.name, m.shape, m.stored, functools.partial(arrays.slices, m.name)) for m in arrays.members.values()]
            return self._put(tenant, sources)

    def _put(self, tenant: str, sources: list[Source]) -> tuple[DatasetRecord, bool]:
        x, t = sources
        size = self._check(x, t)
        limits = quotas(self.settings)
        check_dataset_quotas(self.store.usage(tenant), limits, size)  # before anything is written (the store checks again)
        check_room(self.root, size, self.settings.min_free_disk_bytes)
        home = self.root / tenant
        home.mkdir(parents=True, exist_ok=True)
        tmp = home / temporary_name(".new-")
        tmp.mkdir()
        try:
            dataset_id = self._write(tmp, x, t)
            existing = self.store.dataset(tenant, dataset_id)
            if existing is not None:
                return existing, False
            final = home / dataset_id
            if final.exists():  # a folder whose record never came (a crash in between), or another upload's just now
                remove_tree(final)
            tmp.rename(final)
            record = DatasetRecord(dataset_id, tenant, list(x.shape), str(x.dtype), list(t.shape), str(t.dtype), size, time.time())
            try:
                return self.store.add_dataset(record, limits)
            except BaseException:
                if self.store.dataset(tenant, dataset_id) is None:
                    remove_tree(final)
                raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def _check(self, x: Source, t: Source) -> int:
        """The stored bytes of x (N × M) and t (N × K, or N class indices), after checking their shapes and the dataset limits."""
        s = self.settings
        if len(x.shape) != 2 or x.shape[0] == 0 or x.shape[1] == 0:
            raise invalid([(pointer("x"), f"must be a matrix with one row per point (found shape {list(x.shape)})")])
        if len(t.shape) not in (1, 2) or t.shape[0] != x.shape[0] or 0 in t.shape:
            raise invalid(
                [(pointer("t"), f"must have one row (or one class index) per row of x: {x.shape[0]} (found shape {list(t.shape)})")]
            )
        for source in (x, t):
            width = source.shape[1] if len(source.shape) == 2 else 1
            if width > s.max_units_per_layer:
                raise exceeded(
                    [
                        (
                            pointer(source.name),
                            f"columns: {width:,}; the limit max_units_per_layer is {s.max_units_per_layer:,} (no network takes more)",
                        )
                    ]
                )
        if x.shape[0] > s.max_dataset_rows:
            raise exceeded([(pointer("x"), f"rows (data points): {x.shape[0]:,}; the limit max_dataset_rows is {s.max_dataset_rows:,}")])
        size = x.nbytes + t.nbytes
        if size > s.max_dataset_bytes:
            raise exceeded([("", f"bytes of x and t as stored: {size:,}; the limit max_dataset_bytes is {s.max_dataset_bytes:,}")])
        return size

    def _write(self, folder: Path, x: Source, t: Source) -> str:
        """Write x.npy and t.npy into ``folder`` a slice at a time, checking every number is finite; their content id."""

        def parts() -> Iterator[tuple[Source, np.ndarray[Any, Any]]]:
            for source in (x, t):
                with (folder / f"{source.name}.npy").open("wb") as f:
                    _npy_header(f, source)
                    row_bytes = max(1, math.prod(source.shape[1:])) * source.dtype.itemsize
                    first = 0
                    for part in source.slices(max(1, SLICE_BYTES // row_bytes)):
                        _finite(source.name, part, first)
                        f.write(part.tobytes())
                        first += part.shape[0] if part.ndim else 1
                        yield source, part

        try:
            return content_id(parts())
        except OSError as exc:
            if is_full(exc):
                raise full(exc) from exc
            raise

    # reading and deleting --------------------------------------------------------------------------------------
    def info(self, tenant: str, dataset_id: str) -> DatasetRecord:
        """The tenant's dataset (NotFound if there is none, or it is another tenant's)."""
        self._dir(tenant, dataset_id)
        record = self.store.dataset(tenant, dataset_id)
        if record is None:
            raise no_such_dataset()
        return record

    def arrays(self, tenant: str, dataset_id: str) -> tuple[Array, Array]:
        """x and t, mapped read-only from their files."""
        self.info(tenant, dataset_id)
        d = self._dir(tenant, dataset_id)
        return np.load(d / "x.npy", mmap_mode="r"), np.load(d / "t.npy", mmap_mode="r")

    def delete(self, tenant: str, dataset_id: str) -> str:
        """Remove the dataset: "removed", "missing" (NotFound to the caller) or "in_use" (a queued or running job trains on it)."""
        self._dir(tenant, dataset_id)
        removal = self.store.remove_dataset(tenant, dataset_id)
        if removal == "removed":
            remove_tree(self._dir(tenant, dataset_id))
        return removal

    def clean_orphans(self, older_than: float) -> int:
        """Remove dataset folders that have no record (a crash between writing and recording), older than ``older_than`` s."""
        before, removed = time.time() - older_than, 0
        for folder in self.root.glob("*/*"):
            name, tenant = folder.name, folder.parent.name
            if len(name) == 64 and _HEX.issuperset(name) and folder.stat().st_mtime < before and self.store.dataset(tenant, name) is None:
                remove_tree(folder)
                removed += 1
        return removed


def _npy_header(f: BinaryIO, source: Source) -> None:
    header = {"descr": np.lib.format.dtype_to_descr(source.dtype), "fortran_order": False, "shape": source.shape}
    np.lib.format.write_array_header_1_0(f, header)


def _finite(name: str, part: np.ndarray[Any, Any], first: int) -> None:
    if not np.isfinite(part).all():
        rows = part.reshape(part.shape[0], -1) if part.ndim else part.reshape(1, 1)
        row = first + int(np.flatnonzero(~np.isfinite(rows).all(axis=1))[0])
        raise invalid([(pointer(name, row), "has a number that is not finite (NaN or ±Infinity); every number must be finite")])


__all__ = ["Datasets", "InsufficientStorage", "content_id"]
