"""A full disk under the data dir, for real: a 50 MB tmpfs, filled by the test while a job runs.

Uploads get 507 (before anything is written, and when a write fails on ENOSPC anyway) and leave no temporary file;
the running job waits (its state says "disk full"), its worker is not restarted, and once space is freed it
finishes bit for bit equal to an undisturbed run. Mounting a tmpfs needs root (CAP_SYS_ADMIN): elsewhere the
test is skipped, saying so.
"""

from __future__ import annotations

import errno
import io
import subprocess
import time
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from tests.jobs.conftest import FAST, REFERENCE, Deployment, deployed, wait_for

pytestmark = pytest.mark.slow

rng = np.random.default_rng(23)
N, M, H, K = 512, 784, 64, 10
X = rng.normal(size=(N, M)).astype(np.float32)
T = np.eye(K, dtype=np.float32)[rng.integers(0, K, N)]


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "data"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=50m", "tmpfs", str(mount)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.fixture
def deployment(tmpfs: Path) -> Iterator[Deployment]:
    env = {**FAST, **REFERENCE, "GRADIENT_DATA_DIR": str(tmpfs), "GRADIENT_MIN_FREE_DISK_BYTES": str(4 * 1024 * 1024)}
    with deployed(Deployment("embedded", env, tmpfs, log_dir=tmpfs.parent)) as d:  # the logs on another disk than the one filled
        yield d


def fill(path: Path) -> Path:
    """A file that takes every free byte of the file system."""
    with suppress(OSError), path.open("wb") as f:
        block = b"\0" * (1 << 20)
        while True:
            f.write(block)
            f.flush()
    with suppress(OSError), path.open("ab") as f:  # the last partial block
        while True:
            f.write(b"\0" * 4096)
            f.flush()
    return path


def npz(x: np.ndarray[Any, Any], t: np.ndarray[Any, Any]) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, x=x, t=t)
    return buf.getvalue()


def upload(d: Deployment, data: bytes, chunked: bool = False) -> httpx.Response:
    content: Any = iter([data[i : i + 65536] for i in range(0, len(data), 65536)]) if chunked else data
    return httpx.post(f"{d.url}/v1/datasets", content=content, headers={"Content-Type": "application/octet-stream"}, timeout=60)


def leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.startswith((".tmp-", ".upload-", ".new-", ".gone-"))]


def test_a_full_disk_is_a_507_and_a_running_job_waits_then_finishes_bit_for_bit(deployment: Deployment) -> None:
    d = deployment
    dataset = upload(d, npz(X, T))
    assert dataset.status_code == 201, dataset.text
    request = {
        "network": {
            "layers": [
                {"weights": (rng.normal(size=(H, M)) * 0.05).astype(np.float32).tolist(), "activation": "relu"},
                {"weights": (rng.normal(size=(K, H)) * 0.1).astype(np.float32).tolist(), "activation": "softmax"},
            ]
        },
        "loss": "categorical_cross_entropy",
        "reduction": "mean",
        "dtype": "float32",
        "optimizer": {"name": "adam", "learning_rate": 0.001},
        "epochs": 150,
        "batch_size": 128,
        "seed": 3,
    }
    job = httpx.post(f"{d.url}/v1/trainings", json={**request, "dataset": dataset.json()["id"]}, timeout=60).json()["id"]
    wait_for(f"{d.url}/v1/trainings/{job}", lambda j: j["progress"]["step"] >= 30, what="running")
    worker = d.workers[0]
    filler = fill(d.data_dir / "filler")
    try:
        paused = wait_for(f"{d.url}/v1/trainings/{job}", lambda j: j["waiting"] == "disk full", timeout=30, what="waiting")
        assert paused["state"] == "running"
        refused = upload(d, npz(X[:64], T[:64]))
        assert refused.status_code == 507, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["type"] == "urn:gradient-service:problem:insufficient-storage"
        assert "min_free_disk_bytes" in refused.json()["detail"]
        step = httpx.get(f"{d.url}/v1/trainings/{job}").json()["progress"]["step"]
        time.sleep(1.5)
        assert httpx.get(f"{d.url}/v1/trainings/{job}").json()["progress"]["step"] == step  # waiting, not computing
        assert worker.poll() is None
    finally:
        filler.unlink()
    done = wait_for(f"{d.url}/v1/trainings/{job}", lambda j: j["state"] in ("succeeded", "failed"), timeout=120, what="finished")
    assert done["state"] == "succeeded", done
    assert done["waiting"] is None
    assert worker.poll() is None
    assert len(d.workers) == 1  # the same worker process throughout: never restarted
    result = httpx.get(f"{d.url}/v1/trainings/{job}/result").json()
    reference = httpx.post(f"{d.url}/v1/train", json={**request, "x": X.tolist(), "t": T.tolist()}, timeout=180).json()
    assert result == reference
    assert leftovers(d.data_dir) == []


def test_a_write_that_fails_on_enospc_anyway_is_a_507_and_leaves_nothing(tmpfs: Path) -> None:
    """With no reserve (min_free_disk_bytes 0) the check passes, so the write itself meets the full disk."""
    env = {**FAST, "GRADIENT_DATA_DIR": str(tmpfs), "GRADIENT_MIN_FREE_DISK_BYTES": "0"}
    with deployed(Deployment("embedded", env, tmpfs, log_dir=tmpfs.parent), workers=0) as d:
        filler = fill(tmpfs / "filler")
        assert filler.stat().st_size > 40 * 1024 * 1024
        data = npz(X, T)  # 1.6 MB: more than is free
        for chunked in (False, True):  # with a Content-Length, and without one
            r = upload(d, data, chunked)
            assert r.status_code == 507, r.text
            assert leftovers(tmpfs) == []
        filler.unlink()
        assert upload(d, data).status_code == 201


def test_the_fill_helper_really_fills(tmpfs: Path) -> None:
    fill(tmpfs / "filler")
    with pytest.raises(OSError, match="No space left") as caught:
        (tmpfs / "more").write_bytes(b"\0" * 65536)
    assert caught.value.errno == errno.ENOSPC
