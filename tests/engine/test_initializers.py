"""Initializers: sample bounds and variance match each formula, torch's own initializers agree, seeds reproduce.

Samples are 256 × 1024 (fan_in = 1024, fan_out = 256: 262,144 draws, so fan_in and
fan_out are told apart). Tolerances, for that many draws: variance within 2 % (the
estimate's relative standard error is ≤ 0.3 %), mean within 5 standard errors.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
import torch

from service.engine.initializers import TRUNCATED_STD, catalog, init_parameters, initializer_names

K, M = 256, 1024
FAN_IN, FAN_OUT = M, K
VAR_RTOL = 0.02

UNIFORM_LIMITS = {
    "glorot_uniform": math.sqrt(6 / (FAN_IN + FAN_OUT)),
    "he_uniform": math.sqrt(6 / FAN_IN),
    "lecun_uniform": math.sqrt(3 / FAN_IN),
    "torch_default": 1 / math.sqrt(FAN_IN),
}
NORMAL_STDS = {
    "glorot_normal": math.sqrt(2 / (FAN_IN + FAN_OUT)),
    "he_normal": math.sqrt(2 / FAN_IN),
    "lecun_normal": math.sqrt(1 / FAN_IN),
}

# torch's initializer with the same variance, as an independent oracle for the formula.
TORCH: dict[str, Callable[[torch.Tensor], object]] = {
    "glorot_uniform": torch.nn.init.xavier_uniform_,
    "he_uniform": lambda w: torch.nn.init.kaiming_uniform_(w, nonlinearity="relu"),
    "lecun_uniform": lambda w: torch.nn.init.kaiming_uniform_(w, nonlinearity="linear"),
    "torch_default": lambda w: torch.nn.init.kaiming_uniform_(w, a=math.sqrt(5)),
    "glorot_normal": torch.nn.init.xavier_normal_,
    "he_normal": lambda w: torch.nn.init.kaiming_normal_(w, nonlinearity="relu"),
    "lecun_normal": lambda w: torch.nn.init.kaiming_normal_(w, nonlinearity="linear"),
}


def _weights(name: str, seed: int = 0) -> np.ndarray:
    return init_parameters([M, K], name, None, seed)[0][0]


def _torch_sample(name: str) -> np.ndarray:
    torch.manual_seed(0)
    w = torch.empty(K, M, dtype=torch.float64)
    TORCH[name](w)
    return w.numpy()


def _check_mean(W: np.ndarray, var: float) -> None:
    assert abs(W.mean()) < 5 * math.sqrt(var / W.size)


@pytest.mark.parametrize("name", sorted(UNIFORM_LIMITS))
def test_uniform_bounds_and_variance(name: str) -> None:
    W, limit = _weights(name), UNIFORM_LIMITS[name]
    assert W.shape == (K, M)
    assert np.abs(W).max() <= limit
    assert np.abs(W).max() > 0.999 * limit  # the bound is reached, not a smaller one
    np.testing.assert_allclose(W.var(), limit**2 / 3, rtol=VAR_RTOL)
    _check_mean(W, limit**2 / 3)
    torch_W = _torch_sample(name)  # torch's bound for the same fans is the same
    np.testing.assert_allclose(np.abs(W).max(), np.abs(torch_W).max(), rtol=1e-3)
    np.testing.assert_allclose(W.var(), torch_W.var(), rtol=2 * VAR_RTOL)


@pytest.mark.parametrize("name", sorted(NORMAL_STDS))
def test_truncated_normal_bounds_variance_and_shape(name: str) -> None:
    W, std = _weights(name), NORMAL_STDS[name]
    sigma0 = std / TRUNCATED_STD
    assert np.abs(W).max() <= 2 * sigma0  # Keras's truncation at ±2σ₀
    assert np.abs(W).max() > 1.99 * sigma0
    np.testing.assert_allclose(W.var(), std**2, rtol=VAR_RTOL)  # the 0.8796 correction keeps the variance σ²
    _check_mean(W, std**2)
    # P(|x| > σ₀ given |x| ≤ 2σ₀) = (0.9545 − 0.6827) / 0.9545 for a truncated normal (0.3173 untruncated)
    np.testing.assert_allclose((np.abs(W) > sigma0).mean(), 0.28475, atol=0.005)
    torch_W = _torch_sample(name)  # torch's untruncated normal: same variance, wider tails
    np.testing.assert_allclose(W.var(), torch_W.var(), rtol=2 * VAR_RTOL)
    assert np.abs(torch_W).max() > 2 * sigma0


def test_torch_default_matches_nn_linear_weight_and_bias() -> None:
    W, b = init_parameters([M, K], "torch_default", "torch_default", 0)[0]
    assert b is not None
    torch.manual_seed(0)
    linear = torch.nn.Linear(M, K, dtype=torch.float64)
    bound = 1 / math.sqrt(M)
    for ours, theirs in ((W, linear.weight.detach().numpy()), (b, linear.bias.detach().numpy())):
        assert ours.shape == theirs.shape
        assert np.abs(ours).max() <= bound
        assert np.abs(theirs).max() <= bound
    np.testing.assert_allclose(np.abs(W).max(), np.abs(linear.weight.detach().numpy()).max(), rtol=1e-3)
    np.testing.assert_allclose(W.var(), linear.weight.detach().numpy().var(), rtol=2 * VAR_RTOL)
    np.testing.assert_allclose(W.var(), bound**2 / 3, rtol=VAR_RTOL)
    np.testing.assert_allclose(b.var(), bound**2 / 3, rtol=0.25)  # only 256 draws


def test_the_uniform_check_fails_for_a_wrong_fan() -> None:
    W = _weights("he_uniform")
    with pytest.raises(AssertionError):  # fan_out instead of fan_in: a different bound
        np.testing.assert_allclose(W.var(), (6 / FAN_OUT) / 3, rtol=VAR_RTOL)


def test_zeros() -> None:
    assert not _weights("zeros").any()


@pytest.mark.parametrize("name", initializer_names())
def test_same_seed_same_weights_other_seed_other_weights(name: str) -> None:
    first = init_parameters([3, 5, 2], name, "torch_default", 42)
    again = init_parameters([3, 5, 2], name, "torch_default", 42)
    other = init_parameters([3, 5, 2], name, "torch_default", 43)
    for (W1, b1), (W2, b2), (W3, _) in zip(first, again, other, strict=True):
        np.testing.assert_array_equal(W1, W2)
        np.testing.assert_array_equal(b1, b2)
        assert name == "zeros" or not np.array_equal(W1, W3)


def test_seed_zero_gives_these_numbers() -> None:
    """Pinned values: PCG64 and numpy's uniform/normal streams are the same on every machine; a change shows here."""
    W, b = init_parameters([2, 3, 2], "glorot_uniform", "torch_default", 0)[0]
    assert W.ravel()[:3].tolist() == [0.30006802263971943, -0.5043720396356872, -1.0056766217290054]
    assert b is not None
    assert b.tolist() == [0.15080576032412196, 0.32455714906155464, 0.061695054588811526]
    W, _ = init_parameters([2, 3, 2], "he_normal", None, 0)[0]
    assert W.ravel()[:3].tolist() == [0.14293605412279942, -0.15018304847538966, 0.7280627189642134]


def test_every_initializer_has_a_catalog_entry() -> None:
    assert [e.name for e in catalog()] == initializer_names()
    for entry in catalog():
        assert entry.formula
