"""explain's update lines against torch.optim: each slot a line shows equals torch's state, m̂ and v̂ its bias correction.

Three steps of each optimizer on a seeded 3-4-2 network (tanh, linear; a batch of 4): the first two by
train_step, the third explained with the state they left. torch runs the same three steps (foreach=False, float64);
its ``optimizer.state[p]`` after the third step holds what the lines must show: ``exp_avg``, ``exp_avg_sq``,
``max_exp_avg_sq``, ``momentum_buffer``, ``square_avg``, ``grad_avg``, ``sum``. m̂ = exp_avg / (1 − β₁ᵗ) and
v̂ = exp_avg_sq / (1 − β₂ᵗ) with torch's own ``state["step"]``. rtol 1e-10 (atol 1e-14 for slots near 0).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from service.engine import Layer, get_activation, get_loss
from service.engine.explain import Step, explain
from service.engine.optimizers import OptimizerState, get_optimizer
from service.engine.training import train_step
from tests.conformance.test_optimizers_torch import TORCH_CLASSES as TORCH

TOL = {"rtol": 1e-10, "atol": 1e-14}
CASES: dict[str, dict[str, Any]] = {
    "adam": {"name": "adam", "learning_rate": 0.05},
    "adam amsgrad weight_decay clip_norm": {"name": "adam", "learning_rate": 0.05, "amsgrad": True, "weight_decay": 0.1, "clip_norm": 0.3},
    "adamw betas": {"name": "adamw", "learning_rate": 0.05, "betas": [0.8, 0.95], "weight_decay": 0.2},
    "sgd momentum dampening": {"name": "sgd", "learning_rate": 0.1, "momentum": 0.9, "dampening": 0.2},
    "sgd nesterov clip_value": {"name": "sgd", "learning_rate": 0.1, "momentum": 0.8, "nesterov": True, "clip_value": 0.05},
    "rmsprop centered momentum": {"name": "rmsprop", "learning_rate": 0.01, "centered": True, "momentum": 0.5, "weight_decay": 0.01},
    "adagrad lr_decay": {"name": "adagrad", "learning_rate": 0.1, "lr_decay": 0.1, "initial_accumulator_value": 0.2},
}


def _problem() -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(2026)
    params = [rng.normal(0, 0.6, (4, 3)), rng.normal(0, 0.3, 4), rng.normal(0, 0.6, (2, 4)), rng.normal(0, 0.3, 2)]
    return params, rng.normal(0, 1, (4, 3)), rng.normal(0, 1, (4, 2))


def _layers(params: list[np.ndarray]) -> list[Layer]:
    return [Layer(params[0], params[1], get_activation("tanh")), Layer(params[2], params[3], get_activation("linear"))]


def _explained(spec: dict[str, Any]) -> list[Step]:
    params, x, t = _problem()
    optimizer = get_optimizer(spec["name"], **{k: tuple(v) if isinstance(v, list) else v for k, v in spec.items() if k != "name"})
    layers, state, loss = _layers(params), OptimizerState(), get_loss("half_sse")
    for _ in range(2):
        done = train_step(layers, x, t, loss, "sum", optimizer, state)
        layers, state = done.layers, done.state
    return [s for s in explain(layers, x, t, loss, optimizer=optimizer, optimizer_state=state, digits=6) if s.quantity == "update"]


def _torch(spec: dict[str, Any]) -> tuple[list[torch.Tensor], torch.optim.Optimizer]:
    params, x, t = _problem()
    tensors = [torch.tensor(p, requires_grad=True) for p in params]
    options = {("lr" if k == "learning_rate" else k): tuple(v) if isinstance(v, list) else v for k, v in spec.items()}
    name, clip_norm, clip_value = options.pop("name"), options.pop("clip_norm", None), options.pop("clip_value", None)
    opt = TORCH[name](tensors, foreach=False, **options)
    W1, b1, W2, b2 = tensors
    for _ in range(3):
        opt.zero_grad()
        E = 0.5 * (((torch.tanh(torch.from_numpy(x) @ W1.T + b1) @ W2.T + b2) - torch.from_numpy(t)) ** 2).sum()
        E.backward()
        if clip_norm is not None:
            torch.nn.utils.clip_grad_norm_(tensors, clip_norm, foreach=False)
        if clip_value is not None:
            torch.nn.utils.clip_grad_value_(tensors, clip_value, foreach=False)
        opt.step()
    return tensors, opt


def _where(step: Step) -> tuple[int, tuple[int, ...]]:
    """The flat parameter (W1, b1, W2, b2) an update step is of, and its index in it."""
    assert step.layer is not None
    return 2 * step.layer + (0 if step.id.split("/")[2] == "W" else 1), step.index


@pytest.mark.parametrize("case", list(CASES))
def test_every_slot_of_the_update_lines_is_torch_optims_state(case: str) -> None:
    spec = CASES[case]
    steps = _explained(spec)
    tensors, opt = _torch(spec)
    betas = spec.get("betas", [0.9, 0.999])
    checked = set()
    for s in steps:
        i, at = _where(s)
        state = opt.state[tensors[i]]
        np.testing.assert_allclose(s.value, tensors[i].detach().numpy()[at], **TOL, err_msg=f"{s.id}: the new value")
        for part in s.parts:
            if part.name in state:
                want = state[part.name].numpy()[at]
            elif part.name == "bias_corrected_exp_avg":
                want = state["exp_avg"].numpy()[at] / (1 - betas[0] ** float(state["step"]))
            elif part.name == "bias_corrected_exp_avg_sq":
                v = state["max_exp_avg_sq" if spec.get("amsgrad") else "exp_avg_sq"].numpy()[at]
                want = v / (1 - betas[1] ** float(state["step"]))
            elif part.name == "grad" and not spec.get("weight_decay"):
                want = tensors[i].grad.numpy()[at]  # after torch's clipping
            else:
                continue
            np.testing.assert_allclose(part.value, want, **TOL, err_msg=f"{s.id}: {part.name}")
            checked.add(part.name)
    expected = {
        n
        for n in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq", "momentum_buffer", "square_avg", "grad_avg", "sum")
        if n in opt.state[tensors[0]]
    }
    assert expected <= checked, f"every slot torch keeps is on a line: {expected - checked} missing"


def test_adams_lines_show_its_moments_bias_correction_and_step() -> None:
    steps = _explained(CASES["adam"])
    first = steps[0]
    assert [p.name for p in first.parts] == ["exp_avg", "exp_avg_sq", "bias_corrected_exp_avg", "bias_corrected_exp_avg_sq"]
    assert "1 - 0.9^{3}" in first.parts[2].substituted  # the bias correction at t = 3
    assert first.formula == "w^{(1)}_{1,1} - \\eta\\,\\frac{\\hat{m}_{t}}{\\sqrt{\\hat{v}_{t}} + \\epsilon}"
    assert "\\Delta" not in first.formula


def test_the_check_fails_on_keras_epsilon() -> None:
    """With Keras's ε = 1e-7 the new weights differ from torch's (ε 1e-8) beyond the tolerance."""
    steps = _explained({**CASES["adam"], "eps": 1e-7})
    tensors, _ = _torch(CASES["adam"])
    i, at = _where(steps[0])
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(steps[0].value, tensors[i].detach().numpy()[at], **TOL)


def test_a_frozen_parameters_line_says_so_and_keeps_its_value() -> None:
    """Mazur's example with the biases frozen: each b̃ is b, and the loss after the step is the exact 0.2910277737."""
    s = get_activation("sigmoid")
    layers = [
        Layer(np.array([[0.15, 0.20], [0.25, 0.30]]), np.array([0.35, 0.35]), s, train_bias=False),
        Layer(np.array([[0.40, 0.45], [0.50, 0.55]]), np.array([0.60, 0.60]), s, train_bias=False),
    ]
    steps = explain(
        layers, np.array([[0.05, 0.10]]), np.array([[0.01, 0.99]]), get_loss("half_sse"), optimizer=get_optimizer("sgd", learning_rate=0.5)
    )
    by_id = {s.id: s for s in steps}
    assert by_id["update/1/b/0"].value == 0.6
    assert "frozen: train\\_bias false" in by_id["update/1/b/0"].formula
    assert round(by_id["update/1/W/0/0"].value, 8) == 0.35891648
    assert round(by_id["loss_after"].value, 9) == 0.291027774
