"""Every shell and Python block of the README runs as written, in order, against a server this test starts.

The server is the console script of this environment on 127.0.0.1:8000, as the README's start command runs it
(with its job worker). Shell blocks run with this environment's ``bin`` first on PATH (as after
``. .venv/bin/activate``), in one scratch folder, each with the variables the blocks before it set. A block
preceded by ``<!-- readme-test: skip REASON -->`` is not run and the reason is printed; the primer's answer is
compared with the JSON the README shows for it. The count of blocks run and skipped, and why, is printed and
written to test-output/readme-blocks.txt.
"""

from __future__ import annotations

import json
import math
import os
import re
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.server import ROOT, ServerProcess, running_server

pytestmark = pytest.mark.slow

PORT = 8000
OUTPUT = ROOT / "test-output" / "readme-blocks.txt"


@dataclass(frozen=True)
class Block:
    line: int
    language: str
    code: str
    skip: str | None


def blocks(text: str) -> list[Block]:
    """The fenced code blocks of ``text`` (also those indented in a list), each with the skip reason marked before it."""
    found, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        fence = re.fullmatch(r"(\s*)```(\w*)\s*", lines[i])
        if not fence:
            i += 1
            continue
        indent, language, start = fence.group(1), fence.group(2), i
        before = lines[i - 1].strip() if i else ""
        i += 1
        body = []
        while not re.fullmatch(rf"{indent}```\s*", lines[i]):
            body.append(lines[i])
            i += 1
        skip = re.fullmatch(r"<!-- readme-test: skip (.*) -->", before)
        found.append(Block(start + 1, language, textwrap.dedent("\n".join(body)), skip.group(1) if skip else None))
        i += 1
    return found


def close(got: Any, want: Any) -> None:
    if isinstance(want, float):
        assert math.isclose(got, want, rel_tol=1e-12), (got, want)
    elif isinstance(want, dict):
        assert got.keys() == want.keys()
        for key in want:
            close(got[key], want[key])
    elif isinstance(want, list):
        assert len(got) == len(want)
        for g, w in zip(got, want, strict=True):
            close(g, w)
    else:
        assert got == want


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", PORT))
        except OSError:
            pytest.skip(f"port {PORT} is taken here: the README's blocks speak to 127.0.0.1:{PORT}")
    with running_server({"GRADIENT_JOB_WORKERS": "1"}, port=PORT) as s:
        yield s


def test_every_block_runs_as_written(server: ServerProcess, tmp_path: Path) -> None:
    readme = blocks((ROOT / "README.md").read_text())
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("VIRTUAL_ENV", None)
    state = tmp_path / ".state"
    ran: list[Block] = []
    skipped: list[Block] = []
    not_code: list[Block] = []
    compared: list[Block] = []
    names: set[str] = set()
    previous_output = ""
    for block in readme:
        if block.language not in ("sh", "python"):
            if block.language == "json" and previous_output.startswith("{"):  # the answer the block just before shows
                close(json.loads(previous_output), json.loads(block.code))
                compared.append(block)
            previous_output = ""
            not_code.append(block)
            continue
        if block.skip:
            skipped.append(block)
            continue
        if block.language == "sh":  # as in one shell: the variables the README sets carry over to the blocks after
            names.update(re.findall(r"^\s*([A-Z][A-Z0-9_]*)=", block.code, re.M))
            keep = f"declare -p {' '.join(sorted(names))} > {state}" if names else ":"
            script = f"[ -f {state} ] && . {state}\n{block.code}\n{keep}\n"
            cmd = ["bash", "-euo", "pipefail", "-c", script]
        else:
            cmd = [sys.executable, "-c", block.code]
        done = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, (
            f"README line {block.line} ({block.language}) failed:\n{block.code}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
        )
        previous_output = done.stdout.strip()
        ran.append(block)
    reasons = sorted({b.skip for b in skipped if b.skip})
    summary = [f"README blocks: {len(ran)} ran, {len(skipped)} skipped, {len(not_code)} not code (json, yaml, text)"]
    summary += [f"  skipped (line {b.line}): {b.skip}" for b in skipped]
    OUTPUT.parent.mkdir(exist_ok=True)
    OUTPUT.write_text("\n".join(summary) + "\n")
    print("\n".join(summary))
    assert len(ran) >= 6
    assert all(reasons)
    assert [b.line for b in compared], "the primer's answer was not compared with the JSON the README shows"


def test_the_block_reader_sees_indented_blocks_and_skip_marks() -> None:
    text = "a\n<!-- readme-test: skip no engine -->\n```sh\necho 1\n```\n- item:\n\n  ```python\n  print(2)\n  ```\n"
    assert blocks(text) == [Block(3, "sh", "echo 1", "no engine"), Block(8, "python", "print(2)", None)]
