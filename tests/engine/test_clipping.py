"""Gradient clipping equals torch.nn.utils.clip_grad_norm_ / clip_grad_value_ (float64, rtol 1e-14)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from service.engine.errors import EngineError
from service.engine.optimizers import get_optimizer
from service.engine.optimizers.clipping import clip_by_global_norm, clip_by_value, with_clipping


def _grads(seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.normal(0, 1, (4, 3)), rng.normal(0, 1, 4), rng.normal(0, 1, (2, 4))]


def _torch_clipped(grads: list[np.ndarray], clip: str, c: float) -> list[np.ndarray]:
    params = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for p, g in zip(params, grads, strict=True):
        p.grad = torch.from_numpy(g.copy())
    if clip == "norm":
        torch.nn.utils.clip_grad_norm_(params, c, foreach=False)
    else:
        torch.nn.utils.clip_grad_value_(params, c, foreach=False)
    return [p.grad.numpy() for p in params if p.grad is not None]


@pytest.mark.parametrize("c", [0.5, 2.0, 100.0])  # active, active, inactive (norm ≈ 4.4)
def test_global_norm_clipping_equals_torch(c: float) -> None:
    grads = _grads(1)
    got = clip_by_global_norm(grads, c)
    for g, w in zip(got, _torch_clipped(grads, "norm", c), strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-14)
    total = np.sqrt(sum((g**2).sum() for g in got))
    assert total <= c


@pytest.mark.parametrize("c", [0.1, 0.7, 10.0])
def test_value_clipping_equals_torch(c: float) -> None:
    grads = _grads(2)
    for g, w in zip(clip_by_value(grads, c), _torch_clipped(grads, "value", c), strict=True):
        np.testing.assert_array_equal(g, w)


def test_norm_clipping_is_global_not_per_tensor() -> None:
    grads = _grads(3)
    per_tensor = [g * min(1.0, 0.5 / np.linalg.norm(g)) for g in grads]
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(clip_by_global_norm(grads, 0.5)[0], per_tensor[0], rtol=1e-6)


def test_zero_gradients_stay_zero_and_float32_stays_float32() -> None:
    zeros = [np.zeros((2, 2), dtype=np.float32)]
    out = clip_by_global_norm(zeros, 1.0)
    assert out[0].dtype == np.float32
    assert not out[0].any()


def test_only_one_clipping_at_a_time() -> None:
    with pytest.raises(EngineError):
        with_clipping(get_optimizer("sgd"), clip_norm=1.0, clip_value=1.0)
