"""Dataset files are sized from their headers before anything is inflated, then read a slice at a time.

In-process: what each header declares, the refusals (a zip directory that disagrees with its .npy header, a
member that inflates past its size, Fortran order, safetensors offsets outside the file, objects), widening
(bfloat16, integers) and the content id. On a real server: decompression and widening bombs are refused within
2 s with the service's processes growing less than 100 MiB (two at once too), and a dataset just under the
limit that inflates 1000-fold is stored in a stream with memory bounded by a constant.
"""

from __future__ import annotations

import io
import json
import struct
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psutil
import pytest

from service.errors import InvalidRequest
from service.jobs.dataset_files import SLICE_BYTES, open_arrays
from tests.server import ServerProcess, running_server

MiB = 1024 * 1024


def npz(path: Path, compressed: bool = True, **arrays: np.ndarray[Any, Any]) -> Path:
    (np.savez_compressed if compressed else np.savez)(path, **arrays)
    return path


def safetensors(path: Path, tensors: dict[str, tuple[str, list[int], bytes]], lie: dict[str, list[int]] | None = None) -> Path:
    header, data, offset = {}, b"", 0
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": (lie or {}).get(name, [offset, offset + len(raw)])}
        data, offset = data + raw, offset + len(raw)
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + data)
    return path


def read(path: Path) -> dict[str, np.ndarray[Any, Any]]:
    with ExitStack() as stack:
        arrays = open_arrays(path, stack)
        return {name: np.concatenate(list(arrays.slices(name, 3))) for name in arrays.members}


def test_the_headers_tell_shapes_and_stored_dtypes_before_any_byte_is_inflated(tmp_path: Path) -> None:
    path = npz(tmp_path / "d.npz", x=np.zeros((1000, 300), np.uint8), t=np.arange(1000, dtype=np.int16))
    with ExitStack() as stack:
        arrays = open_arrays(path, stack)
        x, t = arrays.members["x"], arrays.members["t"]
    assert (x.shape, str(x.stored), x.stored_bytes) == ((1000, 300), "float64", 1000 * 300 * 8)  # widened, as stored
    assert (t.shape, str(t.stored)) == ((1000,), "float64")
    got = read(path)
    np.testing.assert_array_equal(got["t"], np.arange(1000))
    assert got["t"].dtype == np.float64


def test_float32_stays_float32_and_bfloat16_is_widened_exactly(tmp_path: Path) -> None:
    x = np.array([[1.5, -2.25], [3.0, 0.1]], np.float32)
    bf16 = (x.view(np.uint32) >> 16).astype("<u2")  # the top halves: exact bfloat16 values of 1.5, -2.25, 3.0 (0.1 is cut)
    path = safetensors(
        tmp_path / "d.safetensors", {"x": ("BF16", [2, 2], bf16.tobytes()), "t": ("F32", [2], np.ones(2, np.float32).tobytes())}
    )
    got = read(path)
    assert got["x"].dtype == np.float32
    np.testing.assert_array_equal(got["x"], (bf16.astype(np.uint32) << 16).view(np.float32))
    assert got["x"][0, 1] == -2.25
    assert got["t"].dtype == np.float32


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda p: npz(p.with_suffix(".npz"), x=np.asfortranarray(np.ones((3, 4))), t=np.ones(3)), "Fortran order"),
        (lambda p: npz(p.with_suffix(".npz"), x=np.array([[1, 2]], dtype=object), t=np.ones(1)), "dtype object"),
        (lambda p: npz(p.with_suffix(".npz"), y=np.ones((3, 2)), t=np.ones(3)), "no array named 'x'"),
        (lambda p: safetensors(p, {"x": ("U8", [100000, 100], b"\0" * 10), "t": ("F32", [1], b"\0" * 4)}), "data_offsets"),
        (lambda p: safetensors(p, {"x": ("F64", [2, 2], b"\0" * 32), "t": ("F32", [2], b"\0" * 8)}, {"t": [32, 99]}), "data_offsets"),
        (lambda p: safetensors(p, {"x": ("C64", [1, 1], b"\0" * 8), "t": ("F32", [1], b"\0" * 4)}), "safetensors entry"),
        (lambda p: p.write_bytes(b"\xff" * 8 + b"{}") and p, "safetensors header"),
    ],
)
def test_a_file_that_is_not_what_it_says_is_refused_from_its_header(tmp_path: Path, make: Any, words: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        read(make(tmp_path / "f"))
    assert words in str(caught.value.errors), caught.value.errors


def _lying_zip(path: Path, declared_rows: int, real_rows: int) -> Path:
    """An .npz whose x.npy header declares ``declared_rows`` rows of float64 while the member holds ``real_rows``; the zip's
    directory is patched to the declared size (as a crafted file would be)."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (declared_rows, 2)})
    member = header.getvalue() + np.zeros((real_rows, 2)).tobytes()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("x.npy", member)
        buf = io.BytesIO()
        np.save(buf, np.zeros(declared_rows))
        z.writestr("t.npy", buf.getvalue())
    data = bytearray(path.read_bytes())
    central = data.rfind(b"PK\x01\x02", 0, data.rfind(b"PK\x01\x02"))  # x.npy's central directory entry
    struct.pack_into("<I", data, central + 24, len(header.getvalue()) + declared_rows * 16)
    path.write_bytes(bytes(data))
    return path


def test_a_member_that_inflates_past_its_declared_size_is_refused_as_it_inflates(tmp_path: Path) -> None:
    with pytest.raises(InvalidRequest) as caught:
        read(_lying_zip(tmp_path / "bomb.npz", declared_rows=10, real_rows=1_000_000))
    assert "Bad CRC-32" in str(caught.value.errors)  # zipfile stops at the directory's size, where the CRC does not match


def test_the_zip_directory_must_agree_with_the_npy_header(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (10, 2)})
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("x.npy", header.getvalue() + b"\0" * 16 * 1000)  # 1000 rows where the header says 10
        z.writestr("t.npy", b"")
    with pytest.raises(InvalidRequest, match="header declares"):
        read(path)


def test_slices_stay_within_their_bound(tmp_path: Path) -> None:
    path = npz(tmp_path / "d.npz", x=np.ones((20000, 500), np.uint8), t=np.ones(20000, np.uint8))
    with ExitStack() as stack:
        arrays = open_arrays(path, stack)
        rows = SLICE_BYTES // (500 * 8)
        sizes = [part.nbytes for part in arrays.slices("x", rows)]
    assert max(sizes) <= SLICE_BYTES
    assert sum(sizes) == 20000 * 500 * 8


# ---------------------------------------------------------------------------------------------------------------- server


@pytest.fixture(scope="module")
def bombs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A 254 KB .npz of uint8 zeros that is 2.1 GB as float64, a 1 MB one of float32 zeros that is 1 GB, and a 320 MB float32
    one under the limit (~320 KB compressed)."""
    d = tmp_path_factory.mktemp("bombs")
    return {
        "uint8": npz(d / "uint8.npz", x=np.zeros((65536, 4000), np.uint8), t=np.zeros((65536, 1), np.uint8)),
        "float32": npz(d / "float32.npz", x=np.zeros((65536, 4096), np.float32), t=np.zeros((65536, 1), np.float32)),
        "under": npz(d / "under.npz", x=np.zeros((20480, 4096), np.float32), t=np.zeros((20480, 1), np.float32)),
    }


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with running_server({"GRADIENT_MAX_DATASET_BYTES": str(512 * MiB)}) as s:
        yield s


def _tree_rss(pid: int) -> int:
    root = psutil.Process(pid)
    return sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])


def _peak_while(server: ServerProcess, work: Any) -> tuple[int, Any]:
    """The largest growth of the service's processes' memory (sampled every 5 ms) while ``work()`` runs, and its result."""
    base = _tree_rss(server.pid)
    peak, done, out = [base], threading.Event(), {}

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss(server.pid))
            time.sleep(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        out["value"] = work()
    finally:
        done.set()
        sampler.join()
    return peak[0] - base, out["value"]


def _upload(server: ServerProcess, path: Path) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    r = httpx.post(
        f"{server.url}/v1/datasets", content=path.read_bytes(), headers={"Content-Type": "application/octet-stream"}, timeout=120
    )
    return r, time.monotonic() - started


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["uint8", "float32"])
def test_a_bomb_is_refused_within_2_s_and_costs_no_memory(server: ServerProcess, bombs: dict[str, Path], kind: str) -> None:
    assert bombs[kind].stat().st_size < 1.1 * MiB
    grown, (r, seconds) = _peak_while(server, lambda: _upload(server, bombs[kind]))
    assert r.status_code == 422, r.text
    assert "max_dataset_bytes" in r.text
    assert seconds < 2
    assert grown < 100 * MiB, f"{grown / MiB:.0f} MiB"


@pytest.mark.slow
def test_two_bombs_at_once_the_same(server: ServerProcess, bombs: dict[str, Path]) -> None:
    answers: list[tuple[httpx.Response, float]] = []

    def both() -> None:
        threads = [threading.Thread(target=lambda k=k: answers.append(_upload(server, bombs[k]))) for k in ("uint8", "float32")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    grown, _ = _peak_while(server, both)
    assert [r.status_code for r, _ in answers] == [422, 422]
    assert max(seconds for _, seconds in answers) < 2
    assert grown < 100 * MiB, f"{grown / MiB:.0f} MiB"


@pytest.mark.slow
def test_under_the_limit_it_is_inflated_to_disk_in_a_stream(server: ServerProcess, bombs: dict[str, Path]) -> None:
    grown, (r, _) = _peak_while(server, lambda: _upload(server, bombs["under"]))
    assert r.status_code == 201, r.text
    assert r.json()["bytes"] == 20480 * 4097 * 4  # 320 MiB stored, from a file of ~320 KB
    assert grown < 100 * MiB, f"{grown / MiB:.0f} MiB"  # a constant: slices of 4 MiB, not the 320 MiB
