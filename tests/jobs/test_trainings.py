"""Training jobs against real processes, the same tests on both backends (embedded SQLite, and Redis + Dramatiq).

Each proves one promise of issue 14: a job computes exactly what /v1/train computes; a worker killed with
SIGKILL mid-job is replaced and the job ends with the same weights bit for bit and a loss history with no gap
and no duplicate; a restarted web process loses nothing and SSE resumes from Last-Event-ID; one
Idempotency-Key is one job; cancel stops within one step; bad input gets 404, 409 and 422 problems.
"""

from __future__ import annotations

import io
import re
import signal
import time
from typing import Any

import httpx
import numpy as np
import pybase64
import pytest

from tests.jobs.conftest import Deployment, wait_for

pytestmark = pytest.mark.slow

rng = np.random.default_rng(14)
#: A 784-128-10 network (float32), 1024 MNIST-shaped points: 8 batches of 128 per epoch.
N, M, H, K = 1024, 784, 128, 10
X = rng.normal(size=(N, M)).astype(np.float32)
T = np.eye(K, dtype=np.float32)[rng.integers(0, K, N)]
W1 = (rng.normal(size=(H, M)) * 0.05).astype(np.float32)
W2 = (rng.normal(size=(K, H)) * 0.1).astype(np.float32)


def tensor(a: np.ndarray[Any, Any]) -> dict[str, Any]:
    return {"dtype": str(a.dtype), "shape": list(a.shape), "b64": pybase64.b64encode(a.tobytes()).decode()}


NETWORK = {
    "layers": [
        {"weights": tensor(W1), "bias": tensor(np.zeros(H, np.float32)), "activation": "relu"},
        {"weights": tensor(W2), "bias": tensor(np.zeros(K, np.float32)), "activation": "softmax"},
    ]
}


def request(epochs: int) -> dict[str, Any]:
    return {
        "network": NETWORK,
        "loss": "categorical_cross_entropy",
        "reduction": "mean",
        "dtype": "float32",
        "optimizer": {"name": "adam", "learning_rate": 0.001},
        "epochs": epochs,
        "batch_size": 128,
        "seed": 7,
    }


def upload(d: Deployment) -> str:
    buf = io.BytesIO()
    np.savez(buf, x=X, t=T)
    r = httpx.post(f"{d.url}/v1/datasets", content=buf.getvalue(), headers={"Content-Type": "application/octet-stream"}, timeout=60)
    assert r.status_code in (200, 201), r.text
    assert r.headers["location"] == f"/v1/datasets/{r.json()['id']}"
    return str(r.json()["id"])


def start(d: Deployment, body: dict[str, Any], key: str | None = None) -> httpx.Response:
    return httpx.post(f"{d.url}/v1/trainings", json=body, headers={"Idempotency-Key": key} if key else {}, timeout=60)


def reference(d: Deployment, epochs: int) -> dict[str, Any]:
    """What /v1/train answers for the same request, in one call."""
    r = httpx.post(f"{d.url}/v1/train", json={**request(epochs), "x": tensor(X), "t": tensor(T)}, timeout=180)
    assert r.status_code == 200, r.text
    return dict(r.json())


def steps_recorded(d: Deployment, job_id: str) -> list[int]:
    return list(httpx.get(f"{d.url}/v1/trainings/{job_id}/metrics", params={"max_points": 100_000}, timeout=30).json()["steps"])


def test_a_job_computes_what_train_computes_and_one_key_makes_one_job(deployment: Deployment) -> None:
    d = deployment
    body = {**request(3), "dataset": upload(d)}
    first, again = start(d, body, "key-1"), start(d, body, "key-1")
    assert first.status_code == again.status_code == 202, first.text
    assert first.json()["id"] == again.json()["id"]
    assert first.headers["location"] == f"/v1/trainings/{first.json()['id']}"
    assert first.headers["retry-after"]
    assert start(d, {**body, "seed": 8}, "key-1").status_code == 409  # the same key with another request
    job_id = first.json()["id"]
    assert [j["id"] for j in httpx.get(f"{d.url}/v1/trainings").json()["jobs"]].count(job_id) == 1
    job = wait_for(f"{d.url}/v1/trainings/{job_id}", lambda j: j["state"] == "succeeded", what="job")
    assert job["progress"] == {"step": 24, "total": 24, "epoch": 3, "epochs": 3}
    result = httpx.get(f"{d.url}/v1/trainings/{job_id}/result").json()
    assert result == reference(d, 3)  # the same numbers, bit for bit (JSON floats round-trip exactly)
    metrics = httpx.get(f"{d.url}/v1/trainings/{job_id}/metrics", params={"max_points": 5}).json()
    assert metrics["total_points"] == 24
    assert len(metrics["loss"]) == 5
    assert metrics["steps"][-1] == 24
    assert httpx.delete(f"{d.url}/v1/trainings/{job_id}").status_code == 204
    assert httpx.get(f"{d.url}/v1/trainings/{job_id}").status_code == 404
    assert list(d.data_dir.glob(f"jobs/*/{job_id}")) == []  # its request, checkpoint and result went with it


def test_a_worker_killed_mid_job_is_replaced_and_the_weights_match_bit_for_bit(deployment: Deployment) -> None:
    d = deployment
    epochs = 150  # 1200 steps
    job_id = start(d, {**request(epochs), "dataset": upload(d)}).json()["id"]
    wait_for(f"{d.url}/v1/trainings/{job_id}", lambda j: j["progress"]["step"] >= 300, what="step 300")
    victim = next(w for w in d.workers if w.poll() is None)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    killed_at = httpx.get(f"{d.url}/v1/trainings/{job_id}").json()["progress"]["step"]
    assert killed_at < epochs * 8
    d.start_worker()
    seen: list[int] = []

    def ended(job: dict[str, Any]) -> bool:
        seen.append(job["progress"]["step"])
        return job["state"] in ("succeeded", "failed")

    job = wait_for(f"{d.url}/v1/trainings/{job_id}", ended, timeout=120, what="resumed job")
    assert job["state"] == "succeeded", job
    assert job["attempts"] >= 2
    assert seen == sorted(seen), "the reported step went backwards on resume"
    assert min(seen) >= killed_at
    assert steps_recorded(d, job_id) == list(range(1, epochs * 8 + 1))  # no gap, no duplicate
    resumed = re.findall(rf"runs job {job_id} \(attempt \d+, from step (\d+)\)", d.logs())
    assert resumed[0] == "0"
    assert 0 < int(resumed[-1]) <= killed_at  # it says the step of the checkpoint it resumes from, not the job's last step
    result = httpx.get(f"{d.url}/v1/trainings/{job_id}/result").json()
    assert result == reference(d, epochs)


def _sse(url: str, last_event_id: int | None, until: int | None) -> tuple[list[int], bool]:
    """Step ids of an SSE stream (stop after ``until``), and whether it ended with the end event."""
    headers = {"Accept": "text/event-stream"} | ({"Last-Event-ID": str(last_event_id)} if last_event_id is not None else {})
    ids: list[int] = []
    with httpx.stream("GET", url, headers=headers, timeout=60) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        for line in r.iter_lines():
            if line.startswith("id: "):
                ids.append(int(line[4:]))
                if until is not None and ids[-1] >= until:
                    return ids, False
            elif line == "event: end":
                return ids, True
    return ids, False


def test_a_restarted_web_process_loses_nothing_and_sse_resumes_exactly(deployment: Deployment) -> None:
    d = deployment
    epochs = 100
    job_id = start(d, {**request(epochs), "dataset": upload(d)}).json()["id"]
    seen, _ = _sse(f"{d.url}/v1/trainings/{job_id}/events", None, until=100)
    d.restart_web()
    job = httpx.get(f"{d.url}/v1/trainings/{job_id}").json()
    assert job["state"] in ("running", "succeeded")
    rest, ended = _sse(f"{d.url}/v1/trainings/{job_id}/events", seen[-1], until=None)
    assert ended
    assert seen + rest == list(range(1, epochs * 8 + 1))
    wait_for(f"{d.url}/v1/trainings/{job_id}", lambda j: j["state"] == "succeeded", what="job after restart")
    assert httpx.get(f"{d.url}/v1/trainings/{job_id}/result").json()["network"]
    lines = httpx.get(f"{d.url}/v1/trainings/{job_id}/events", params={"after": 795}, headers={"Accept": "application/x-ndjson"}).text
    assert [line.split(",")[0] for line in lines.splitlines()][:5] == ['{"event":"step"'] * 5


def test_cancel_stops_within_one_step_and_is_idempotent(deployment: Deployment) -> None:
    d = deployment
    job_id = start(d, {**request(400), "dataset": upload(d)}).json()["id"]
    wait_for(f"{d.url}/v1/trainings/{job_id}", lambda j: j["progress"]["step"] >= 20, what="running")
    asked = httpx.post(f"{d.url}/v1/trainings/{job_id}/cancel").json()
    job = wait_for(f"{d.url}/v1/trainings/{job_id}", lambda j: j["state"] == "cancelled", timeout=10, what="cancelled")
    assert job["progress"]["step"] <= asked["progress"]["step"] + 1
    assert httpx.post(f"{d.url}/v1/trainings/{job_id}/cancel").json()["state"] == "cancelled"
    time.sleep(0.3)
    assert httpx.get(f"{d.url}/v1/trainings/{job_id}").json()["progress"]["step"] == job["progress"]["step"]
    assert httpx.get(f"{d.url}/v1/trainings/{job_id}/result").status_code == 409


def test_bad_input_gets_404_409_and_422(deployment: Deployment) -> None:
    d = deployment
    dataset = upload(d)
    r = start(d, {**request(1), "dataset": "0" * 64})
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    wrong = {**request(1), "dataset": dataset, "network": {"layers": [NETWORK["layers"][1]]}}  # 128 inputs, the data has 784
    r = start(d, wrong)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["pointer"] == "/dataset"
    r = start(d, {**request(10**7), "dataset": dataset})
    assert r.status_code == 422
    assert "max_job_steps" in r.text
    assert r.json()["errors"][0]["pointer"] == "/epochs"
    r = start(d, {**request(1), "dataset": dataset, "time_limit_seconds": 10**9})
    assert r.status_code == 422
    assert "max_job_seconds" in r.text
    job_id = start(d, {**request(200), "dataset": dataset}).json()["id"]
    wait_for(f"{d.url}/v1/trainings/{job_id}", lambda j: j["state"] == "running", what="running")
    r = httpx.get(f"{d.url}/v1/trainings/{job_id}/result")
    assert r.status_code == 409
    assert r.headers["retry-after"]
    assert r.headers["content-type"] == "application/problem+json"
    assert httpx.delete(f"{d.url}/v1/datasets/{dataset}").status_code == 409  # in use
    huge = "15987732736501720387944448"  # found by the fuzzer: past the stores' 64-bit integers
    assert httpx.get(f"{d.url}/v1/trainings/{job_id}/events", params={"after": huge}).status_code == 422
    with httpx.stream("GET", f"{d.url}/v1/trainings/{job_id}/events", headers={"Last-Event-ID": huge}, timeout=10) as r:
        assert r.status_code == 200  # a Last-Event-ID this service never sent is ignored, not a broken stream
    httpx.post(f"{d.url}/v1/trainings/{job_id}/cancel")
    wait_for(f"{d.url}/v1/trainings/{job_id}", lambda j: j["state"] == "cancelled", what="cancelled")


def test_a_job_honours_frozen_layers_as_train_does(deployment: Deployment) -> None:
    """trainable / train_bias (issue 22) travel with the stored request: the job's weights equal /v1/train's, the frozen ones unchanged."""
    d = deployment
    frozen = {"layers": [{**NETWORK["layers"][0], "trainable": False}, {**NETWORK["layers"][1], "train_bias": False}]}
    body = {**request(2), "network": frozen}
    job_id = start(d, {**body, "dataset": upload(d)}).json()["id"]
    job = wait_for(f"{d.url}/v1/trainings/{job_id}", lambda j: j["state"] in ("succeeded", "failed"), what="frozen job")
    assert job["state"] == "succeeded", job
    result = httpx.get(f"{d.url}/v1/trainings/{job_id}/result").json()
    reference = httpx.post(f"{d.url}/v1/train", json={**body, "x": tensor(X), "t": tensor(T)}, timeout=180).json()
    assert result == reference
    first, second = result["network"]["layers"]
    assert first["trainable"] is False
    assert np.array_equal(np.array(first["weights"], np.float32), W1)  # frozen: not one bit moved
    assert np.array_equal(np.array(second["bias"], np.float32), np.zeros(K, np.float32))
    assert not np.array_equal(np.array(second["weights"], np.float32), W2)
