"""Classification and divergence losses Eₙ(y, t), each with its gradient ∂Eₙ/∂y beside it.

y and t are N × K (t is N × 1 of class indices for sparse_categorical_cross_entropy);
any leading axes are batch axes. Logs of probabilities are clamped at −100 as in
PyTorch's binary_cross_entropy, so a saturated output gives a large finite loss.

Fusion: with a softmax output, categorical cross-entropy on probabilities is
computed from the logits a⁽ᴸ⁾ (Eₙ = −Σ t log softmax(a), δ = softmax(a) Σt − t),
which is −Σ t log y up to rounding wherever log y is above the clamp, and stays
exact where softmax underflows. Sigmoid + binary_cross_entropy is *not* fused:
PyTorch clamps that loss and its gradient, and fusing would change those numbers;
use a linear output with binary_cross_entropy_with_logits for the exact form.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from service.engine.activations import log_softmax, softmax
from service.engine.activations_elementwise import sigmoid
from service.engine.arrays import Array
from service.engine.errors import DomainError
from service.engine.loss_base import Check, Fused, Loss, mean_last, within
from service.engine.registry import Entry, entry, flag, unit_interval
from service.engine.tex import LossTex
from service.engine.tex import loss_tex as tex

LOG_CLAMP = -100.0
BCE_EPSILON = float(np.float32(1e-12))  # PyTorch clamps y(1 − y) at 1e-12, a float constant in its kernel


def _log(y: Array) -> Array:
    """max(log y, −100), as PyTorch's binary_cross_entropy: log 0 = −inf is clamped, without a warning."""
    with np.errstate(divide="ignore"):
        return np.maximum(np.log(y), LOG_CLAMP)


def _log1m(y: Array) -> Array:
    """max(log(1 − y), −100)."""
    with np.errstate(divide="ignore"):
        return np.maximum(np.log1p(-y), LOG_CLAMP)


def _bce() -> Loss:
    def value(y: Array, t: Array) -> Array:
        return -mean_last(t * _log(y) + (1.0 - t) * _log1m(y))

    def grad(y: Array, t: Array) -> Array:
        return (y - t) / np.maximum((1.0 - y) * y, BCE_EPSILON) / y.shape[-1]

    def check(y: Array, t: Array) -> None:
        within("binary_cross_entropy", "t", t, 0, 1)
        within("binary_cross_entropy", "y", y, 0, 1, " (use a sigmoid output, or binary_cross_entropy_with_logits)")

    t = tex(
        "-\\frac{1}{⟨K⟩}",
        "[⟨t⟩\\log ⟨y⟩ + (1 - ⟨t⟩)\\log(1 - ⟨y⟩)]",
        "\\frac{⟨y⟩ - ⟨t⟩}{⟨K⟩\\,\\max(⟨y⟩\\,(1 - ⟨y⟩), 10^{-12})}",
    )
    return Loss("binary_cross_entropy", value, grad, check=check, tex=t)


def _bce_with_logits() -> Loss:
    def value(y: Array, t: Array) -> Array:
        return mean_last(np.maximum(y, 0) - y * t + np.log1p(np.exp(-np.abs(y))))

    def check(y: Array, t: Array) -> None:
        within("binary_cross_entropy_with_logits", "t", t, 0, 1)

    t = tex(
        "\\frac{1}{⟨K⟩}",
        "[\\max(⟨y⟩, 0) - ⟨y⟩\\,⟨t⟩ + \\log(1 + e^{-|⟨y⟩|})]",
        "\\frac{1}{⟨K⟩}\\,(\\sigma(⟨y⟩) - ⟨t⟩)",
    )
    return Loss("binary_cross_entropy_with_logits", value, lambda y, t: (sigmoid(y) - t) / y.shape[-1], check=check, tex=t)


def _smooth(t: Array, label_smoothing: float) -> Array:
    """t (1 − ε) + ε/K."""
    return t if label_smoothing == 0 else t * (1.0 - label_smoothing) + label_smoothing / t.shape[-1]


def _cce_parts(from_logits: bool, label_smoothing: float) -> tuple[Callable[..., Array], Callable[..., Array], Fused]:
    """value, grad and the softmax-fused form of −Σₖ t'ₖ log yₖ (t' the smoothed target)."""

    def fused(a: Array, t: Array) -> tuple[Array, Array]:
        ts = _smooth(t, label_smoothing)
        return -(ts * log_softmax(a)).sum(axis=-1), softmax(a) * ts.sum(axis=-1, keepdims=True) - ts

    def value(y: Array, t: Array) -> Array:
        if from_logits:
            return fused(y, t)[0]
        return -(_smooth(t, label_smoothing) * _log(y)).sum(axis=-1)

    def grad(y: Array, t: Array) -> Array:
        if from_logits:
            return fused(y, t)[1]
        return -_smooth(t, label_smoothing) / np.maximum(y, np.finfo(y.dtype).tiny)

    return value, grad, fused


def _cce_tex(from_logits: bool, label_smoothing: float) -> LossTex:
    """−Σₖ t'ₖ log yₖ (or log softmax(y)ₖ on logits), with t' the smoothed target the explanation shows as ⟨t⟩."""
    if from_logits:
        return tex("-", "⟨t⟩\\,\\log ⟨s⟩", "⟨s⟩\\,⟨S⟩ - ⟨t⟩", label_smoothing)
    return tex("-", "⟨t⟩\\,\\log ⟨y⟩", "-\\frac{⟨t⟩}{⟨y⟩}", label_smoothing)


def _probabilities_check(name: str, from_logits: bool) -> Check:
    def check(y: Array, t: Array) -> None:
        if not from_logits:
            within(name, "y", y, 0, 1, " (use a softmax output, or from_logits true)")

    return check


def _cce(from_logits: bool, label_smoothing: float) -> Loss:
    name = "categorical_cross_entropy"
    value, grad, fused = _cce_parts(from_logits, label_smoothing)
    y_check = _probabilities_check(name, from_logits)

    def check(y: Array, t: Array) -> None:
        within(name, "t", t, 0, None)
        y_check(y, t)

    return Loss(name, value, grad, {} if from_logits else {"softmax": fused}, check, tex=_cce_tex(from_logits, label_smoothing))


def one_hot(t: Array, K: int) -> Array:
    """Class indices (… × 1) as one-hot rows (… × K)."""
    return (np.arange(K) == t).astype(t.dtype)


def _sparse_cce(from_logits: bool, label_smoothing: float) -> Loss:
    name = "sparse_categorical_cross_entropy"
    value, grad, fused = _cce_parts(from_logits, label_smoothing)
    y_check = _probabilities_check(name, from_logits)

    def check(y: Array, t: Array) -> None:
        K = y.shape[-1]
        bad = (t != np.round(t)) | (t < 0) | (t >= K)
        if bad.any():
            raise DomainError("t", f"{name} needs t to be class indices 0 … {K - 1}; found {t[bad].flat[0]:.6g}")
        y_check(y, t)

    def sparse(f: Callable[..., Array]) -> Callable[[Array, Array], Array]:
        return lambda y, t: f(y, one_hot(t, y.shape[-1]))

    fused_sparse: Fused = lambda a, t: fused(a, one_hot(t, a.shape[-1]))  # noqa: E731
    fused_or_not = {} if from_logits else {"softmax": fused_sparse}
    return Loss(name, sparse(value), sparse(grad), fused_or_not, check, "class_index", _cce_tex(from_logits, label_smoothing))


def _kl_divergence(log_target: bool) -> Loss:
    def value(y: Array, t: Array) -> Array:
        if log_target:
            return (np.exp(t) * (t - y)).sum(axis=-1)
        t_log_t = np.where(t > 0, t * np.log(np.where(t > 0, t, 1.0)), 0.0)  # 0 log 0 = 0
        return (t_log_t - t * y).sum(axis=-1)

    def check(y: Array, t: Array) -> None:
        if not log_target:
            within("kl_divergence", "t", t, 0, None)

    t = tex("", "e^{⟨t⟩}\\,(⟨t⟩ - ⟨y⟩)", "-e^{⟨t⟩}") if log_target else tex("", "⟨t⟩\\,(\\log ⟨t⟩ - ⟨y⟩)", "-⟨t⟩")
    return Loss("kl_divergence", value, lambda y, t: -np.exp(t) if log_target else -t, check=check, tex=t)


_FROM_LOGITS = "y are logits (any real numbers) rather than probabilities"
_SMOOTHING = "ε: the target becomes t (1 − ε) + ε/K"

ENTRIES: list[Entry[Loss]] = [
    entry(
        _bce,
        "binary_cross_entropy",
        "Eₙ = −(1/K) Σₖ [tₖ log yₖ + (1 − tₖ) log(1 − yₖ)], logs clamped at −100;  ∂Eₙ/∂y = (y − t) / max(y(1 − y), 1e-12) / K",
        aliases=("binary_crossentropy",),
        keras="Keras clips y to [1e-7, 1 − 1e-7] instead of clamping the log at −100.",
        notes=("y and t in [0, 1]", "with a sigmoid output this is not fused (PyTorch's clamped numbers are kept)"),
    ),
    entry(
        _bce_with_logits,
        "binary_cross_entropy_with_logits",
        "Eₙ = (1/K) Σₖ [max(yₖ, 0) − yₖ tₖ + log(1 + e^−|yₖ|)] on logits y;  ∂Eₙ/∂y = (σ(y) − t) / K",
        keras="Keras: binary_crossentropy with from_logits=True.",
        notes=("t in [0, 1]; use a linear output",),
    ),
    entry(
        _cce,
        "categorical_cross_entropy",
        "Eₙ = −Σₖ t'ₖ log yₖ (log clamped at −100; log_softmax(y) if from_logits), t' = t(1 − ε) + ε/K",
        flag("from_logits", False, _FROM_LOGITS),
        unit_interval("label_smoothing", 0.0, _SMOOTHING),
        aliases=("categorical_crossentropy",),
        keras="Keras rescales y to sum to 1 and clips it to [1e-7, 1 − 1e-7] (from_logits false); "
        "PyTorch's cross_entropy always takes logits (from_logits true).",
        notes=(
            "with a softmax output, computed from the logits as PyTorch's cross_entropy: δ⁽ᴸ⁾ = softmax(a) Σt' − t'",
            "t ≥ 0 (probabilities or one-hot rows, like y)",
        ),
    ),
    entry(
        _sparse_cce,
        "sparse_categorical_cross_entropy",
        "Eₙ = −Σₖ t'ₖ log yₖ with t' the one-hot row of the class index tₙ (smoothed by ε)",
        flag("from_logits", False, _FROM_LOGITS),
        unit_interval("label_smoothing", 0.0, _SMOOTHING),
        aliases=("sparse_categorical_crossentropy",),
        keras="Keras's version has no label_smoothing; PyTorch's cross_entropy with class-index targets takes logits.",
        notes=(
            "t holds one class index (an integer-valued number in 0 … K−1) per point: "
            "a vector of N indices for a batch x, a one-entry vector [c] for a single point",
            "with a softmax output, fused as categorical_cross_entropy is",
        ),
    ),
    entry(
        _kl_divergence,
        "kl_divergence",
        "Eₙ = Σₖ tₖ (log tₖ − yₖ) with y = log-probabilities (Σₖ e^tₖ (tₖ − yₖ) if log_target);  ∂Eₙ/∂y = −t",
        flag("log_target", False, "t is given as log-probabilities"),
        keras="Keras's kl_divergence takes probabilities y (clipped to [1e-7, 1]); here, as in PyTorch's kl_div, "
        "y is log-probabilities: use a log_softmax output.",
        notes=("PyTorch's reduction 'batchmean' is reduction mean here; its 'sum' is sum", "t ≥ 0 unless log_target"),
    ),
]
