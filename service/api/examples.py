"""The documented answers of the request examples: data committed beside them, so the OpenAPI document is the same on every CPU.

The last bits of a float64 ``tanh`` or ``exp`` depend on the CPU's SIMD kernels (AVX-512 or not), so answers
computed at import would round differently from one machine to another. Instead the answers live in
``service/api/example_answers.json`` (``{operation_id: {example name: answer}}``), written by
``python -m service.openapi_export`` for any example that has none yet (``--recompute-examples``: for all), and
tests/api/test_examples.py checks that the live handlers still give them (numbers to rtol 1e-12).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel

from service.engine.arrays import Checkpoint, no_checkpoint
from service.schemas.files import FileAnswer
from service.schemas.responses import dump

M = TypeVar("M", bound=BaseModel)

ANSWERS = Path(__file__).with_name("example_answers.json")
#: Significant digits of the numbers in the documented answers.
EXAMPLE_DIGITS = 15
#: Set by ``python -m service.openapi_export --recompute-examples`` before the routes are imported.
RECOMPUTE = False
#: The answers computed in this process (none committed yet, or RECOMPUTE), for the export to commit.
COMPUTED: dict[str, dict[str, Any]] = {}


def rounded(value: Any) -> Any:
    """``value`` with every float rounded to ``EXAMPLE_DIGITS`` significant digits."""
    if isinstance(value, float):
        return float(f"{value:.{EXAMPLE_DIGITS}g}")
    if isinstance(value, dict):
        return {key: rounded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [rounded(item) for item in value]
    return value


@cache
def committed() -> dict[str, dict[str, Any]]:
    """The committed answers (none when the file is missing)."""
    try:
        return dict(json.loads(ANSWERS.read_text()))
    except FileNotFoundError:
        return {}


def answer(operation: str, name: str, compute: Callable[[], Any]) -> Any:
    """The committed answer of example ``name`` of ``operation``; computed (and kept for the export) if there is none."""
    known = committed().get(operation, {})
    if name in known and not RECOMPUTE:
        return known[name]
    value = compute()
    COMPUTED.setdefault(operation, {})[name] = value
    return value


def json_answer(model: type[M], handler: Callable[[M, Checkpoint], dict[str, Any] | FileAnswer], body: dict[str, Any]) -> Any:
    """What ``handler`` answers to the request ``body``, as JSON data with rounded numbers."""
    answer_ = handler(model.model_validate_json(orjson.dumps(body)), no_checkpoint)
    assert isinstance(answer_, dict), "a route whose answer is a file has no JSON examples"
    return rounded(orjson.loads(dump(answer_)))


def answer_examples(
    operation: str,
    model: type[M],
    handler: Callable[[M, Checkpoint], dict[str, Any] | FileAnswer],
    examples: dict[str, dict[str, Any]],
) -> dict[int | str, Any]:
    """The route's ``responses`` entry showing the answer to each named request example (the docs show the primer's numbers)."""
    answers = {
        name: {
            "summary": example["summary"],
            "value": answer(operation, name, functools.partial(json_answer, model, handler, example["value"])),
        }
        for name, example in examples.items()
    }
    return {200: {"content": {"application/json": {"examples": answers}}}}


def save() -> None:
    """Commit the answers computed in this process beside the others (``python -m service.openapi_export``)."""
    base = {} if RECOMPUTE else committed()
    merged = {op: {**base.get(op, {}), **COMPUTED.get(op, {})} for op in sorted({*base, *COMPUTED})}
    ANSWERS.write_text(json.dumps(merged, indent=1, ensure_ascii=False) + "\n")
