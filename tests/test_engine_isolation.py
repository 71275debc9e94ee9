"""The engine is pure NumPy, and the schemas translate without HTTP: neither imports the web layer."""

import subprocess
import sys


def test_engine_imports_neither_fastapi_nor_pydantic() -> None:
    code = (
        "import sys, service.engine, service.engine.optimizers, service.engine.training\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'fastapi', 'pydantic', 'starlette', 'pydantic_core'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


def _imported(modules: str) -> list[str]:
    code = f"import sys, {modules}\nprint(sorted({{m.split('.')[0] for m in sys.modules}} & {{'fastapi', 'starlette'}}))"
    return eval(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)  # type: ignore[no-any-return]


def test_schemas_handlers_and_domain_errors_import_neither_fastapi_nor_starlette() -> None:
    import pkgutil

    import service.handlers
    import service.schemas

    modules = [f"service.schemas.{m.name}" for m in pkgutil.iter_modules(service.schemas.__path__)]
    modules += [f"service.handlers.{m.name}" for m in pkgutil.iter_modules(service.handlers.__path__)]
    assert _imported(", ".join(["service.errors", "service.limits", *modules])) == []


def test_the_isolation_check_sees_an_import_of_the_web_layer() -> None:
    """The check can fail: the API layer does import FastAPI."""
    assert _imported("service.api.problems") == ["fastapi", "starlette"]


def _service_modules(modules: str) -> list[str]:
    """The modules of ``service.schemas`` that importing ``modules`` brings in."""
    code = f"import sys, {modules}\nprint(sorted(m for m in sys.modules if m.startswith('service.schemas')))"
    return eval(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)  # type: ignore[no-any-return]


def test_the_job_system_imports_no_wire_schema() -> None:
    """service/jobs/ keeps the store, datasets, leases and checkpoints and runs what it is given (handlers/jobs.py prepares it)."""
    import pkgutil

    import service.jobs

    modules = [f"service.jobs.{m.name}" for m in pkgutil.iter_modules(service.jobs.__path__)]
    assert _service_modules(", ".join(modules)) == []


def test_the_job_check_sees_an_import_of_the_schemas() -> None:
    """The check can fail: the jobs' handler does prepare runs from the wire schemas."""
    assert "service.schemas.jobs" in _service_modules("service.handlers.jobs")
