"""The loss type shared by the loss modules, and the checks of a loss's domain."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from service.engine.arrays import Array
from service.engine.errors import DomainError
from service.engine.tex import LossTex

Fused = Callable[[Array, Array], tuple[Array, Array]]
Check = Callable[[Array, Array], None]


def no_check(y: Array, t: Array) -> None:
    """Every y and t are in the domain."""


@dataclass(frozen=True)
class Loss:
    """A loss: ``value(y, t) -> Eₙ`` (N,) and ``grad(y, t) -> ∂Eₙ/∂y`` (N × K).

    ``fused[h]`` computes (Eₙ, ∂Eₙ/∂a⁽ᴸ⁾) straight from a⁽ᴸ⁾ for output activation
    ``h``; ``check(y, t)`` raises :class:`DomainError` outside the loss's domain.
    ``target`` is ``"values"`` (t is N × K, like y) or ``"class_index"`` (t is N × 1,
    one integer-valued class index per point). Leading axes before N are batch axes.
    ``tex`` is how the explanation writes Eₙ and ∂Eₙ/∂y (parameters filled in).
    """

    name: str
    value: Callable[[Array, Array], Array]
    grad: Callable[[Array, Array], Array]
    fused: dict[str, Fused] = field(default_factory=dict)
    check: Check = no_check
    target: str = "values"
    tex: LossTex | None = None


def within(name: str, operand: str, values: Array, low: float, high: float | None, hint: str = "") -> None:
    """DomainError unless low ≤ values (≤ high): ``operand`` is "y" (the output) or "t" (the target)."""
    bad = values < low if high is None else (values < low) | (values > high)
    if bad.any():
        where = f"[{low:g}, {high:g}]" if high is not None else f"≥ {low:g}"
        first = values[bad].flat[0]
        what = "outputs y" if operand == "y" else "targets t"
        raise DomainError(operand, f"{name} needs {what} in {where}; found {first:.6g}{hint}")


def mean_last(value: Array) -> Array:
    """The mean over the last axis, (1/K) Σₖ, in the dtype of ``value``.

    ``ndarray.mean`` divides by its count through a float64 temporary for float32 input;
    the sum divided by the Python int K stays float32 (and is the same number: mean sums, then divides).
    """
    return value.sum(axis=-1) / value.shape[-1]
