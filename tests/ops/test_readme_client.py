"""The README's client example, run as a reader would: in a virtual environment made by the README's first command.

That command (`python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/gradient-service`) is run in a
copy of the checkout, without its last step (it would start a server); the example then runs with that
environment's Python, no extras installed, against a real server. A dependency the client needs but
`pip install .` does not bring fails here. Installing takes about a minute (pip's cache helps).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.server import ROOT, ServerProcess

pytestmark = pytest.mark.slow  # the quick loop, `pytest -m "not slow"`, leaves it out

README = (ROOT / "README.md").read_text(encoding="utf-8")
SERVE = " && .venv/bin/gradient-service"


def first_block(after: str, language: str) -> str:
    """The first fenced block of ``language`` after the heading ``after``."""
    section = README[README.index(after) :]
    match = re.search(rf"```{language}\n(.*?)```", section, re.DOTALL)
    assert match is not None, f"no {language} block after {after!r}"
    return match.group(1)


def test_readme_client_example_runs_after_the_readme_install(tmp_path: Path, server_process: ServerProcess) -> None:
    install = first_block("## Start it", "sh").strip()
    assert install.endswith(SERVE), install
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, checkout)
    shutil.copytree(ROOT / "service", checkout / "service", ignore=shutil.ignore_patterns("__pycache__"))
    run = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", install.removesuffix(SERVE)],
        cwd=checkout,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-5000:] + run.stderr[-5000:]

    example = first_block("## Client", "python")
    assert "http://127.0.0.1:8000" in example
    script = tmp_path / "example.py"
    script.write_text(example.replace("http://127.0.0.1:8000", server_process.url), encoding="utf-8")
    # from elsewhere than the checkout: `service` must come from the installed package
    result = subprocess.run(
        [str(checkout / ".venv" / "bin" / "python"), str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("0.1316249275")
    assert lines[-1] == "422 /x"
