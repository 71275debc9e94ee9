"""Numbers as the derivation shows them: computed values to ``digits`` significant digits.

    computed(0.8004990, 2) = "0.80"     (rounded: trailing zeros kept, the digits are significant)
    computed(1.7, 4)       = "1.7"      (a number that needs fewer digits is shown exactly)
    computed(-1.2e-05, 2)  = "-1.2 \\times 10^{-5}"
    given(1.15, 2)         = "1.15"     (a number the request sent, shown as sent)

A number the request sent (x, t, a weight or bias) is shown in its shortest
round-trip form when that has at most max(digits, 4) significant digits, so the
primer's 0.1 and 1.15 stay 0.1 and 1.15 at digits = 2; otherwise it is rounded
like a computed value.
"""

from __future__ import annotations

from dataclasses import dataclass


def _latex(text: str) -> str:
    """Python's exponent form (``1.2e-05``) as LaTeX; a trailing point dropped (``12.`` → ``12``)."""
    if "e" in text:
        mantissa, exponent = text.split("e")
        mantissa = mantissa.rstrip(".")
        return f"{mantissa} \\times 10^{{{int(exponent)}}}"
    return text.rstrip(".") if text.endswith(".") else text


def _significant(text: str) -> int:
    digits = text.lstrip("-").split("e")[0].replace(".", "").lstrip("0")
    return len(digits)


def _shown(value: float, digits: int, limit: int) -> str:
    """The shortest round-trip form if it has at most ``limit`` significant digits, else ``digits`` of them."""
    if value != value or value in (float("inf"), float("-inf")):
        return str(value)
    short = repr(float(value))
    if short.endswith(".0"):
        short = short[:-2]
    if _significant(short) <= limit:
        return _latex(short)
    return _latex(f"{value:#.{digits}g}")


@dataclass(frozen=True)
class Numbers:
    """Formats numbers for ``substituted`` at ``digits`` (1–17) significant digits."""

    digits: int

    def computed(self, value: float) -> str:
        return _shown(value, self.digits, self.digits)

    def given(self, value: float) -> str:
        return _shown(value, self.digits, max(self.digits, 4))


def product(*factors: str) -> str:
    """``a\\,(b)\\,(c)``: each factor after the first in parentheses, as the primer writes −0.52 (0.46)."""
    return "\\,".join([factors[0], *(f if f.startswith(("(", "[")) else f"({f})" for f in factors[1:])])


def total(terms: list[str]) -> str:
    """``t₁ + t₂ − t₃``: a negative term is written with a minus, not ``+ -``."""
    out = terms[0] if terms else "0"
    for t in terms[1:]:
        out += f" - {t[1:]}" if t.startswith("-") and not t.startswith("-\\") else f" + {t}"
    return out
