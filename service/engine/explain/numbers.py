"""Numbers as the derivation shows them: computed values to ``digits`` significant digits.

    computed(0.8004990, 2) = "0.80"      (rounded: up to 4 digits trailing zeros are kept, the digits are significant)
    computed(0.39250000000000007, 9) = "0.3925"   (beyond 4 digits they are dropped, as 0.3925 sent stands beside it)
    computed(1.7, 4)       = "1.7"       (a number that needs fewer digits is shown exactly)
    computed(-1.2e-05, 2)  = "-1.2 \\times 10^{-5}"
    given(1.15, 2)         = "1.15"      (a number the request sent, shown as sent)
    beside(0.9999924, 1, "1") = "0.9999924"  (an output beside its target, at 4 digits: enough to tell them apart)

A number the request sent (x, t, a weight or bias) is shown in its shortest
round-trip form when that has at most max(digits, 4) significant digits, so the
primer's 0.1 and 1.15 stay 0.1 and 1.15 at digits = 2; otherwise it is rounded
like a computed value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: Up to this many significant digits, trailing zeros are kept (0.80, 0.1250: what a hand derivation writes);
#: beyond, they are dropped (0.35891648, not 0.358916480), as the numbers sent are shown without them.
KEEP_ZEROS = 4
#: The most digits a number shown beside another may take to differ from it.
MAX_DIGITS = 17


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


def _decimals(text: str) -> int:
    """Digits after the point of a plain number (0 for one in exponent form, which shows its own scale)."""
    return 0 if "e" in text or "." not in text else len(text.split(".")[1])


def _rounded(value: float, digits: int) -> str:
    """``value`` to ``digits`` significant digits in Python's notation, trailing zeros kept up to KEEP_ZEROS digits."""
    text = f"{value:#.{digits}g}"
    if digits > KEEP_ZEROS:
        mantissa, _, exponent = text.partition("e")
        text = mantissa.rstrip("0").rstrip(".") + (f"e{exponent}" if exponent else "")
    return text


def _shown(value: float, digits: int, limit: int) -> str:
    """The shortest round-trip form if it has at most ``limit`` significant digits, else ``digits`` of them (Python notation)."""
    if value != value or value in (float("inf"), float("-inf")):
        return str(value)
    short = repr(float(value) + 0.0)  # + 0.0: −0 is shown as 0
    if short.endswith(".0"):
        short = short[:-2]
    if _significant(short) <= limit:
        return short
    return _rounded(value, digits)


@dataclass(frozen=True)
class Numbers:
    """Formats numbers for ``substituted`` at ``digits`` (1–17) significant digits."""

    digits: int

    def computed(self, value: float) -> str:
        return _latex(_shown(value, self.digits, self.digits))

    def given(self, value: float) -> str:
        return _latex(_shown(value, self.digits, max(self.digits, 4)))

    def beside(self, value: float, other: float, other_text: str, most: int = MAX_DIGITS) -> str:
        """A computed ``value`` written next to ``other`` (shown as ``other_text``), as an output beside its target.

        It gets at least as many decimals as ``other_text`` (z = 1.15 beside t = 1.15, not 1.2) and, when
        the two differ, enough for two significant digits of their difference (0.9999924 − 1 = −7.566 × 10⁻⁶,
        not 1.000 − 1), at most ``most`` significant digits (a small drawing asks for fewer).
        """
        if not (math.isfinite(value) and math.isfinite(other)):
            return self.computed(value)
        decimals = _decimals(other_text.replace(" \\times 10^{", "e"))
        if value != other:
            decimals = max(decimals, 1 - math.floor(math.log10(abs(value - other))))
        lead = math.floor(math.log10(abs(value))) if value else 0
        digits = min(most, max(self.digits, decimals + lead + 1))
        return _latex(_shown(value, digits, digits))


def product(*factors: str) -> str:
    """``a\\,(b)\\,(c)``: each factor after the first in parentheses, as the primer writes −0.52 (0.46)."""
    return "\\,".join([factors[0], *(f if f.startswith(("(", "[")) else f"({f})" for f in factors[1:])])


def total(terms: list[str]) -> str:
    """``t₁ + t₂ − t₃``: a negative term is written with a minus, not ``+ -``."""
    out = terms[0] if terms else "0"
    for t in terms[1:]:
        out += f" - {t[1:]}" if t.startswith("-") and not t.startswith("-\\") else f" + {t}"
    return out
