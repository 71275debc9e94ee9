"""The LaTeX the steps use, as primer-style Unicode text: ``\\delta^{(1)}_{3}`` → ``δ₃⁽¹⁾``.

Only the small subset the explanation writes is understood: ``\\frac``, ``\\tfrac``,
``\\sqrt``, ``\\dot``, ``\\tilde``, ``\\operatorname`` / ``\\mathrm`` / ``\\text``,
Greek letters and operators (:data:`SYMBOLS`), ``^`` and ``_`` (as Unicode super-
and subscripts when every character has one, else ``^(…)``, ``_(…)``; a subscript
is written before a superscript, as the primer does), ``\\,`` as the product dot
``·`` between two operands (nothing after an operator: ``−\\,[…]`` is ``−[…]``) and
``-`` as the minus sign ``−``. Anything else passes through unchanged.
"""

from __future__ import annotations

SYMBOLS = {
    "delta": "δ", "Delta": "Δ", "sigma": "σ", "beta": "β", "theta": "θ", "epsilon": "ε", "mu": "μ", "tau": "τ",
    "lVert": "‖", "rVert": "‖", "Phi": "Φ", "varphi": "φ", "pi": "π", "lambda": "λ", "alpha": "α",
    "eta": "η", "partial": "∂", "sum": "Σ", "log": "log", "exp": "exp", "tanh": "tanh", "max": "max", "min": "min",
    "le": "≤", "ge": "≥", "cdot": "·", "times": "×", "leftarrow": "←", "quad": "   ", "qquad": "    ",
    ",": "·", ";": " ", " ": " ", "!": "", "_": "_", "big": "", "Big": "", "left": "", "right": "", "textstyle": "",
}  # fmt: skip
_SUP = dict(zip("0123456789+-−=()niakmjt", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁻⁼⁽⁾ⁿⁱᵃᵏᵐʲᵗ", strict=True))
_SUB = dict(zip("0123456789+-−=()aehijklmnoprstuvx,", "₀₁₂₃₄₅₆₇₈₉₊₋₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ,", strict=True))
_ACCENTS = {"dot": "\u0307", "tilde": "\u0303", "hat": "\u0302", "bar": "\u0304"}


def _script(text: str, table: dict[str, str], mark: str) -> str:
    if text and all(ch in table for ch in text):
        return "".join(table[ch] for ch in text)
    return f"{mark}{text}" if len(text) == 1 else f"{mark}({text})"


def _wrap(text: str) -> str:
    """Parenthesize a fraction's part unless it is one token."""
    return text if not any(ch in text for ch in " +−·") or (text.startswith("(") and text.endswith(")")) else f"({text})"


class _Reader:
    def __init__(self, source: str) -> None:
        self.s = source
        self.i = 0

    def command(self) -> str:
        """The name after a backslash: letters, or one other character."""
        start = self.i
        if self.i < len(self.s) and self.s[self.i].isalpha():
            while self.i < len(self.s) and self.s[self.i].isalpha():
                self.i += 1
        else:
            self.i += 1
        return self.s[start : self.i]

    def argument(self) -> str:
        """A {group} or a single character (or command), as text."""
        while self.i < len(self.s) and self.s[self.i] == " ":
            self.i += 1
        if self.i >= len(self.s):
            return ""
        if self.s[self.i] == "{":
            self.i += 1
            out = self.sequence()
            self.i += 1  # the closing brace
            return out
        if self.s[self.i] == "\\":
            self.i += 1
            return self.atom(self.command())
        self.i += 1
        return self.s[self.i - 1].replace("-", "−")

    def atom(self, name: str) -> str:
        if name in ("frac", "tfrac"):
            top, bottom = self.argument(), self.argument()
            return f"{_wrap(top)}/{_wrap(bottom)}"
        if name == "sqrt":
            return f"√{_wrap(self.argument())}"
        if name in _ACCENTS:
            return self.argument() + _ACCENTS[name]
        if name in ("operatorname", "mathrm", "text", "mathit"):
            return self.argument()
        return SYMBOLS.get(name, name)

    def _relation_follows(self) -> bool:
        """Whether an operator or relation comes next (δ = …, δ + …): the space before it stays."""
        return self.s[self.i :].lstrip()[:1] in ("=", "+", "-", "<", ">")

    def _product(self, out: list[str]) -> str:
        """``\\,`` between two operands is their product, ``·``; after an operator or before a closing bracket, only space: ``−[…]``."""
        before = "".join(out).rstrip()[-1:]
        rest = self.s[self.i :].lstrip()
        after = rest[:1]
        if not before or before in "−-+=([{,·" or not after or after in ")]}=+" or rest.startswith(("-", "\\quad")):
            return ""
        return "·"

    def sequence(self) -> str:
        out: list[str] = []
        subs: list[str] = []
        sups: list[str] = []

        def flush() -> None:
            out.extend(_script(s, _SUB, "_") for s in subs)
            out.extend(_script(s, _SUP, "^") for s in sups)
            subs.clear()
            sups.clear()

        while self.i < len(self.s) and self.s[self.i] != "}":
            ch = self.s[self.i]
            if ch in "^_":
                self.i += 1
                (sups if ch == "^" else subs).append(self.argument())
                continue
            flush()
            if ch == "\\":
                self.i += 1
                name = self.command()
                text = self._product(out) if name == "," else self.atom(name)
                out.append(text)
                if name.isalpha() and len(text) == 1 and not self._relation_follows():  # ∂E, Σₖ, δ z: as LaTeX spaces them
                    while self.i < len(self.s) and self.s[self.i] == " ":
                        self.i += 1
            elif ch == "{":
                self.i += 1
                out.append(self.sequence())
                self.i += 1
            else:
                self.i += 1
                out.append("−" if ch == "-" else ch)
        flush()
        return "".join(out)


def to_text(latex: str) -> str:
    """``latex`` (the steps' subset) as Unicode text."""
    return _Reader(latex).sequence()
