"""The pinned npm tools of tests/clients (package.json, package-lock.json), installed with `npm ci` when missing or stale."""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest

CLIENTS = Path(__file__).resolve().parent
LOCK = CLIENTS / "package-lock.json"
#: npm's copy of the lock inside node_modules: present and newer than the lock once `npm ci` installed it.
INSTALLED = CLIENTS / "node_modules" / ".package-lock.json"
#: Redocly's CLI would otherwise report usage and look for updates on hosts these machines cannot reach.
QUIET = {"REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true", "NO_UPDATE_NOTIFIER": "1", "NO_COLOR": "1"}


@cache
def _install() -> Path:
    if not INSTALLED.exists() or INSTALLED.stat().st_mtime < LOCK.stat().st_mtime:
        run = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"], cwd=CLIENTS, capture_output=True, text=True, timeout=600, check=False
        )
        if run.returncode != 0:
            pytest.fail(f"npm ci in {CLIENTS} failed:\n{run.stdout[-3000:]}{run.stderr[-3000:]}")
    return CLIENTS / "node_modules" / ".bin"


def node_tools() -> Path:
    """The folder of the installed tools' commands (tsc, openapi-typescript, redocly); skips without node outside CI."""
    if shutil.which("npm") is None or shutil.which("node") is None:
        if os.environ.get("CI"):
            pytest.fail("node and npm are needed (node 20 or newer)")
        pytest.skip("node and npm are not installed: Node.js 20 or newer with npm, and the npm registry for npm ci in tests/clients")
    return _install()


def env() -> dict[str, str]:
    """The environment to run the tools in."""
    return {**os.environ, **QUIET}
