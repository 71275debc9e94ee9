"""The conformance matrix: every activation (and parameter variants) × every loss whose domain fits its output.

The activations, and which losses their outputs fit (from each one's ``image``), come from the registry.

Random data is seeded from the case; targets are drawn in each loss's domain.
Nothing here imports torch, so the engine's own tests (gradcheck, extremes) use the matrix without it.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

import numpy as np

from service.engine import Activation, Layer, Loss, get_activation, get_loss
from service.engine.activation_base import Image
from service.engine.activations import activation_names, records
from service.engine.forms import Torch
from service.engine.registry import Entry

Spec = str | dict[str, Any]  # a name, or {"name": …, parameters…}, as on the wire


def name_and_params(spec: Spec) -> tuple[str, dict[str, Any]]:
    if isinstance(spec, str):
        return spec, {}
    params = dict(spec)
    return params.pop("name"), params


#: Parameter values besides the defaults that the matrix also runs (the names come from the registry).
VARIANTS: dict[str, list[dict[str, Any]]] = {
    "leaky_relu": [{"negative_slope": 0.2}],
    "elu": [{"alpha": 0.5}],
    "celu": [{"alpha": 2.0}],
    "gelu": [{"approximate": "tanh"}],
    "softplus": [{"beta": 2.0, "threshold": 1.0}],  # reaches the linear region
    "hard_tanh": [{"min_val": -0.5, "max_val": 2.0}],
}
#: Every activation of the registry by its name and its aliases, then with the parameters of VARIANTS.
ACTIVATIONS: list[Spec] = [
    spec
    for entry, _ in records()
    for spec in [
        entry.describe.name,
        *entry.describe.aliases,
        *({"name": entry.describe.name, **v} for v in VARIANTS.get(entry.describe.name, [])),
    ]
]


def changed(entry: Entry[Activation]) -> Spec | None:
    """The activation with every parameter away from its default (a real + 0.5, the other choice, the other flag); None without any."""
    params: dict[str, Any] = {}
    for spec in entry.specs:
        if spec.kind == "choice":
            params[spec.name] = next(o for o in spec.options if o != spec.default)
        elif spec.kind == "flag":
            params[spec.name] = not spec.default
        else:
            assert isinstance(spec.default, float), f"{entry.describe.name}: a {spec.kind} parameter needs a variant here"
            params[spec.name] = spec.check(spec.default + 0.5)
    return {"name": entry.describe.name, **params} if params else None


#: Each activation at its defaults and, where it has parameters, with all of them changed (the interop suites' networks).
EVERY: list[Spec] = [spec for entry, _ in records() for spec in (entry.describe.name, changed(entry)) if spec is not None]


def _torch(spec: Spec) -> Torch:
    return next(forms.torch for entry, forms in records() if name_and_params(spec)[0] in (entry.describe.name, *entry.describe.aliases))


def in_torch(spec: Spec) -> bool:
    """Whether PyTorch has the activation (its record names a torch module or function): the torch suites run those."""
    return isinstance(_torch(spec).module, str) or isinstance(_torch(spec).function, str)


def in_torch_module(spec: Spec) -> bool:
    """Whether torch.nn has the activation as a module (an nn.Sequential can hold it)."""
    return isinstance(_torch(spec).module, str)


def _names(fits: Callable[[Image], bool]) -> set[str]:
    """The activations (and aliases) whose image, at the default parameters, ``fits``."""
    return {n for n in activation_names() if fits(get_activation(n).image)}


TORCH_ACTIVATIONS = [a for a in ACTIVATIONS if in_torch(a)]

ANY = None  # every output
PROBABILITIES = _names(lambda i: i.open and i.low >= 0 and i.high <= 1)  # in (0, 1): log y is finite
UNIT = _names(lambda i: i.low >= 0 and i.high <= 1)  # in [0, 1]
NON_NEGATIVE = _names(lambda i: i.low >= 0)

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
