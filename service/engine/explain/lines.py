"""The lines a step is written as, shared by every rendering: equations without repeated sides, and the lines before a step's own."""

from __future__ import annotations

from service.engine.explain.numbers import Numbers
from service.engine.explain.steps import Step


def sides(*parts: str) -> list[str]:
    """The sides of ``a = b = c``, a side left out where it repeats the one before it (or is empty)."""
    kept: list[str] = []
    for side in parts:
        if side and (not kept or side != kept[-1]):
            kept.append(side)
    return kept


def equation(*parts: str) -> str:
    """``a = b = c`` of :func:`sides`: ``z⁽²⁾₁ = a⁽²⁾₁ = 0.4869``, not ``… = 0.4869 = 0.4869``."""
    return " = ".join(sides(*parts))


def lines(step: Step, numbers: Numbers) -> list[str]:
    """The LaTeX lines a step is built from, before its own: the derivative, each factor, each optimizer quantity.

    A factor that is the whole step (∂E/∂x, a sum of its own) is the step's line, not one before it.
    """
    out = [step.derivative] if step.derivative else []
    out += [
        equation(f.symbol, f.formula, f.substituted, numbers.computed(f.value)) for f in step.factors if f.substituted != step.substituted
    ]
    out += [equation(p.symbol, p.formula, p.substituted, numbers.computed(p.value)) for p in step.parts]
    return out
