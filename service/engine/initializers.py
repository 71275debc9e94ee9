"""Weight initializers: a network's W and b drawn from a seeded generator.

For a layer with W of shape K × M, fan_in = M (inputs) and fan_out = K (outputs).
Draws come from ``numpy.random.default_rng(seed)`` (PCG64), one generator for the
whole network, in layer order: W⁽¹⁾, b⁽¹⁾, W⁽²⁾, … (a bias is drawn only when
its initializer is random). The same seed gives the same numbers on every machine.

Names follow Keras. The ``*_normal`` initializers use Keras's semantics: a normal
truncated at ±2σ₀ (values outside are redrawn), with σ₀ = σ / 0.87962566103423978 so
that the variance is still σ². torch's ``xavier_normal_`` / ``kaiming_normal_`` draw
an untruncated normal with the same σ (their tails are wider; their variance equal).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from service.engine.arrays import Array
from service.engine.catalog import CatalogEntry
from service.engine.errors import UnknownNameError

#: Standard deviation of a unit normal truncated to [−2, 2]: Keras divides by it so the variance stays σ².
TRUNCATED_STD = 0.87962566103423978

Sample = Callable[[np.random.Generator, tuple[int, ...], int, int], Array]


@dataclass(frozen=True)
class Initializer:
    """An initializer: ``sample(rng, shape, fan_in, fan_out)`` and its catalog entry."""

    name: str
    sample: Sample
    entry: CatalogEntry


def _uniform(limit: Callable[[int, int], float]) -> Sample:
    """U(−limit, limit)."""
    return lambda rng, shape, fan_in, fan_out: rng.uniform(-limit(fan_in, fan_out), limit(fan_in, fan_out), shape)


def truncated_normal(rng: np.random.Generator, shape: tuple[int, ...], std: float) -> Array:
    """N(0, σ₀²) with σ₀ = std / 0.8796…, values beyond ±2σ₀ redrawn until none is left (Keras's truncated normal)."""
    sigma0 = std / TRUNCATED_STD
    x = rng.normal(0.0, sigma0, shape)
    outside = np.abs(x) > 2 * sigma0
    while outside.any():
        x[outside] = rng.normal(0.0, sigma0, int(outside.sum()))
        outside = np.abs(x) > 2 * sigma0
    return x


def _normal(std: Callable[[int, int], float]) -> Sample:
    return lambda rng, shape, fan_in, fan_out: truncated_normal(rng, shape, std(fan_in, fan_out))


def _zeros(rng: np.random.Generator, shape: tuple[int, ...], fan_in: int, fan_out: int) -> Array:
    return np.zeros(shape)


def _glorot(scale: float) -> Callable[[int, int], float]:
    return lambda fan_in, fan_out: math.sqrt(scale / (fan_in + fan_out))


def _fan_in(scale: float) -> Callable[[int, int], float]:
    return lambda fan_in, fan_out: math.sqrt(scale / fan_in)


_TRUNCATED = "Keras's (truncated at ±2σ₀, σ₀ = σ/0.8796 so the variance is σ²)"


def _initializer(name: str, sample: Sample, formula: str, keras_difference: str | None, *notes: str) -> Initializer:
    return Initializer(name, sample, CatalogEntry(name=name, formula=formula, keras_difference=keras_difference, notes=notes))


def _truncated(name: str, std: Callable[[int, int], float], sigma: str, torch: str) -> Initializer:
    """A Keras truncated normal with σ as ``sigma`` says; ``torch``: its torch counterpart (untruncated), if any."""
    return _initializer(name, _normal(std), f"W ~ truncated N(0, σ²), σ = {sigma}", None, f"Semantics are {_TRUNCATED}; {torch}.")


_INITIALIZERS = [
    _initializer(
        "glorot_uniform",
        _uniform(_glorot(6.0)),
        "W ~ U(−l, l), l = √(6 / (fan_in + fan_out))",
        None,
        "torch: nn.init.xavier_uniform_ (gain 1).",
    ),
    _truncated("glorot_normal", _glorot(2.0), "√(2 / (fan_in + fan_out))", "torch's nn.init.xavier_normal_ is an untruncated N(0, σ²)"),
    _initializer(
        "he_uniform",
        _uniform(_fan_in(6.0)),
        "W ~ U(−l, l), l = √(6 / fan_in)",
        None,
        "torch: nn.init.kaiming_uniform_(nonlinearity='relu').",
    ),
    _truncated(
        "he_normal", _fan_in(2.0), "√(2 / fan_in)", "torch's nn.init.kaiming_normal_(nonlinearity='relu') is an untruncated N(0, σ²)"
    ),
    _initializer("lecun_uniform", _uniform(_fan_in(3.0)), "W ~ U(−l, l), l = √(3 / fan_in)", None, "torch has no named equivalent."),
    _truncated("lecun_normal", _fan_in(1.0), "√(1 / fan_in)", "torch has no named equivalent"),
    _initializer("zeros", _zeros, "W = 0", None, "Every unit of a layer then computes the same thing."),
    _initializer(
        "torch_default",
        _uniform(lambda fan_in, fan_out: 1 / math.sqrt(fan_in)),
        "W ~ U(−1/√fan_in, 1/√fan_in) (kaiming_uniform_ with a = √5); as bias: b ~ U(−1/√fan_in, 1/√fan_in)",
        "Keras Dense defaults to glorot_uniform weights and zero biases; this is torch.nn.Linear's reset_parameters.",
    ),
]
_BY_NAME = {i.name: i for i in _INITIALIZERS}

#: The initializers a bias accepts: it has no fan_out of its own, so only these two are defined.
BIAS_INITIALIZERS = ("zeros", "torch_default")


def initializer_names() -> list[str]:
    """The names :func:`get_initializer` accepts."""
    return sorted(_BY_NAME)


def get_initializer(name: str) -> Initializer:
    """The initializer called ``name``."""
    found = _BY_NAME.get(name)
    if found is None:
        raise UnknownNameError("initializer", name, initializer_names())
    return found


def catalog() -> list[CatalogEntry]:
    """Every initializer: its formula, the torch equivalent, and where Keras or torch differ."""
    return [i.entry for i in sorted(_INITIALIZERS, key=lambda i: i.name)]


def init_parameters(sizes: Sequence[int], weights: str, bias: str | None, seed: int) -> list[tuple[Array, Array | None]]:
    """W⁽ˡ⁾ (K × M, K = sizes[l+1], M = sizes[l]) and b⁽ˡ⁾ (K, or None when ``bias`` is None) for each layer.

    One ``default_rng(seed)`` draws W⁽¹⁾, b⁽¹⁾, W⁽²⁾, … in that order; a bias uses its layer's fan_in.
    """
    rng = np.random.default_rng(seed)
    draw_W = get_initializer(weights).sample
    draw_b = None if bias is None else get_initializer(bias).sample
    params: list[tuple[Array, Array | None]] = []
    for M, K in pairwise(sizes):
        W = draw_W(rng, (K, M), M, K)
        b = None if draw_b is None else draw_b(rng, (K,), M, K)
        params.append((W, b))
    return params
