"""explain() against PyTorch autograd: every activation and every loss, bias and no bias, batches of 1 and 3.

Tolerance (float64): rtol 1e-10, atol 1e-12, as the conformance tests. The torch side is
tests/conformance/torch_reference.py: it writes hard_sigmoid as relu6(a + 3)/6, the exact
formula, because F.hardsigmoid's float64 backward multiplies by a float32-rounded 1/6
(relative error 3e-8); celu is F.celu itself, whose float64 backward agrees to 1e-10 on
these inputs (the conformance tests check the same). A batch's per-point gradient terms
are compared with torch's δₙₖ zₙₘ. Seeds: zlib.crc32 of the case (tests/conformance/cases.rng_for).
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import pytest

from service.engine.explain import count_steps, explain, sizes_of
from tests.conformance import torch_reference
from tests.conformance.cases import LOSSES, TORCH_ACTIVATIONS, engine_layers, engine_loss, label, name_and_params, problem, rng_for
from tests.engine.explain_helpers import assert_dependencies_come_first, assert_values

TOL = {"rtol": 1e-10, "atol": 1e-12}


def _fits(act: Any, outputs: set[str] | None) -> bool:
    return outputs is None or name_and_params(act)[0] in outputs


def cases() -> list[tuple[Any, Any, str]]:
    """Each activation with a loss that fits it, and each loss with an activation that fits it."""
    out = []
    for i, act in enumerate(TORCH_ACTIVATIONS):
        fitting = [(loss, kind) for loss, outputs, kind in LOSSES if _fits(act, outputs)]
        loss, kind = fitting[i % len(fitting)]
        out.append((act, loss, kind))
    for j, (loss, outputs, kind) in enumerate(LOSSES):
        fitting = [a for a in TORCH_ACTIVATIONS if _fits(a, outputs)]
        out.append((fitting[j % len(fitting)], loss, kind))
    return out


CASES = cases()


class TorchAsResult:
    """torch_reference.backward's result with the per-point losses and x that :func:`expected` reads."""

    def __init__(self, p: dict[str, Any], loss: Any, reduction: str) -> None:
        r = torch_reference.backward(p["Ws"], p["bs"], p["acts"], p["x"], p["t"], loss, "none", "float64")
        scaled = torch_reference.backward(p["Ws"], p["bs"], p["acts"], p["x"], p["t"], loss, reduction, "float64")
        self.per_point = r.loss
        self.loss = scaled.loss
        self.x = p["x"]
        self.a, self.z = scaled.a, scaled.z
        self.delta, self.grad_W, self.grad_b, self.grad_x = scaled.delta, scaled.grad_W, scaled.grad_b, scaled.grad_x


def run(act: Any, loss: Any, kind: str, bias: bool, N: int, reduction: str) -> tuple[list[Any], TorchAsResult, dict[str, Any]]:
    p = problem(act, kind, bias, N, rng_for("explain", label(act), label(loss), bias, N))
    layers = engine_layers(p, "float64")
    steps = explain(layers, p["x"], p["t"], engine_loss(loss), reduction, digits=5)
    return steps, TorchAsResult(p, loss, reduction), p


@pytest.mark.parametrize(("act", "loss", "kind"), CASES, ids=[f"{label(a)}+{label(l)}" for a, l, _ in CASES])
def test_every_step_matches_torch_autograd(act: Any, loss: Any, kind: str) -> None:
    for i, (bias, N) in enumerate(itertools.product([False, True], [1, 3])):
        reduction = ("sum", "mean")[i % 2]
        steps, want, p = run(act, loss, kind, bias, N, reduction)
        assert_values(steps, want, **TOL)
        assert_dependencies_come_first(steps)
        layers = engine_layers(p, "float64")
        assert len(steps) == count_steps(sizes_of(layers), [bias, bias], N)
        assert all("⟨" not in s.substituted + s.formula for s in steps), "every placeholder is filled"


def test_the_check_fails_when_a_step_value_is_perturbed() -> None:
    steps, want, _ = run("tanh", "half_sse", "real", True, 3, "sum")
    assert_values(steps, want, **TOL)
    for i in (0, len(steps) // 2, len(steps) - 1):
        bad = list(steps)
        bad[i] = dataclasses.replace(steps[i], value=steps[i].value * (1 + 1e-8) + 1e-11)
        with pytest.raises(AssertionError, match=steps[i].id):
            assert_values(bad, want, **TOL)
