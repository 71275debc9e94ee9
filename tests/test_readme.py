"""The README says what is true: its endpoint table is the OpenAPI document's operations with their success statuses,
and the repository tracks nothing that its .gitignore ignores (generated data)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from service.openapi_export import PATH
from tests.server import ROOT


def table() -> dict[tuple[str, str], str]:
    """(method, path) → the statuses of the README's endpoint table."""
    readme = (ROOT / "README.md").read_text()
    block = readme[readme.index("| method and path | answers |") : readme.index("\n\n", readme.index("| method and path | answers |"))]
    rows: dict[tuple[str, str], str] = {}
    for line in block.splitlines()[2:]:
        first, answers, *_ = line.strip("|").split(" | ")
        for method, path in re.findall(r"`(GET|POST|PUT|DELETE) (/[^`?\s]*)", first):
            rows[(method, path)] = answers.strip()
    return rows


def test_every_operation_is_in_the_readmes_endpoint_table_with_its_statuses() -> None:
    document = json.loads(PATH.read_text())
    rows = table()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            statuses = sorted((code for code in operation["responses"] if code.startswith("2")), key=lambda c: (c != "201", c))
            assert (method.upper(), path) in rows, f"README's endpoint table lacks {method.upper()} {path}"
            assert rows[(method.upper(), path)] == ", ".join(statuses), (
                f"{method.upper()} {path}: README says {rows[(method.upper(), path)]}"
            )


def test_the_table_check_sees_a_missing_row() -> None:
    assert ("GET", "/v1/trainings") in table()
    assert ("PATCH", "/v1/trainings") not in table()


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(), reason="not a git checkout")
def test_nothing_generated_is_tracked() -> None:
    """A file that .gitignore ignores but git tracks (a database a run of the service wrote) is a mistake."""
    out = subprocess.run(["git", "ls-files", "-ci", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == []
