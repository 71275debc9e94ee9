"""Two tenants on one service, on both backends: neither can see, change or learn of the other's datasets and jobs.

The keys come from GRADIENT_API_KEYS_FILE (hashes only): alice has two keys (a rotation), bob one. For every route
that takes an id, bob's answer for alice's id is the answer for a random id, byte for byte apart from the request id.
The keys file is re-read while the service runs; the plain keys appear in no log and no file the service writes.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from service.tenants import key_hash
from tests.jobs.conftest import Deployment, deploy, wait_for

pytestmark = pytest.mark.slow

ALICE, ALICE_NEW, BOB, CAROL = "alice-key-1-s3cr3t", "alice-key-2-s3cr3t", "bob-key-s3cr3t", "carol-key-s3cr3t"
rng = np.random.default_rng(17)
X = rng.normal(size=(40, 2))
T = (X[:, :1] * X[:, 1:] > 0).astype(np.float64)
NETWORK = {
    "layers": [
        {"weights": [[0.5, -0.4], [0.3, 0.8], [-0.6, 0.2]], "bias": [0.0, 0.1, -0.1], "activation": "tanh"},
        {"weights": [[0.7, -0.5, 0.4]], "activation": "sigmoid"},
    ]
}


def keys_file(path: Path, *lines: tuple[str, str]) -> None:
    path.write_text("# tenants of the test\n" + "".join(f"{tenant} {key_hash(key)}  # {tenant}\n" for tenant, key in lines))


@pytest.fixture(scope="module", params=["embedded", "redis"])
def tenants(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Deployment, Path]]:
    keys = tmp_path_factory.mktemp("keys") / "api-keys"
    keys_file(keys, ("alice", ALICE), ("alice", ALICE_NEW), ("bob", BOB))
    for d in deploy(request, tmp_path_factory, {"GRADIENT_API_KEYS_FILE": str(keys)}):
        yield d, keys


def as_(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def npz() -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(buf, x=X, t=T)
    return buf.getvalue()


def upload(url: str, key: str) -> httpx.Response:
    return httpx.post(f"{url}/v1/datasets", content=npz(), headers={**as_(key), "Content-Type": "application/octet-stream"}, timeout=60)


def body(dataset: str, epochs: int = 5) -> dict[str, Any]:
    return {
        "network": NETWORK,
        "loss": "binary_cross_entropy",
        "optimizer": {"name": "adam"},
        "epochs": epochs,
        "batch_size": 8,
        "dataset": dataset,
    }


def submit(url: str, key: str, request: dict[str, Any], idempotency: str | None = None) -> httpx.Response:
    headers = as_(key) | ({"Idempotency-Key": idempotency} if idempotency else {})
    return httpx.post(f"{url}/v1/trainings", json=request, headers=headers, timeout=60)


def without_request_id(r: httpx.Response) -> tuple[int, str, bytes]:
    return r.status_code, r.headers.get("content-type", ""), r.content


def test_another_tenants_ids_answer_as_ids_that_do_not_exist(tenants: tuple[Deployment, Path]) -> None:
    d, _ = tenants
    url = d.url
    made = upload(url, ALICE)
    assert made.status_code == 201, made.text
    dataset = made.json()["id"]
    job = submit(url, ALICE, body(dataset), "alice-run").json()["id"]
    wait_for(f"{url}/v1/trainings/{job}", lambda j: j["state"] == "succeeded", headers=as_(ALICE), what="alice's job")
    assert httpx.get(f"{url}/v1/trainings/{job}/result", headers=as_(ALICE_NEW)).status_code == 200  # her second key: her tenant
    nobody_dataset, nobody_job = "f" * 64, "0123456789abcdef0123456789abcdef"
    routes = [
        ("GET", "/v1/datasets/{d}"),
        ("DELETE", "/v1/datasets/{d}"),
        ("GET", "/v1/trainings/{j}"),
        ("GET", "/v1/trainings/{j}/events"),
        ("GET", "/v1/trainings/{j}/metrics"),
        ("GET", "/v1/trainings/{j}/result"),
        ("POST", "/v1/trainings/{j}/cancel"),
        ("DELETE", "/v1/trainings/{j}"),
    ]
    for method, path in routes:
        hers = httpx.request(method, url + path.format(d=dataset, j=job), headers=as_(BOB), timeout=30)
        random = httpx.request(method, url + path.format(d=nobody_dataset, j=nobody_job), headers=as_(BOB), timeout=30)
        assert hers.status_code == 404, (method, path, hers.text)
        assert hers.headers["content-type"] == "application/problem+json"
        assert without_request_id(hers) == without_request_id(random), (method, path)
        assert hers.headers["x-request-id"] != random.headers["x-request-id"]
    # and nothing of hers changed
    assert httpx.get(f"{url}/v1/datasets/{dataset}", headers=as_(ALICE)).status_code == 200
    assert httpx.get(f"{url}/v1/trainings/{job}", headers=as_(ALICE)).json()["state"] == "succeeded"
    assert httpx.get(f"{url}/v1/trainings/{job}/result", headers=as_(ALICE)).status_code == 200


def test_lists_show_only_ones_own(tenants: tuple[Deployment, Path]) -> None:
    d, _ = tenants
    mine = {j["id"] for j in httpx.get(f"{d.url}/v1/trainings", headers=as_(ALICE)).json()["jobs"]}
    assert mine
    assert httpx.get(f"{d.url}/v1/trainings", headers=as_(BOB)).json() == {"jobs": [], "next": None}
    assert httpx.get(f"{d.url}/v1/trainings", params={"state": "succeeded"}, headers=as_(BOB)).json()["jobs"] == []


def test_the_same_bytes_make_a_dataset_of_ones_own(tenants: tuple[Deployment, Path]) -> None:
    d, _ = tenants
    hers = upload(d.url, ALICE)
    assert hers.status_code == 200  # she stored it before: the same dataset
    his = upload(d.url, BOB)
    assert his.status_code == 201, his.text  # his own, new: nothing says she has it
    assert his.json()["created"] > hers.json()["created"]
    assert his.json()["id"] == hers.json()["id"]  # the content hash, within each tenant
    assert httpx.delete(f"{d.url}/v1/datasets/{his.json()['id']}", headers=as_(BOB)).status_code == 204
    assert httpx.get(f"{d.url}/v1/datasets/{hers.json()['id']}", headers=as_(ALICE)).status_code == 200


def test_an_idempotency_key_is_each_tenants_own(tenants: tuple[Deployment, Path]) -> None:
    d, _ = tenants
    dataset = upload(d.url, ALICE).json()["id"]
    hers = submit(d.url, ALICE, body(dataset), "alice-run")
    assert hers.status_code == 202
    his_dataset = upload(d.url, BOB).json()["id"]
    his = submit(d.url, BOB, body(his_dataset), "alice-run")  # her key, her body
    assert his.status_code == 202, his.text
    assert his.json()["id"] != hers.json()["id"]
    other = submit(d.url, BOB, body(his_dataset, epochs=7), "alice-run")  # his own key now, another body: a conflict of his own
    assert other.status_code == 409
    wait_for(f"{d.url}/v1/trainings/{his.json()['id']}", lambda j: j["state"] == "succeeded", headers=as_(BOB), what="his job")


def test_keys_are_needed_and_never_written_anywhere(tenants: tuple[Deployment, Path]) -> None:
    d, _ = tenants
    assert httpx.get(f"{d.url}/v1/trainings").status_code == 401
    assert httpx.get(f"{d.url}/v1/trainings", headers=as_("not-a-key")).status_code == 401
    assert httpx.get(f"{d.url}/v1/trainings", headers={"X-API-Key": BOB}).status_code == 200
    assert httpx.get(f"{d.url}/livez").status_code == 200  # probes stay open
    logs = d.server.log() + d.logs() if d.server else ""
    assert '"tenant":"alice"' in logs  # the access log names the tenant
    for key in (ALICE, ALICE_NEW, BOB):
        assert key not in logs
        for path in d.data_dir.rglob("*"):
            if path.is_file():
                assert key.encode() not in path.read_bytes(), path


def test_the_keys_file_is_read_again_when_it_changes(tenants: tuple[Deployment, Path]) -> None:
    d, keys = tenants
    assert httpx.get(f"{d.url}/v1/trainings", headers=as_(CAROL)).status_code == 401
    keys_file(keys, ("alice", ALICE), ("alice", ALICE_NEW), ("carol", CAROL))  # carol in, bob out: no restart
    started = time.monotonic()
    while httpx.get(f"{d.url}/v1/trainings", headers=as_(CAROL)).status_code != 200:
        assert time.monotonic() - started < 5, "a key added to the file did not work within 5 s"
        time.sleep(0.2)
    while httpx.get(f"{d.url}/v1/trainings", headers=as_(BOB)).status_code != 401:
        assert time.monotonic() - started < 5, "a key removed from the file still worked after 5 s"
        time.sleep(0.2)
    keys_file(keys, ("alice", ALICE), ("alice", ALICE_NEW), ("bob", BOB))
    while httpx.get(f"{d.url}/v1/trainings", headers=as_(BOB)).status_code != 200:
        assert time.monotonic() - started < 10
        time.sleep(0.2)


def test_the_client_sends_its_key_and_sees_its_tenants_jobs_only(tenants: tuple[Deployment, Path]) -> None:
    from service.client import Client, ProblemError

    d, _ = tenants
    with Client(d.url, api_key=ALICE) as alice, Client(d.url, api_key=BOB) as bob, Client(d.url) as nobody:
        theirs = {j.id for j in alice.trainings().jobs}
        assert theirs
        assert not theirs & {j.id for j in bob.trainings().jobs}
        with pytest.raises(ProblemError) as caught:
            nobody.trainings()
        assert caught.value.status == 401
