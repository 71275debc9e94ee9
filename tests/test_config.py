"""The settings are described once (service/config.py): the README's table and ``--help`` are generated from them."""

from __future__ import annotations

import re
import subprocess
import sys

from service.config import Settings, setting_rows, settings_table
from tests.server import ROOT


def test_the_readmes_configuration_table_is_the_generated_one() -> None:
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- settings:[^\n]*-->\n(.*?)\n<!-- /settings -->", readme, re.S)
    assert block is not None, "README.md has no <!-- settings --> block"
    assert block.group(1) == settings_table(), "README's Configuration table is stale: paste `python -m service.config` into it"


def test_every_setting_is_a_row_with_its_variable_default_and_meaning() -> None:
    rows = setting_rows()
    assert [variable for variable, _, _ in rows] == [f"GRADIENT_{name.upper()}" for name in Settings.model_fields]
    assert all(meaning for _, _, meaning in rows)
    assert ("GRADIENT_PORT", "8000", "port the console script binds") in rows
    assert next(d for v, d, _ in rows if v == "GRADIENT_API_KEYS") == "empty"  # a secret's default is shown, never a key


def test_help_lists_every_setting_without_side_effects(tmp_path: object) -> None:
    for argv in ([], ["worker"]):
        out = subprocess.run(
            [sys.executable, "-m", "service.cli", *argv, "--help"], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=True
        )
        for variable, default, _ in setting_rows():
            assert f"{variable}  (default: {default})" in out.stdout, (argv, variable)
    assert list(tmp_path.iterdir()) == []  # type: ignore[attr-defined]  # no gradient-data/ made, nothing started
