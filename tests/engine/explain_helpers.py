"""Shared by the explain tests: the primer's network, and the number each step must equal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from service.engine import Layer, get_activation
from service.engine.explain import Step

DATA = Path(__file__).resolve().parents[1] / "data"
PRIMER = json.loads((DATA / "primer-example.json").read_text())


def primer_network() -> tuple[list[Layer], np.ndarray, np.ndarray]:
    request = PRIMER["request"]
    layers = [Layer(np.array(l["weights"]), None, get_activation(l["activation"])) for l in request["network"]["layers"]]
    return layers, np.array([request["x"]]), np.array([request["t"]])


def expected(step: Step, r: Any) -> float:
    """The number a step must carry, from a result ``r`` with the fields of the engine's or torch's backward.

    ``r`` has a, z, delta (lists of N × K), grad_W, grad_b, grad_x, loss and per_point (Eₙ).
    A batch's per-point gradient term is δₙₖ zₙₘ of the same result.
    """
    q, l, n, i = step.quantity, step.layer, step.point, step.index
    if q in ("a", "z", "delta"):
        return float(getattr(r, q)[l][n, i[0]])
    if q == "loss":
        return float(r.loss if n is None else r.per_point[n])
    if q == "grad_weights":
        if n is None:
            return float(r.grad_W[l][i])
        z_prev = r.x if l == 0 else r.z[l - 1]
        return float(r.delta[l][n, i[0]] * z_prev[n, i[1]])
    if q == "grad_bias":
        return float(r.grad_b[l][i[0]])
    if q == "grad_x":
        return float(r.grad_x[n, i[0]])
    raise KeyError(q)


def assert_values(steps: list[Step], r: Any, rtol: float, atol: float) -> None:
    """Every step's value equals ``expected`` to the tolerance (update and loss_after are checked elsewhere)."""
    for s in steps:
        if s.quantity in ("update", "loss_after"):
            continue
        np.testing.assert_allclose(s.value, expected(s, r), rtol=rtol, atol=atol, err_msg=s.id)


def assert_dependencies_come_first(steps: list[Step]) -> None:
    seen: set[str] = set()
    ids = [s.id for s in steps]
    assert len(set(ids)) == len(ids), "ids are unique"
    for s in steps:
        for d in s.depends_on:
            assert d in seen, f"{s.id} depends on {d}, which is not an earlier step"
        seen.add(s.id)
