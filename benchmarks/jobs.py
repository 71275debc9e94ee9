"""Training jobs against PyTorch's in-process loop, side by side in one run (issue 14).

1. A 784-128-10 network, batch 128, 1000 Adam steps (float32, mean cross-entropy on softmax) as a job on an
   uploaded dataset (a real server and its own job worker on loopback, time from submit to result), against the
   same loop in PyTorch in this process. Target: ≤ 1.5×.
2. MNIST-sized data (60,000 × 784 float32, synthetic, seeded) uploads as an .npz, and one epoch of batch 128 (469 steps) trains.

    python -m benchmarks.jobs
"""

from __future__ import annotations

import io
import tempfile
import time

import httpx
import numpy as np
import torch

from tests.server import running_server

rng = np.random.default_rng(0)
M, H, K, BATCH, STEPS = 784, 128, 10, 128, 1000
W1 = (rng.normal(size=(H, M)) * 0.05).astype(np.float32)
W2 = (rng.normal(size=(K, H)) * 0.1).astype(np.float32)


def data(n: int) -> tuple[np.ndarray, np.ndarray]:
    r = np.random.default_rng(n)
    return r.random((n, M), dtype=np.float32), np.eye(K, dtype=np.float32)[r.integers(0, K, n)]


def network() -> dict[str, object]:
    return {
        "layers": [
            {"weights": W1.tolist(), "bias": [0.0] * H, "activation": "relu"},
            {"weights": W2.tolist(), "bias": [0.0] * K, "activation": "softmax"},
        ]
    }


def torch_loop(x: np.ndarray, t: np.ndarray, epochs: int) -> float:
    model = torch.nn.Sequential(torch.nn.Linear(M, H), torch.nn.ReLU(), torch.nn.Linear(H, K))
    with torch.no_grad():
        model[0].weight.copy_(torch.from_numpy(W1))
        model[0].bias.zero_()
        model[2].weight.copy_(torch.from_numpy(W2))
        model[2].bias.zero_()
    opt = torch.optim.Adam(model.parameters(), lr=0.001)
    X, T = torch.from_numpy(x), torch.from_numpy(t)
    g = np.random.default_rng(7)
    start = time.perf_counter()
    for _ in range(epochs):
        order = torch.from_numpy(g.permutation(len(x)))
        for i in range(0, len(x), BATCH):
            rows = order[i : i + BATCH]
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(X[rows]), T[rows])
            loss.backward()
            opt.step()
    return time.perf_counter() - start


def upload(url: str, x: np.ndarray, t: np.ndarray) -> tuple[str, float]:
    buf = io.BytesIO()
    np.savez(buf, x=x, t=t)
    start = time.perf_counter()
    r = httpx.post(f"{url}/v1/datasets", content=buf.getvalue(), headers={"Content-Type": "application/octet-stream"}, timeout=600)
    r.raise_for_status()
    return str(r.json()["id"]), time.perf_counter() - start


def job(url: str, dataset: str, epochs: int) -> float:
    body = {
        "network": network(),
        "loss": "categorical_cross_entropy",
        "reduction": "mean",
        "dtype": "float32",
        "optimizer": {"name": "adam", "learning_rate": 0.001},
        "epochs": epochs,
        "batch_size": BATCH,
        "seed": 7,
        "dataset": dataset,
    }
    start = time.perf_counter()
    job_id = httpx.post(f"{url}/v1/trainings", json=body, timeout=60).json()["id"]
    while httpx.get(f"{url}/v1/trainings/{job_id}", timeout=10).json()["state"] in ("queued", "running"):
        time.sleep(0.02)
    assert httpx.get(f"{url}/v1/trainings/{job_id}/result", timeout=60).status_code == 200
    return time.perf_counter() - start


def main() -> None:
    torch.set_num_threads(1)
    with (
        tempfile.TemporaryDirectory() as d,
        running_server({"GRADIENT_DATA_DIR": d, "GRADIENT_BLAS_THREADS": "1", "GRADIENT_JOB_WORKERS": "1"}) as server,
    ):
        x, t = data(12_800)  # 100 batches per epoch: 10 epochs = 1000 steps
        dataset, _ = upload(server.url, x, t)
        job_s = job(server.url, dataset, 10)
        torch_s = torch_loop(x, t, 10)
        ratio = job_s / torch_s
        print(f"784-128-10, batch 128, 1000 Adam steps: job {job_s:.2f} s, torch in-process {torch_s:.2f} s: {ratio:.2f}× (target ≤ 1.5×)")
        x, t = data(60_000)
        dataset, upload_s = upload(server.url, x, t)
        epoch_s = job(server.url, dataset, 1)
        torch_epoch = torch_loop(x, t, 1)
        print(
            f"MNIST-sized 60,000 × 784 float32: upload {upload_s:.2f} s; one epoch of batch 128 (469 steps): job {epoch_s:.2f} s, "
            f"torch {torch_epoch:.2f} s: {epoch_s / torch_epoch:.2f}×"
        )


if __name__ == "__main__":
    main()
