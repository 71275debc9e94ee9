"""The documented answers of the request examples are committed data: every one is what the live handler answers.

The committed numbers were computed on one CPU; on another (AVX-512 vs AVX2) numpy's tanh and exp may differ in
the last bits, so they are compared to rtol 1e-12, not bit for bit. The document itself stays the same everywhere.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from service.api import examples
from service.api.routes import explain, training
from service.handlers import explain as explain_handler
from service.handlers import gradients
from service.handlers import training as training_handlers
from service.schemas.diagram import DIAGRAM_EXAMPLES
from service.schemas.examples import BACKWARD_EXAMPLES, FORWARD_EXAMPLES, TRAIN_STEP_EXAMPLES
from service.schemas.explain import EXPLAIN_EXAMPLES, ExplainRequest
from service.schemas.requests import BackwardRequest, ForwardRequest, TrainStepRequest

RTOL = 1e-12

JSON_ROUTES: dict[str, tuple[Any, Any, dict[str, dict[str, Any]]]] = {
    "forward": (ForwardRequest, gradients.forward, FORWARD_EXAMPLES),
    "backward": (BackwardRequest, gradients.backward, BACKWARD_EXAMPLES),
    "train_step": (TrainStepRequest, training_handlers.train_step, TRAIN_STEP_EXAMPLES),
    "explain": (ExplainRequest, explain_handler.explain, EXPLAIN_EXAMPLES),
}


def close(got: Any, want: Any, where: str = "") -> None:
    """The same structure, every number within RTOL, everything else equal."""
    if isinstance(want, float | int) and not isinstance(want, bool):
        assert isinstance(got, float | int), where
        assert math.isclose(got, want, rel_tol=RTOL, abs_tol=1e-300), f"{where}: {got!r} != {want!r}"
    elif isinstance(want, dict):
        assert isinstance(got, dict), where
        assert got.keys() == want.keys(), where
        for key in want:
            close(got[key], want[key], f"{where}/{key}")
    elif isinstance(want, list):
        assert isinstance(got, list), where
        assert len(got) == len(want), where
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            close(g, w, f"{where}/{i}")
    else:
        assert got == want, where


def test_every_example_has_a_committed_answer() -> None:
    committed = examples.committed()
    for operation, (_, _, named) in JSON_ROUTES.items():
        assert set(committed[operation]) == set(named), operation
    assert set(committed["diagram"]) == set(DIAGRAM_EXAMPLES)
    assert set(committed["train_stream"]) == {"two_epochs"}


@pytest.mark.parametrize("operation", JSON_ROUTES)
def test_the_live_handlers_give_the_committed_answers(operation: str) -> None:
    model, handler, named = JSON_ROUTES[operation]
    for name, example in named.items():
        close(examples.json_answer(model, handler, example["value"]), examples.committed()[operation][name], f"{operation}/{name}")


def test_the_stream_and_the_diagrams_are_the_committed_ones() -> None:
    lines = training._lines(training.STREAM_EXAMPLE).splitlines()
    committed = examples.committed()["train_stream"]["two_epochs"].splitlines()
    close([json.loads(line) for line in lines], [json.loads(line) for line in committed], "train_stream")
    for name, example in DIAGRAM_EXAMPLES.items():
        assert explain.drawn(example["value"]) == examples.committed()["diagram"][name], name  # labels at 2 digits


def test_the_comparison_fails_on_a_wrong_number() -> None:
    want = examples.committed()["backward"]["primer"]
    wrong = json.loads(json.dumps(want))
    wrong["layers"][1]["grad_weights"][0][0] *= 1 + 1e-9
    with pytest.raises(AssertionError, match="grad_weights"):
        close(wrong, want)
