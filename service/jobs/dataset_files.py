"""The arrays x and t of an uploaded file, known from its headers before any byte is inflated, then read a slice at a time.

A dataset file is a NumPy ``.npz`` (``numpy.savez`` or ``savez_compressed``: a zip of ``.npy`` members) or a
safetensors file, told apart by its first bytes. :func:`open_arrays` reads only the headers: each
member's declared shape and dtype (the ``.npy`` header inside the zip member, the safetensors JSON
header) and checks them against the zip directory's sizes and the file's length. The caller checks
the size the arrays will take once stored (widened to float32/float64) against its limits and quotas
*before* :meth:`Arrays.slices` inflates anything: slices of at most :data:`SLICE_BYTES`, so a dataset
that inflates to gigabytes costs constant memory, and a member that inflates past what its header
declares is refused as it inflates (zipfile stops at the directory's size and checks the CRC).
Pickles are never loaded.
"""

from __future__ import annotations

import json
import math
import struct
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from service.errors import InvalidRequest, invalid, pointer

#: Bytes of one slice as read (and as stored): the memory a dataset of any size takes to read, check and write.
SLICE_BYTES = 4 * 1024 * 1024
#: Memory a file upload takes while it is read, checked and written (a slice as read and as stored, and their copies).
STREAM_MEMORY = 6 * SLICE_BYTES
#: The largest safetensors header read: a dataset file names two tensors, not thousands.
MAX_SAFETENSORS_HEADER = 1024 * 1024
NAMES = ("x", "t")

_SAFETENSORS_DTYPES = {
    "F64": "<f8",
    "F32": "<f4",
    "F16": "<f2",
    "BF16": "<u2",  # widened by hand (NumPy has no bfloat16)
    "I64": "<i8",
    "I32": "<i4",
    "I16": "<i2",
    "I8": "i1",
    "U64": "<u8",
    "U32": "<u4",
    "U16": "<u2",
    "U8": "u1",
    "BOOL": "?",
}


def stored_dtype(dtype: np.dtype[Any]) -> np.dtype[Any]:
    """What a member of this dtype is stored as: float32 and float64 as they are, every other number as float64 (little-endian)."""
    plain = dtype.newbyteorder("=")
    return plain.newbyteorder("<") if plain in (np.dtype("float32"), np.dtype("float64")) else np.dtype("<f8")


@dataclass(frozen=True)
class Member:
    """One array of the file as its header declares it: shape, dtype in the file, and where its bytes are."""

    name: str
    shape: tuple[int, ...]
    dtype: np.dtype[Any]
    offset: int  # where the data starts: in the file (safetensors), or after the .npy header in the zip member (npz)
    bfloat16: bool = False

    @property
    def stored(self) -> np.dtype[Any]:
        return np.dtype("<f4") if self.bfloat16 else stored_dtype(self.dtype)

    @property
    def stored_bytes(self) -> int:
        return math.prod(self.shape) * self.stored.itemsize

    @property
    def row_items(self) -> int:
        return math.prod(self.shape[1:])


def _unreadable(detail: str) -> InvalidRequest:
    return InvalidRequest(
        "the body is neither a NumPy .npz file nor a safetensors file with arrays x and t", [("", f"not readable: {detail}")]
    )


def _check_dtype(name: str, dtype: np.dtype[Any]) -> None:
    if dtype.kind not in "fiub" or dtype.hasobject:
        raise invalid([(pointer(name), f"has dtype {dtype}; send float32 or float64 numbers")])


class Arrays:
    """The members x and t of an open dataset file."""

    def __init__(self, path: Path, stack: ExitStack) -> None:
        self.path = path
        self._stack = stack
        with path.open("rb") as f:
            head = f.read(8)
        self.members: dict[str, Member]
        if head[:4] == b"PK\x03\x04":
            self._zip: zipfile.ZipFile | None = stack.enter_context(_open_zip(path))
            self.members = self._npz_members()
        else:
            self._zip = None
            self.members = self._safetensors_members(head)

    # .npz ---------------------------------------------------------------------------------------------------
    def _npz_members(self) -> dict[str, Member]:
        assert self._zip is not None
        names = self._zip.namelist()
        members: dict[str, Member] = {}
        for name in NAMES:
            entry = f"{name}.npy"
            if entry not in names:
                continue
            info = self._zip.getinfo(entry)
            with self._zip.open(info) as f:
                shape, dtype, header = _npy_header(f, name)
            declared = header + math.prod(shape) * dtype.itemsize
            if info.file_size != declared:  # the zip's directory and the .npy header must tell the same size
                raise invalid([(pointer(name), f"the zip member says {info.file_size:,} bytes but its header declares {declared:,}")])
            members[name] = Member(name, shape, dtype, header)
        _require(members, [n.removesuffix(".npy") for n in names])
        return members

    # safetensors -------------------------------------------------------------------------------------------
    def _safetensors_members(self, head: bytes) -> dict[str, Member]:
        if len(head) < 8:
            raise _unreadable("the file is shorter than a safetensors header")
        (length,) = struct.unpack("<Q", head)
        size = self.path.stat().st_size
        if length > min(MAX_SAFETENSORS_HEADER, size - 8):
            raise _unreadable(f"a safetensors header of {length:,} bytes (a file of {size:,}; at most {MAX_SAFETENSORS_HEADER:,} are read)")
        with self.path.open("rb") as f:
            f.seek(8)
            try:
                header = json.loads(f.read(length))
            except ValueError as exc:
                raise _unreadable(f"the safetensors header is not JSON ({exc})") from None
        if not isinstance(header, dict):
            raise _unreadable("the safetensors header is not a JSON object")
        data_start, members = 8 + length, {}
        for name in NAMES:
            entry = header.get(name)
            if entry is None:
                continue
            try:
                code, shape, (begin, end) = entry["dtype"], tuple(int(n) for n in entry["shape"]), entry["data_offsets"]
                dtype = np.dtype(_SAFETENSORS_DTYPES[code])
            except (KeyError, TypeError, ValueError):
                raise invalid([(pointer(name), f"a safetensors entry that is not one: {str(entry)[:200]}")]) from None
            if any(n < 0 for n in shape) or end - begin != math.prod(shape) * dtype.itemsize or begin < 0 or data_start + end > size:
                raise invalid([(pointer(name), f"its data_offsets {[begin, end]} do not fit its shape {list(shape)} and dtype {code}")])
            members[name] = Member(name, shape, dtype, data_start + begin, bfloat16=code == "BF16")
        _require(members, [k for k in header if k != "__metadata__"])
        return members

    # both ----------------------------------------------------------------------------------------------------
    def slices(self, name: str, rows: int) -> Iterator[np.ndarray[Any, Any]]:
        """The member's rows, ``rows`` at a time, as stored (float32 or float64, little-endian), read from the file as they go."""
        m = self.members[name]
        row_bytes = max(1, m.row_items) * m.dtype.itemsize
        with ExitStack() as stack:
            f: IO[bytes]
            if self._zip is not None:
                f = stack.enter_context(self._zip.open(f"{name}.npy"))
                f.read(m.offset)  # the .npy header, read before
            else:
                f = stack.enter_context(self.path.open("rb"))
                f.seek(m.offset)
            left = m.shape[0] if m.shape else 1
            while left:
                n = min(rows, left)
                data = _read_exactly(f, n * row_bytes, name)
                part = np.frombuffer(data, dtype=m.dtype).reshape((n, *m.shape[1:]))
                yield _widened(part, m)
                left -= n
            if self._zip is not None and f.read(1):  # more than the header declared: refused as it inflates
                raise invalid([(pointer(name), "the member holds more bytes than its header declares")])


def _widened(part: np.ndarray[Any, Any], m: Member) -> np.ndarray[Any, Any]:
    if m.bfloat16:
        return (part.astype("<u4") << 16).view("<f4")
    return part.astype(m.stored, copy=False)


def _read_exactly(f: IO[bytes], n: int, name: str) -> bytes:
    try:
        data = f.read(n)
    except (zipfile.BadZipFile, EOFError, OSError) as exc:  # a bad CRC, a truncated deflate stream
        raise invalid([(pointer(name), f"the member cannot be read: {exc}")]) from None
    if len(data) != n:
        raise invalid([(pointer(name), f"the member ends after {len(data):,} of the {n:,} bytes its header declares")])
    return data


def _require(members: dict[str, Member], names: list[str]) -> None:
    missing = [name for name in NAMES if name not in members]
    if missing:
        raise invalid([("", f"the file has no array named {name!r} (it has {sorted(names)})") for name in missing])


def _open_zip(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise _unreadable(f"a broken zip ({exc})") from None


class _Counting:
    """A stream that counts what was read from it (the length of a ``.npy`` header)."""

    def __init__(self, f: IO[bytes]) -> None:
        self.f, self.count = f, 0

    def read(self, n: int = -1) -> bytes:
        data = self.f.read(n)
        self.count += len(data)
        return data


def _npy_header(f: IO[bytes], name: str) -> tuple[tuple[int, ...], np.dtype[Any], int]:
    """The shape and dtype a ``.npy`` stream declares, and the length of its header (refusing Fortran order and objects)."""
    counting = _Counting(f)
    fmt = np.lib.format
    try:
        version = fmt.read_magic(counting)
        read = {(1, 0): fmt.read_array_header_1_0, (2, 0): fmt.read_array_header_2_0}.get(version)
        if read is None:
            raise ValueError(f".npy format version {version} (1.0 and 2.0 are read)")
        shape, fortran, dtype = read(counting, max_header_size=10_000)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise invalid([(pointer(name), f"not a .npy array: {exc}")]) from None
    _check_dtype(name, dtype)
    if fortran and len(shape) > 1:
        raise invalid([(pointer(name), "is in Fortran order; save it in C order (numpy.ascontiguousarray) first")])
    return tuple(shape), dtype, counting.count


def open_arrays(path: Path, stack: ExitStack) -> Arrays:
    """The dataset file at ``path``, its headers read and checked, its files held open by ``stack``."""
    arrays = Arrays(path, stack)
    for m in arrays.members.values():
        _check_dtype(m.name, m.dtype)
    return arrays
