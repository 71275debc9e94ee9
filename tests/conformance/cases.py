"""The conformance matrix: every activation (and parameter variants) × every loss whose domain fits its output.

Random data is seeded from the case; targets are drawn in each loss's domain.
Nothing here imports torch, so the engine's own tests (gradcheck, extremes) use the matrix without it.
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np

from service.engine import Activation, Layer, Loss, get_activation, get_loss

Spec = str | dict[str, Any]  # a name, or {"name": …, parameters…}, as on the wire


def name_and_params(spec: Spec) -> tuple[str, dict[str, Any]]:
    if isinstance(spec, str):
        return spec, {}
    params = dict(spec)
    return params.pop("name"), params


ACTIVATIONS: list[Spec] = [
    "linear",
    "tanh",
    "sigmoid",
    "relu",
    "leaky_relu",
    {"name": "leaky_relu", "negative_slope": 0.2},
    "elu",
    {"name": "elu", "alpha": 0.5},
    "selu",
    "celu",
    {"name": "celu", "alpha": 2.0},
    "gelu",
    {"name": "gelu", "approximate": "tanh"},
    "silu",
    "swish",
    "mish",
    "softplus",
    {"name": "softplus", "beta": 2.0, "threshold": 1.0},  # reaches the linear region
    "softsign",
    "relu6",
    "hard_sigmoid",
    "hard_silu",
    "hard_tanh",
    {"name": "hard_tanh", "min_val": -0.5, "max_val": 2.0},
    "exponential",
    "log_sigmoid",
    "softmax",
    "log_softmax",
]

ANY = None  # every output
PROBABILITIES = {"sigmoid", "softmax"}  # in (0, 1): log y is finite
UNIT = PROBABILITIES | {"hard_sigmoid"}  # in [0, 1]
NON_NEGATIVE = UNIT | {"relu", "relu6", "softplus", "exponential"}

#: (loss, the output activations it fits (None: all), how its targets are drawn)
LOSSES: list[tuple[Spec, set[str] | None, str]] = [
    ("half_sse", ANY, "real"),
    ("sse", ANY, "real"),
    ("mse", ANY, "real"),
    ("mae", ANY, "real"),
    ("huber", ANY, "real"),
    ({"name": "huber", "delta": 0.3}, ANY, "real"),
    ("binary_cross_entropy", UNIT, "unit"),
    ("binary_cross_entropy_with_logits", ANY, "unit"),
    ("categorical_cross_entropy", PROBABILITIES, "distribution"),
    ({"name": "categorical_cross_entropy", "label_smoothing": 0.1}, PROBABILITIES, "distribution"),
    ({"name": "categorical_cross_entropy", "from_logits": True, "label_smoothing": 0.2}, ANY, "distribution"),
    ("sparse_categorical_cross_entropy", PROBABILITIES, "class"),
    ({"name": "sparse_categorical_cross_entropy", "from_logits": True, "label_smoothing": 0.1}, ANY, "class"),
    ("kl_divergence", ANY, "distribution"),
    ({"name": "kl_divergence", "log_target": True}, ANY, "log_distribution"),
    ("poisson", ANY, "counts"),
    ({"name": "poisson", "log_input": False, "full": True}, NON_NEGATIVE, "counts"),
]

SIZES = (3, 4, 3)  # M⁽¹⁾, K⁽¹⁾, K⁽²⁾


def label(spec: Spec) -> str:
    name, params = name_and_params(spec)
    return name + "".join(f"-{k}={v}" for k, v in params.items())


def pairs() -> list[tuple[Spec, Spec, str]]:
    """(activation, loss, target kind) for every activation and every loss that fits it as the output."""
    return [
        (act, loss, targets)
        for act in ACTIVATIONS
        for loss, outputs, targets in LOSSES
        if outputs is None or name_and_params(act)[0] in outputs
    ]


def rng_for(*parts: Any) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(repr(parts).encode()))


def targets(rng: np.random.Generator, kind: str, N: int, K: int) -> np.ndarray:
    if kind == "real":
        return rng.normal(0, 1, (N, K))
    if kind == "unit":
        return rng.uniform(0, 1, (N, K))
    if kind == "distribution":
        return rng.dirichlet(np.ones(K), size=N)
    if kind == "log_distribution":
        return np.log(rng.dirichlet(np.ones(K), size=N))
    if kind == "class":
        return rng.integers(0, K, (N, 1)).astype(np.float64)
    if kind == "counts":
        return rng.integers(0, 4, (N, K)).astype(np.float64)
    raise ValueError(kind)


def problem(act: Spec, kind: str, bias: bool, N: int, rng: np.random.Generator) -> dict[str, Any]:
    """A 2-layer network with ``act`` on both layers, its input and a target: wire-independent arrays."""
    M, H, K = SIZES
    scale = 0.2 if name_and_params(act)[0] == "exponential" else 0.7  # e^(e^a) stays moderate
    Ws = [rng.normal(0, scale, (H, M)), rng.normal(0, scale, (K, H))]
    bs = [rng.normal(0, 0.5, H), rng.normal(0, 0.5, K)] if bias else [None, None]
    return {"Ws": Ws, "bs": bs, "acts": [act, act], "x": rng.normal(0, 1, (N, M)), "t": targets(rng, kind, N, K)}


def engine_layers(p: dict[str, Any], dtype: str) -> list[Layer]:
    return [
        Layer(W.astype(dtype), None if b is None else b.astype(dtype), engine_activation(act))
        for W, b, act in zip(p["Ws"], p["bs"], p["acts"], strict=True)
    ]


def engine_activation(spec: Spec) -> Activation:
    name, params = name_and_params(spec)
    return get_activation(name, **params)


def engine_loss(spec: Spec) -> Loss:
    name, params = name_and_params(spec)
    return get_loss(name, **params)
