"""Datasets: x and t stored once under ``<data_dir>/datasets/<id>/`` as ``.npy`` files, the id their content hash.

The arrays are checked (shapes, finite numbers, the dataset limits), hashed and written a
slice at a time; a training job maps them back (``np.load(mmap_mode="r")``), so a worker
reads the rows of each batch from the page cache instead of holding the dataset twice.
No HTTP here: the route streams a file body to disk and hands over its path.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from service.config import get_settings
from service.engine.arrays import Array
from service.errors import InvalidRequest, NotFound, invalid, pointer
from service.limits import exceeded

#: Rows checked and hashed at a time (bounded temporary memory for a large dataset).
SLICE_ROWS = 8192
_DTYPES = (np.dtype("float32"), np.dtype("float64"))


@dataclass(frozen=True)
class DatasetInfo:
    """A stored dataset: its id (sha256 of dtypes, shapes and bytes), the shapes and dtypes of x and t, its size, when it was made."""

    id: str
    x_shape: list[int]
    x_dtype: str
    t_shape: list[int]
    t_dtype: str
    bytes: int
    created: float

    def body(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "x": {"shape": self.x_shape, "dtype": self.x_dtype},
            "t": {"shape": self.t_shape, "dtype": self.t_dtype},
            "bytes": self.bytes,
            "created": self.created,
        }


def _slices(a: Array) -> Iterator[Array]:
    for i in range(0, a.shape[0], SLICE_ROWS):
        yield a[i : i + SLICE_ROWS]


def _as_float(a: np.ndarray[Any, Any], name: str) -> Array:
    """``a`` as float32/float64 (integers and other floats become float64), little-endian, C order."""
    if a.dtype.kind not in "fiub":
        raise invalid([(pointer(name), f"has dtype {a.dtype}; send float32 or float64 numbers")])
    if a.dtype.newbyteorder("=") not in _DTYPES:
        a = a.astype(np.float64)
    return np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<"))


def check(x: np.ndarray[Any, Any], t: np.ndarray[Any, Any]) -> tuple[Array, Array]:
    """x (N × M) and t (N × K, or N class indices) as float arrays, checked: shapes, finite numbers, the dataset limits."""
    settings = get_settings()
    x, t = _as_float(x, "x"), _as_float(t, "t")
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise invalid([(pointer("x"), f"must be a matrix with one row per point (found shape {list(x.shape)})")])
    if t.ndim not in (1, 2) or t.shape[0] != x.shape[0] or t.size == 0:
        raise invalid([(pointer("t"), f"must have one row (or one class index) per row of x: {x.shape[0]} (found shape {list(t.shape)})")])
    if x.shape[0] > settings.max_dataset_rows:
        limit = settings.max_dataset_rows
        raise exceeded([(pointer("x"), f"rows (data points): {x.shape[0]:,}; the limit max_dataset_rows is {limit:,}")])
    size = x.nbytes + t.nbytes
    if size > settings.max_dataset_bytes:
        limit = settings.max_dataset_bytes
        raise exceeded([("", f"bytes of x and t: {size:,}; the limit max_dataset_bytes is {limit:,}")])
    for name, a in (("x", x), ("t", t)):
        for i, part in enumerate(_slices(a)):
            if not np.isfinite(part).all():
                row = i * SLICE_ROWS + int(np.flatnonzero(~np.isfinite(part).reshape(part.shape[0], -1).all(axis=1))[0])
                raise invalid([(pointer(name, row), "has a number that is not finite (NaN or ±Infinity); every number must be finite")])
    return x, t


def content_id(x: Array, t: Array) -> str:
    """sha256 of the dtypes, shapes and little-endian bytes of x and t: the same data is the same dataset."""
    digest = hashlib.sha256()
    for a in (x, t):
        digest.update(f"{a.dtype.str}{list(a.shape)};".encode())
        for part in _slices(a):
            digest.update(np.ascontiguousarray(part).tobytes())
    return digest.hexdigest()


def read_file(path: Path) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """x and t from an ``.npz`` (NumPy, no pickles) or a safetensors file (format told by its first bytes)."""
    with path.open("rb") as f:
        head = f.read(4)
    try:
        if head == b"PK\x03\x04":
            with np.load(path, allow_pickle=False) as npz:
                names = list(npz.files)
                arrays = {name: npz[name] for name in ("x", "t") if name in names}
        else:
            from safetensors.numpy import load_file

            loaded = load_file(str(path))
            names, arrays = list(loaded), {name: loaded[name] for name in ("x", "t") if name in loaded}
    except (ValueError, OSError, zipfile.BadZipFile, Exception) as exc:
        raise InvalidRequest(
            "the body is neither a NumPy .npz file nor a safetensors file with arrays x and t", [("", f"not readable: {exc}")]
        ) from exc
    missing = [name for name in ("x", "t") if name not in arrays]
    if missing:
        raise invalid([("", f"the file has no array named {name!r} (it has {names})") for name in missing])
    return arrays["x"], arrays["t"]


class Datasets:
    """The datasets under ``root`` (``<data_dir>/datasets``)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _dir(self, dataset_id: str) -> Path:
        if not (len(dataset_id) == 64 and all(c in "0123456789abcdef" for c in dataset_id)):
            raise NotFound(f"there is no dataset {dataset_id[:80]!r}", [(pointer("dataset"), "no such dataset")])
        return self.root / dataset_id

    def put(self, x: np.ndarray[Any, Any], t: np.ndarray[Any, Any]) -> tuple[DatasetInfo, bool]:
        """Check and store x and t; the dataset, and whether it is new (the same data twice is one dataset)."""
        x, t = check(x, t)
        dataset_id = content_id(x, t)
        final = self.root / dataset_id
        if (final / "meta.json").exists():
            return self.info(dataset_id), False
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".new-", dir=self.root))
        try:
            np.save(tmp / "x.npy", x)
            np.save(tmp / "t.npy", t)
            info = DatasetInfo(dataset_id, list(x.shape), str(x.dtype), list(t.shape), str(t.dtype), x.nbytes + t.nbytes, time.time())
            (tmp / "meta.json").write_text(json.dumps(asdict(info)))
            try:
                os.rename(tmp, final)
            except OSError:  # another request stored the same data first
                return self.info(dataset_id), False
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return info, True

    def put_file(self, path: Path) -> tuple[DatasetInfo, bool]:
        """:meth:`put` for the arrays x and t of an ``.npz`` or safetensors file."""
        return self.put(*read_file(path))

    def info(self, dataset_id: str) -> DatasetInfo:
        """The dataset's metadata (NotFound if there is none)."""
        try:
            return DatasetInfo(**json.loads((self._dir(dataset_id) / "meta.json").read_text()))
        except FileNotFoundError:
            raise NotFound(f"there is no dataset {dataset_id!r}", [(pointer("dataset"), "no such dataset")]) from None

    def arrays(self, dataset_id: str) -> tuple[Array, Array]:
        """x and t, mapped read-only from their files."""
        self.info(dataset_id)
        d = self._dir(dataset_id)
        return np.load(d / "x.npy", mmap_mode="r"), np.load(d / "t.npy", mmap_mode="r")

    def delete(self, dataset_id: str) -> None:
        """Remove the dataset (NotFound if there is none)."""
        self.info(dataset_id)
        d = self._dir(dataset_id)
        gone = d.with_name(f".gone-{dataset_id}-{os.getpid()}")
        os.rename(d, gone)
        shutil.rmtree(gone, ignore_errors=True)
