"""LaTeX descriptions of activations and losses, kept beside their definitions.

Each activation and loss builder attaches one of these (with its parameters already
written in), so the catalog text, the derivative and the explanation's formula live
in one place. Templates hold placeholders that the explanation replaces:

    ⟨a⟩, ⟨z⟩       the pre-activation aₖ and the output zₖ of one neuron (activations)
    ⟨y⟩, ⟨t⟩       one output yₖ and its target tₖ (for a smoothed or class-index loss: t'ₖ)
    ⟨K⟩            the number of outputs K
    ⟨s⟩, ⟨S⟩       softmax(y)ₖ and Σⱼ t'ⱼ (categorical cross-entropy on logits)

A placeholder is replaced either by a symbol (``a^{(1)}_{3}``: the formula) or by a
number (``1.7``: the substituted line); see :func:`fill`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class ActivationTex:
    """How an activation h is written.

    ``name`` is h's own symbol (``\\tanh``; its derivative is written ``\\tanh'``),
    ``h`` and ``dh`` are templates of h(⟨a⟩) and ḣ(⟨a⟩) (⟨z⟩ = h(⟨a⟩) may appear in
    ``dh``), ``definition`` is the general formula and derivative for the catalog.
    ``jacobian`` is ``"diagonal"`` (elementwise: δ = ḣ(a) ⊙ g) or ``"softmax"`` /
    ``"log_softmax"`` (a vector–Jacobian product over the layer, ``h`` and ``dh``
    then describe component k with ⟨k⟩-free symbols and are not substituted).
    """

    name: str
    h: str
    dh: str
    definition: str
    jacobian: str = "diagonal"


@dataclass(frozen=True)
class LossTex:
    """How a loss Eₙ = prefix Σₖ term(yₖ, tₖ) and its gradient ∂Eₙ/∂yₖ are written.

    ``prefix`` is what stands before the sum (``\\frac{1}{2}``, ``-\\frac{1}{⟨K⟩}``),
    ``term`` the summand and ``grad`` ∂Eₙ/∂yₖ, both templates in ⟨y⟩, ⟨t⟩, ⟨K⟩, ⟨s⟩, ⟨S⟩.
    ``smoothing`` is the label smoothing ε (the target shown is t' = t(1 − ε) + ε/K).
    """

    prefix: str
    term: str
    grad: str
    definition: str
    smoothing: float = 0.0


def param(value: float) -> str:
    """A parameter as LaTeX: ``0.01``, ``10^{-8}``, ``1.5 \\times 10^{-7}``."""
    if value == 0:
        return "0"
    text = f"{value:.6g}"
    if "e" not in text:
        return text
    mantissa, exponent = text.split("e")
    power = f"10^{{{int(exponent)}}}"
    return power if mantissa == "1" else f"{mantissa} \\times {power}"


#: What may stand right before a placeholder without the number needing parentheses: an opening bracket, a
#: separator or a relation (``\\max(⟨a⟩, 0)``, ``[⟨a⟩ > 0]``, ``-3 < ⟨a⟩``), or nothing.
_FREE_BEFORE = ("(", "[", "{", ",", "|", "=", "<", ">")
_RELATIONS = ("le", "ge", "leq", "geq", "lt", "gt")


def _needs_parentheses(before: str, after: str) -> bool:
    """Whether a negative number put between ``before`` and ``after`` must be parenthesized to read right."""
    if after.startswith(("^", "_")):  # a power or an index of it: (−0.5)²
        return True
    left = before.rstrip()
    if left.endswith("\\,"):  # a product: 2\\,(−0.5)
        return True
    if not left or left.endswith(_FREE_BEFORE):
        return False
    command = re.search(r"\\([A-Za-z]+)$", left)
    return command is None or command.group(1) not in _RELATIONS  # after −, +, a function or a number


def fill(template: str, values: dict[str, str]) -> str:
    """Replace each placeholder ⟨p⟩ by ``values[p]``.

    A value that starts with a minus sign is put in parentheses only where it would
    otherwise read wrong: after a minus, a plus, a product or a function name, or before
    a power (``e^{-⟨a⟩}`` becomes ``e^{-(-0.5)}``, ``⟨z⟩^{2}`` becomes ``(-0.5)^{2}``),
    not after an opening bracket, a comma or a relation (``\\tanh(-0.5)``, ``\\max(-0.5, 0)``).
    """
    out = template
    for key, value in values.items():
        token = f"⟨{key}⟩"
        if not value.startswith("-"):
            out = out.replace(token, value)
            continue
        parts = out.split(token)
        out = parts[0]
        for after in parts[1:]:
            out += (f"({value})" if _needs_parentheses(out, after) else value) + after
    return out


def loss_tex(prefix: str, term: str, grad: str, smoothing: float = 0.0) -> LossTex:
    """A :class:`LossTex` whose catalog definition is Eₙ and ∂Eₙ/∂yₖ written in yₖ, tₖ, K."""
    symbols = {"⟨y⟩": "y_{k}", "⟨t⟩": "t_{k}", "⟨K⟩": "K", "⟨s⟩": "\\operatorname{softmax}(y)_{k}", "⟨S⟩": "\\sum_{j} t_{j}"}
    definition = f"E_{{n}} = {prefix}\\sum_{{k}} {term},\\quad \\frac{{\\partial E_{{n}}}}{{\\partial y_{{k}}}} = {grad}"
    for token, symbol in symbols.items():
        definition = definition.replace(token, symbol)
    return LossTex(prefix, term, grad, definition, smoothing)
