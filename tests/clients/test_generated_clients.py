"""Clients generated from the committed openapi/openapi.json, with each generator's default options, against a real server.

Python: openapi-python-client (pinned in the test extra). TypeScript: openapi-typescript and
openapi-fetch (pinned in tests/clients/package.json), and the program tests/clients/program.ts,
which must pass `tsc --strict`. With each: the primer's backward (the primer's numbers), two Adam
train-steps that send the returned network and optimizer state back unchanged, networks/init, a
catalog GET, and a bad request read as a problem with its pointer. The durations are printed;
all of it takes about 20 s.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from service.openapi_export import PATH as DOCUMENT
from tests.clients.node import CLIENTS, env, node_tools
from tests.server import ServerProcess

pytestmark = pytest.mark.slow  # the quick loop, `pytest -m "not slow"`, leaves it out

RTOL_F64 = 1e-12
PACKAGE = "gradient_service_client"
PRIMER_X, PRIMER_T = [1.0, 2.0], [1.0, 1.15]


def assert_primer_numbers(got: dict[str, Any], want: dict[str, Any]) -> None:
    for key in ("loss", "y", "grad_x"):
        np.testing.assert_allclose(got[key], want[key], rtol=RTOL_F64, atol=0)
    for got_l, want_l in zip(got["layers"], want["layers"], strict=True):
        for key in ("a", "z", "delta", "grad_weights"):
            np.testing.assert_allclose(got_l[key], want_l[key], rtol=RTOL_F64, atol=0)


@pytest.fixture(scope="module")
def two_adam_steps(client: TestClient, primer: dict[str, Any]) -> list[dict[str, Any]]:
    """The two Adam steps as plain JSON over the in-process app: what each generated client must get."""
    body = {**primer["request"], "optimizer": {"name": "adam"}}
    first = client.post("/v1/train-step", json=body).json()
    second = client.post("/v1/train-step", json={**body, "network": first["network"], "optimizer_state": first["optimizer_state"]}).json()
    return [first, second]


@pytest.fixture(scope="module")
def initialized(client: TestClient) -> dict[str, Any]:
    answer: dict[str, Any] = client.post(
        "/v1/networks/init", json={"sizes": [2, 3, 2], "activations": ["tanh", "linear"], "seed": 0}
    ).json()
    return answer


def timed(what: str, capsys: pytest.CaptureFixture[str], started: float) -> None:
    with capsys.disabled():
        print(f"\n{what}: {time.perf_counter() - started:.1f} s")


@pytest.fixture(scope="module")
def python_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ModuleType, str]]:
    """The generated package (imported) and the generator's output."""
    out = tmp_path_factory.mktemp("python-client") / "client"
    bin_dir = Path(sys.executable).parent  # its post-generation hooks run ruff, which the test extra installs
    run = subprocess.run(
        [str(bin_dir / "openapi-python-client"), "generate", "--path", str(DOCUMENT), "--output-path", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"},
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module(PACKAGE), run.stdout + run.stderr
    finally:
        sys.path.remove(str(out))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def test_python_client_warns_only_about_the_ndjson_stream_and_the_svg(python_client: tuple[ModuleType, str]) -> None:
    """openapi-python-client reads JSON, text and bytes; the stream's 200 is application/x-ndjson and the diagram's
    image/svg+xml, which it leaves to the caller (the response's content)."""
    _, output = python_client
    warnings = [line for line in output.splitlines() if line.startswith("WARNING")]
    assert warnings == ["WARNING parsing POST /v1/diagram within explanations.", "WARNING parsing POST /v1/train/stream within training."]
    assert "Unsupported content_type application/x-ndjson" in output
    assert "Unsupported content_type image/svg+xml" in output


def test_generated_python_client(
    python_client: tuple[ModuleType, str],
    server_process: ServerProcess,
    primer: dict[str, Any],
    two_adam_steps: list[dict[str, Any]],
    initialized: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    started = time.perf_counter()
    package, _ = python_client
    models = importlib.import_module(f"{PACKAGE}.models")
    backward = importlib.import_module(f"{PACKAGE}.api.gradients.backward")
    train_step = importlib.import_module(f"{PACKAGE}.api.training.train_step")
    train_stream = importlib.import_module(f"{PACKAGE}.api.training.train_stream")
    init_network = importlib.import_module(f"{PACKAGE}.api.networks.init_network")
    list_losses = importlib.import_module(f"{PACKAGE}.api.catalog.list_losses")

    network = models.Network(
        layers=[
            models.Layer(weights=[[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]], activation=models.ActivationName.TANH),
            models.Layer(weights=[[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]], activation=models.ActivationName.LINEAR),
        ]
    )
    with package.Client(base_url=server_process.url, raise_on_unexpected_status=True) as client:
        # positionally, as the models declare them: x before t
        result = backward.sync(client=client, body=models.BackwardRequest(network, PRIMER_X, PRIMER_T))
        assert isinstance(result, models.BackwardResponse)
        assert_primer_numbers(result.to_dict(), primer["expected_float64"])

        adam = models.Adam(name="adam")
        first = train_step.sync(client=client, body=models.TrainStepRequest(network, PRIMER_X, PRIMER_T, adam))
        assert isinstance(first, models.TrainStepResponse)
        second = train_step.sync(
            client=client,
            body=models.TrainStepRequest(first.network, PRIMER_X, PRIMER_T, adam, optimizer_state=first.optimizer_state),
        )
        assert isinstance(second, models.TrainStepResponse)
        assert [first.to_dict(), second.to_dict()] == two_adam_steps

        # as binary tensors: the returned network and state (base64 now) go back unchanged as well
        tensors = models.TrainStepRequest(network, PRIMER_X, PRIMER_T, adam, response_encoding=models.ResponseEncoding.BASE64)
        first_b64 = train_step.sync(client=client, body=tensors)
        assert isinstance(first_b64, models.TrainStepResponse)
        assert first_b64.to_dict()["network"]["layers"][0]["weights"]["dtype"] == "float64"
        again = models.TrainStepRequest(first_b64.network, PRIMER_X, PRIMER_T, adam, optimizer_state=first_b64.optimizer_state)
        second_from_b64 = train_step.sync(client=client, body=again)
        assert isinstance(second_from_b64, models.TrainStepResponse)
        assert second_from_b64.to_dict() == two_adam_steps[1]

        new = init_network.sync(
            client=client, body=models.InitRequest(sizes=[2, 3, 2], activations=[models.ActivationName.TANH, models.ActivationName.LINEAR])
        )
        assert isinstance(new, models.InitResponse)
        assert new.to_dict() == initialized

        losses = list_losses.sync(client=client)
        assert isinstance(losses, list)
        assert {"half_sse", "mse", "huber"} <= {entry.name for entry in losses}

        bad = backward.sync_detailed(client=client, body=models.BackwardRequest(network, [1.0, 2.0, 3.0], PRIMER_T))
        assert bad.status_code == 422
        assert isinstance(bad.parsed, models.Problem)
        assert bad.parsed.errors[0].pointer == "/x"

    # the stream: the generated function sends the request and returns the raw answer (its 200 is not JSON), the caller reads the lines
    with package.Client(base_url=server_process.url) as client:
        streamed = train_stream.sync_detailed(client=client, body=models.TrainRequest(network, PRIMER_X, PRIMER_T, adam, epochs=2))
        assert streamed.status_code == 200
        assert streamed.headers["content-type"] == "application/x-ndjson"
        lines = [json.loads(line) for line in streamed.content.splitlines()]
        assert [line["event"] for line in lines] == ["epoch", "epoch", "result"]
        assert lines[-1]["network"] == two_adam_steps[1]["network"]
    timed("generated Python client, calls", capsys, started)


def test_generated_typescript_client(
    tmp_path: Path,
    server_process: ServerProcess,
    primer: dict[str, Any],
    two_adam_steps: list[dict[str, Any]],
    initialized: dict[str, Any],
    client: TestClient,
    capsys: pytest.CaptureFixture[str],
) -> None:
    started = time.perf_counter()
    tools = node_tools()
    generate = [str(tools / "openapi-typescript"), str(DOCUMENT), "--output", str(tmp_path / "schema.d.ts")]
    subprocess.run(generate, check=True, capture_output=True, timeout=120, env=env())
    shutil.copy(CLIENTS / "program.ts", tmp_path)
    shutil.copy(CLIENTS / "tsconfig.json", tmp_path)
    (tmp_path / "package.json").write_text('{"private": true, "type": "module"}\n')
    (tmp_path / "config.ts").write_text(f"export const BASE_URL = {json.dumps(server_process.url)};\n")
    (tmp_path / "node_modules").symlink_to(CLIENTS / "node_modules", target_is_directory=True)

    tsc = subprocess.run(
        [str(tools / "tsc"), "--strict", "-p", str(tmp_path)], capture_output=True, text=True, timeout=300, env=env(), check=False
    )
    assert tsc.returncode == 0, tsc.stdout + tsc.stderr
    run = subprocess.run(["node", "program.js"], cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env(), check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    got = json.loads(run.stdout)

    assert_primer_numbers(got["backward"], primer["expected_float64"])
    assert got["steps"] == two_adam_steps
    assert got["init"] == initialized
    want_forward = client.post("/v1/forward", json={"network": initialized["network"], "x": PRIMER_X}).json()
    assert got["forward"] == want_forward
    assert {"half_sse", "mse", "huber"} <= set(got["losses"])
    assert got["problem"] == {"status": 422, "type": "urn:gradient-service:problem:invalid-request", "pointer": "/x"}
    timed("generated TypeScript client: generate, tsc --strict, run", capsys, started)
