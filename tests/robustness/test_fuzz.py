"""Schemathesis against a running server: every operation, every check, positive and negative data.

Zero 5xx and zero responses outside the documented schemas (status codes, media
types, bodies, headers). The one configured exception is in schemathesis.toml.
About 3 minutes; the number of generated cases is printed.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from service.main import create_app
from tests.server import running_server

pytestmark = pytest.mark.slow  # the quick loop, `pytest -m "not slow"`, leaves it out

CONFIG = Path(__file__).with_name("schemathesis.toml")
EXAMPLES_PER_OPERATION = 150
SEED = 20261128


def test_fuzzing_finds_no_server_error_and_no_schema_violation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli = Path(sys.executable).with_name("schemathesis")
    with running_server({"GRADIENT_JOB_WORKERS": "1"}) as server:  # a worker, so that the jobs it submits run and end
        command = [str(cli), "--config-file", str(CONFIG), "--no-color", "run", f"{server.url}/openapi.json"]
        command += ["--checks", "all", "--mode", "all", "--max-examples", str(EXAMPLES_PER_OPERATION), "--seed", str(SEED)]
        command += ["--generation-database", "none", "--workers", "1", "--request-timeout", "30"]
        run = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False)
        log = server.log().splitlines()
    server_errors = [line for line in log if '"status":5' in line or "Traceback" in line]
    cases = re.search(r"Test cases:\s*\n\s*(\d+) generated", run.stdout)
    with capsys.disabled():
        print(f"\nschemathesis: {cases.group(1) if cases else '?'} generated cases, exit code {run.returncode}")
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-5000:]
    assert cases is not None
    assert int(cases.group(1)) > 500
    operations = sum(len(methods) for methods in create_app().openapi()["paths"].values())
    assert f"{operations} selected / {operations} total" in run.stdout
    assert sum('"message":"request"' in line for line in log) > 500  # the access log that server_errors reads
    assert server_errors == []
