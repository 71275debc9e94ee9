"""Gradients from /v1/backward against central finite differences (five-point) of an independent E(θ) (tests/oracle.py).

Seeded random networks: depth 1–4, widths 1–8, with and without bias, batches of 1
and 5, both reductions, both dtypes. Every activation of the conformance matrix
(tests/conformance/cases.py: every catalog activation, some with non-default
parameters) appears in each dtype as a hidden activation and as an output with
every loss whose domain fits it (353 loss/output pairs per dtype), the settings
(bias, batch, reduction) cycling over the cases rather than multiplying them (the
full product, 353 × 8 × 2 cases, would take about a minute); hidden activations are
drawn with a seeded generator, and each activation is also forced into one hidden
layer per dtype. About 760 cases, ~15 s. Tolerances: float64 rtol 1e-6 (atol 1e-8),
float32 (against float64 differences) rtol 2e-3 (atol 2e-4); the largest error seen
is under 2% of either.

Kinks: a central difference straddling a point where the function is not
differentiable (relu at 0, hard_sigmoid at ±3, mae at y = t, softplus's switch to
linear…) measures the average of the two one-sided slopes, not the gradient, so it
proves nothing there. Cases whose pre-activations (or y − t, for mae and huber)
lie within KINK_MARGIN of a kink are redrawn with the next seed, and so are draws
whose differences are all zero (every unit saturated), which would pass vacuously.
"""

from __future__ import annotations

import itertools
import zlib
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from tests.conformance.cases import ACTIVATIONS, LOSSES, Spec, label, name_and_params, targets
from tests.oracle import central_difference, distance_to_kinks, loss_of

TOL = {"float64": {"rtol": 1e-6, "atol": 1e-8}, "float32": {"rtol": 2e-3, "atol": 2e-4}}
KINK_MARGIN = 1e-2  # ≫ the steps (2ε = 2e-4 in θ, times |x| or |W| in a) and float32's rounding of a
SETTINGS = list(itertools.product([False, True], [1, 5], ["sum", "mean"]))  # bias, batch, reduction


def _fits(act: Spec, outputs: set[str] | None) -> bool:
    return outputs is None or name_and_params(act)[0] in outputs


def _plan(dtype: str) -> list[tuple[Spec, Spec, Spec | None]]:
    """(loss, output activation, a hidden activation that must appear or None) for one dtype."""
    rng = np.random.default_rng(zlib.crc32(dtype.encode()))
    pairs = [(loss, act) for loss, outputs, _ in LOSSES for act in ACTIVATIONS if _fits(act, outputs)]
    every_pair = [(loss, act, None) for loss, act in pairs]
    every_hidden = [(*pairs[int(rng.integers(len(pairs)))], act) for act in ACTIVATIONS]
    return every_pair + every_hidden


CASES = [
    (dtype, loss, output, hidden, *SETTINGS[(i + shift) % len(SETTINGS)])
    for dtype, shift in [("float64", 0), ("float32", 3)]  # the same pair gets other settings in the other dtype
    for i, (loss, output, hidden) in enumerate(_plan(dtype))
]


def _kind(loss: Spec) -> str:
    return next(kind for spec, _, kind in LOSSES if spec == loss)


def _draw(seed: int, loss: Spec, output: Spec, hidden: Spec | None, bias: bool, batch: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    depth = int(rng.integers(2 if hidden is not None else 1, 5))
    widths = [int(w) for w in rng.integers(1, 9, size=depth + 1)]
    if _kind(loss) in ("distribution", "log_distribution", "class"):
        widths[-1] = max(widths[-1], 2)  # a distribution over one class is constant
    acts = [ACTIVATIONS[int(i)] for i in rng.integers(len(ACTIVATIONS), size=depth - 1)] + [output]
    if hidden is not None:
        acts[int(rng.integers(depth - 1))] = hidden
    scale = 0.3 if "exponential" in [label(a) for a in acts] else 0.8  # e^(e^a) stays moderate
    layers = []
    for l, act in enumerate(acts):
        layer: dict[str, Any] = {"weights": rng.normal(0, scale, (widths[l + 1], widths[l])), "activation": act}
        layer["bias"] = rng.normal(0, 0.5, widths[l + 1]) if bias else None
        layers.append(layer)
    t = targets(rng, _kind(loss), batch, widths[-1])
    return {"layers": layers, "x": rng.normal(0, 1, (batch, widths[0])), "t": t.reshape(batch) if _kind(loss) == "class" else t}


Gradients = tuple[list[np.ndarray], list[np.ndarray | None], np.ndarray]


def _case(
    seed: int, loss: Spec, output: Spec, hidden: Spec | None, bias: bool, batch: int, reduction: str
) -> tuple[dict[str, Any], Gradients]:
    """The first draw from seed, seed + 1, … at least KINK_MARGIN from every kink and with some nonzero gradient.

    A draw whose differences are all zero (every output saturated: hard_sigmoid beyond ±3, dead relus) would pass
    vacuously, so it is redrawn too. Returns the case and its finite-difference gradients (W, b, x).
    """
    for attempt in itertools.count(seed):
        case = _draw(attempt, loss, output, hidden, bias, batch)
        if distance_to_kinks(case["layers"], case["x"], case["t"], loss) <= KINK_MARGIN:
            continue
        grad_W, grad_b, grad_x = _finite_differences(case, loss, reduction)
        if any(g.any() for g in [*grad_W, grad_x]):
            return case, (grad_W, grad_b, grad_x)
    raise AssertionError("unreachable")


def _request(case: dict[str, Any], loss: Spec, reduction: str, dtype: str) -> dict[str, Any]:
    layers = [
        {"weights": layer["weights"].tolist(), "activation": layer["activation"]}
        | ({"bias": layer["bias"].tolist()} if layer["bias"] is not None else {})
        for layer in case["layers"]
    ]
    return {
        "network": {"layers": layers},
        "x": case["x"].tolist(),
        "t": case["t"].tolist(),
        "loss": loss,
        "reduction": reduction,
        "dtype": dtype,
    }


def _finite_differences(case: dict[str, Any], loss: Spec, reduction: str) -> Gradients:
    layers, x, t = case["layers"], case["x"].copy(), case["t"]

    def E() -> float:
        return loss_of(layers, x, t, loss, reduction)

    grad_W = [central_difference(E, layer["weights"]) for layer in layers]
    grad_b = [central_difference(E, layer["bias"]) if layer["bias"] is not None else None for layer in layers]
    return grad_W, grad_b, central_difference(E, x)


def _id(case: tuple[Any, ...]) -> str:
    dtype, loss, output, hidden, bias, batch, reduction = case
    return f"{dtype}-{label(loss)}-out={label(output)}" + (f"-hidden={label(hidden)}" if hidden else "") + f"-{bias}-{batch}-{reduction}"


@pytest.mark.parametrize(("dtype", "loss", "output", "hidden", "bias", "batch", "reduction"), CASES, ids=[_id(c) for c in CASES])
def test_gradients_match_finite_differences(
    client: TestClient, dtype: str, loss: Spec, output: Spec, hidden: Spec | None, bias: bool, batch: int, reduction: str
) -> None:
    seed = zlib.crc32(_id((dtype, loss, output, hidden, bias, batch, reduction)).encode())
    case, (grad_W, grad_b, grad_x) = _case(seed, loss, output, hidden, bias, batch, reduction)
    r = client.post("/v1/backward", json=_request(case, loss, reduction, dtype))
    assert r.status_code == 200, r.text
    got = r.json()
    for l, layer in enumerate(got["layers"]):
        np.testing.assert_allclose(layer["grad_weights"], grad_W[l], **TOL[dtype], err_msg=f"grad_weights of layer {l}")
        if grad_b[l] is not None:
            np.testing.assert_allclose(layer["grad_bias"], grad_b[l], **TOL[dtype], err_msg=f"grad_bias of layer {l}")
    np.testing.assert_allclose(got["grad_x"], grad_x, **TOL[dtype], err_msg="grad_x")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_every_catalog_activation_and_loss_is_covered(client: TestClient, dtype: str) -> None:
    """Each name GET /v1/activations and GET /v1/losses list (not aliases) is an output, a hidden activation, a loss."""
    cases = [c for c in CASES if c[0] == dtype]
    activations = {e["name"] for e in client.get("/v1/activations").json()}
    losses = {e["name"] for e in client.get("/v1/losses").json()}
    assert activations <= {name_and_params(output)[0] for _, _, output, _, *_ in cases}
    assert activations <= {name_and_params(hidden)[0] for _, _, _, hidden, *_ in cases if hidden is not None}
    assert losses <= {name_and_params(loss)[0] for _, loss, *_ in cases}


def test_finite_difference_check_catches_a_wrong_gradient(client: TestClient) -> None:
    """The comparison above is not vacuous: one gradient entry off by 1e-4 relative fails it."""
    case, (grad_W, _, _) = _case(7, "half_sse", "tanh", None, True, 5, "sum")
    got = client.post("/v1/backward", json=_request(case, "half_sse", "sum", "float64")).json()
    np.testing.assert_allclose(got["layers"][0]["grad_weights"], grad_W[0], **TOL["float64"])
    wrong = np.array(got["layers"][0]["grad_weights"])
    wrong.flat[0] *= 1 + 1e-4
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(wrong, grad_W[0], **TOL["float64"])
