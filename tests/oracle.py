"""An independent reference for the tests: E(θ) written out plainly, and central differences.

Nothing here imports the engine (but for a name it lacks). The formulas are the textbook ones (sigmoid as
1/(1+e⁻ᵃ), softmax without the max shift, gelu through math.erf, cross-entropy as
−Σ t log y with the log clamped at −100 as the service documents), which is fine for the moderate values the tests use.
(An activation not written here, a new one, falls back to the engine's h: see :func:`_engine_h`.)
Activations and losses are given as on the wire: a name, or {"name": …, parameters…}
with the parameters and defaults of GET /v1/activations and GET /v1/losses.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

Array = np.ndarray
Spec = str | dict[str, Any]

_erf = np.vectorize(math.erf, otypes=[float])
SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def _sigmoid(a: Array) -> Array:
    return 1.0 / (1.0 + np.exp(-a))


def _softplus(a: Array, beta: float = 1.0, threshold: float = 20.0) -> Array:
    return np.where(beta * a > threshold, a, np.log(1.0 + np.exp(beta * a)) / beta)


def _elu(a: Array, alpha: float = 1.0) -> Array:
    return np.where(a > 0, a, alpha * (np.exp(a) - 1.0))


def _gelu(a: Array, approximate: str = "none") -> Array:
    if approximate == "tanh":
        return 0.5 * a * (1.0 + np.tanh(math.sqrt(2 / math.pi) * (a + 0.044715 * a**3)))
    return 0.5 * a * (1.0 + _erf(a / math.sqrt(2)))


def _softmax(a: Array) -> Array:
    return np.exp(a) / np.exp(a).sum(axis=-1, keepdims=True)


ACTIVATIONS: dict[str, Callable[..., Array]] = {
    "linear": lambda a: a,
    "tanh": np.tanh,
    "sigmoid": _sigmoid,
    "relu": lambda a: np.where(a > 0, a, 0.0),
    "leaky_relu": lambda a, negative_slope=0.01: np.where(a > 0, a, negative_slope * a),
    "elu": _elu,
    "selu": lambda a: SELU_SCALE * _elu(a, SELU_ALPHA),
    "celu": lambda a, alpha=1.0: np.where(a > 0, a, alpha * (np.exp(a / alpha) - 1.0)),
    "gelu": _gelu,
    "silu": lambda a: a * _sigmoid(a),
    "swish": lambda a: a * _sigmoid(a),
    "mish": lambda a: a * np.tanh(np.log(1.0 + np.exp(a))),
    "softplus": _softplus,
    "softsign": lambda a: a / (1.0 + np.abs(a)),
    "relu6": lambda a: np.minimum(np.maximum(a, 0.0), 6.0),
    "hard_sigmoid": lambda a: np.minimum(np.maximum(a / 6 + 0.5, 0.0), 1.0),
    "hard_silu": lambda a: a * np.minimum(np.maximum(a + 3, 0.0), 6.0) / 6,
    "hard_swish": lambda a: a * np.minimum(np.maximum(a + 3, 0.0), 6.0) / 6,
    "hard_tanh": lambda a, min_val=-1.0, max_val=1.0: np.minimum(np.maximum(a, min_val), max_val),
    "exponential": np.exp,
    "log_sigmoid": lambda a: np.log(_sigmoid(a)),
    "softmax": _softmax,
    "log_softmax": lambda a: np.log(_softmax(a)),
}

#: where each activation is not differentiable (or, softplus, jumps), for its parameters: the a to stay away from
KINKS: dict[str, Callable[..., tuple[float, ...]]] = {
    "relu": lambda: (0.0,),
    "leaky_relu": lambda negative_slope=0.01: (0.0,),
    "elu": lambda alpha=1.0: (0.0,),
    "selu": lambda: (0.0,),
    "celu": lambda alpha=1.0: (0.0,),
    "softplus": lambda beta=1.0, threshold=20.0: (threshold / beta,),
    "relu6": lambda: (0.0, 6.0),
    "hard_sigmoid": lambda: (-3.0, 3.0),
    "hard_silu": lambda: (-3.0, 3.0),
    "hard_swish": lambda: (-3.0, 3.0),
    "hard_tanh": lambda min_val=-1.0, max_val=1.0: (min_val, max_val),
}


def _log(y: Array) -> Array:
    """log y clamped at −100 (the service's and PyTorch's convention: a saturated probability gives a finite loss)."""
    with np.errstate(divide="ignore"):
        return np.maximum(np.log(y), -100.0)


def _smoothed(t: Array, label_smoothing: float) -> Array:
    return (1.0 - label_smoothing) * t + label_smoothing / t.shape[-1]


def _cross_entropy(y: Array, t: Array, from_logits: bool = False, label_smoothing: float = 0.0) -> Array:
    log_y = np.log(_softmax(y)) if from_logits else _log(y)
    return -(_smoothed(t, label_smoothing) * log_y).sum(axis=-1)


def _sparse_cross_entropy(y: Array, t: Array, **params: Any) -> Array:
    one_hot = np.eye(y.shape[-1])[t.reshape(-1).astype(int)]
    return _cross_entropy(y, one_hot, **params)


def _huber(y: Array, t: Array, delta: float = 1.0) -> Array:
    d = np.abs(y - t)
    return np.where(d <= delta, 0.5 * d**2, delta * d - 0.5 * delta**2).mean(axis=-1)


def _poisson(y: Array, t: Array, log_input: bool = True, full: bool = False, eps: float = 1e-8) -> Array:
    E = np.exp(y) - t * y if log_input else y - t * np.log(y + eps)
    if full:  # Stirling's approximation of log t!, for t > 1
        safe_t = np.where(t > 1, t, 2.0)
        E = E + np.where(t > 1, safe_t * np.log(safe_t) - safe_t + 0.5 * np.log(2 * math.pi * safe_t), 0.0)
    return E.mean(axis=-1)


def _kl_divergence(y: Array, t: Array, log_target: bool = False) -> Array:
    if log_target:
        return (np.exp(t) * (t - y)).sum(axis=-1)
    return (np.where(t > 0, t * np.log(np.where(t > 0, t, 1.0)), 0.0) - t * y).sum(axis=-1)


#: the per-point error Eₙ(y, t) (N × K → N)
LOSSES: dict[str, Callable[..., Array]] = {
    "half_sse": lambda y, t: 0.5 * ((y - t) ** 2).sum(axis=-1),
    "sse": lambda y, t: ((y - t) ** 2).sum(axis=-1),
    "mse": lambda y, t: ((y - t) ** 2).mean(axis=-1),
    "mae": lambda y, t: np.abs(y - t).mean(axis=-1),
    "huber": _huber,
    "poisson": _poisson,
    "binary_cross_entropy": lambda y, t: -(t * _log(y) + (1 - t) * _log(1 - y)).mean(axis=-1),
    # −t log σ(y) − (1 − t) log(1 − σ(y)) with log σ(y) = −log(1 + e⁻ʸ): 1 − σ(y) would cancel for large y
    "binary_cross_entropy_with_logits": lambda y, t: (t * np.logaddexp(0, -y) + (1 - t) * np.logaddexp(0, y)).mean(axis=-1),
    "categorical_cross_entropy": _cross_entropy,
    "sparse_categorical_cross_entropy": _sparse_cross_entropy,
    "kl_divergence": _kl_divergence,
}
for _alias, _name in [
    ("mean_squared_error", "mse"),
    ("mean_absolute_error", "mae"),
    ("binary_crossentropy", "binary_cross_entropy"),
    ("categorical_crossentropy", "categorical_cross_entropy"),
    ("sparse_categorical_crossentropy", "sparse_categorical_cross_entropy"),
]:
    LOSSES[_alias] = LOSSES[_name]

#: where each loss is not differentiable in d = y − t, for its parameters
LOSS_KINKS: dict[str, Callable[..., tuple[float, ...]]] = {
    "mae": lambda: (0.0,),
    "mean_absolute_error": lambda: (0.0,),
    "huber": lambda delta=1.0: (-delta, delta),
}


def name_and_params(spec: Spec) -> tuple[str, dict[str, Any]]:
    if isinstance(spec, str):
        return spec, {}
    params = dict(spec)
    return params.pop("name"), params


def _engine_h(name: str, a: Array, **params: Any) -> Array:
    """h of an activation written nowhere above (one just added): the engine's own forward.

    The differences then still check ḣ (the engine's vjp) against h; h itself is checked against the frameworks its
    record names by tests/engine/test_records.py. The only import of the engine here, and only for such a name.
    """
    from service.engine import get_activation

    return get_activation(name, **params).forward(a)


def pre_activations(layers: list[dict[str, Any]], x: Array) -> tuple[list[Array], Array]:
    """a⁽ˡ⁾ = z⁽ˡ⁻¹⁾ Wᵀ + b and z⁽ˡ⁾ = h(a⁽ˡ⁾) for a wire-form network (weights K × M, optional bias): ([a⁽ˡ⁾], y)."""
    z, a_all = x, []
    for layer in layers:
        a = z @ np.asarray(layer["weights"]).T
        if layer.get("bias") is not None:
            a = a + np.asarray(layer["bias"])
        name, params = name_and_params(layer["activation"])
        z = ACTIVATIONS[name](a, **params) if name in ACTIVATIONS else _engine_h(name, a, **params)
        a_all.append(a)
    return a_all, z


def loss_of(layers: list[dict[str, Any]], x: Array, t: Array, loss: Spec, reduction: str) -> float:
    """E for a wire-form network, x and t as N × … arrays (t: N class indices for sparse_categorical_cross_entropy)."""
    name, params = name_and_params(loss)
    per_point = LOSSES[name](pre_activations(layers, x)[1], t, **params)
    return float(per_point.sum() if reduction == "sum" else per_point.mean())


def distance_to_kinks(layers: list[dict[str, Any]], x: Array, t: Array, loss: Spec) -> float:
    """How far (in a, or in y − t for the loss) the network's point is from the nearest kink; inf if none."""
    a_all, y = pre_activations(layers, x)
    gaps = [np.inf]
    for a, layer in zip(a_all, layers, strict=True):
        name, params = name_and_params(layer["activation"])
        gaps += [float(np.abs(a - k).min()) for k in KINKS.get(name, lambda **_: ())(**params)]
    name, params = name_and_params(loss)
    gaps += [float(np.abs(y - t - k).min()) for k in LOSS_KINKS.get(name, lambda **_: ())(**params)]
    return min(gaps)


def central_difference(f: Callable[[], float], theta: Array, eps: float = 1e-4) -> Array:
    """∂f/∂θ by the five-point stencil (8[f(θ + ε) − f(θ − ε)] − [f(θ + 2ε) − f(θ − 2ε)]) / 12ε, one entry at a time.

    Its truncation error is O(ε⁴ f⁽⁵⁾), so ε can be 1e-4 and the rounding error of f,
    amplified by 1/ε, stays near 1e-12 |f| (the two-point difference needs ε ≈ 1e-6
    and amplifies it to 1e-10 |f|). θ is modified in place and restored.
    """
    grad = np.zeros_like(theta)
    for i in np.ndindex(theta.shape):
        saved = theta[i]
        values = []
        for step in (eps, -eps, 2 * eps, -2 * eps):
            theta[i] = saved + step
            values.append(f())
        theta[i] = saved
        grad[i] = (8 * (values[0] - values[1]) - (values[2] - values[3])) / (12 * eps)
    return grad
