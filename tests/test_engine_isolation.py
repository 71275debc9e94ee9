"""The engine is pure NumPy: importing it must not import the web or schema layers."""

import subprocess
import sys


def test_engine_imports_neither_fastapi_nor_pydantic() -> None:
    code = (
        "import sys, service.engine, service.engine.optimizers, service.engine.training\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'fastapi', 'pydantic', 'starlette', 'pydantic_core'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"
