"""The derivation as an HTML fragment of MathML, which browsers render natively (Chromium, Firefox, Safari).

Each step's LaTeX (``symbol = formula = substituted = value``) is converted by
``latex2mathml`` (pure Python), so a page needs no maths library of its own:

    <section class="stage"><h3>Propagated error <math>…δ⁽¹⁾…</math> (eq. 7)</h3>
      <p class="prose">Each hidden δ …</p>
      <ol class="steps">
        <li class="step" id="step-delta-0-0-2" data-step="delta/0/0/2" data-depends="a/0/0/2 delta/1/0/0 delta/1/0/1">
          <span class="line"><math>ḣ …</math></span>                        (the lines it is built from: derivative, factors…)
          <span class="lhs"><math>δ₃⁽¹⁾ = ḣ⁽¹⁾(a₃⁽¹⁾) Σₖ w⁽²⁾ₖ,₃ δ⁽²⁾ₖ</math></span>
          <span class="rhs"><math>= tanh′(1.7)[0.3(−0.5131) + …]</math> <math>= −0.01952</math></span>
        </li> …

A line is cut into several ``<math>`` pieces at its top-level ``=``, ``+`` and ``−`` (outside any bracket), so
a narrow screen can wrap it between them instead of scrolling it. ``data-step`` is the step id and
``data-depends`` its ``depends_on``, so a page can highlight a step and the terms it uses. Only the engine's
own LaTeX is converted; text outside ``$…$`` is XML-escaped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from xml.sax.saxutils import escape, quoteattr

from service.engine.explain.lines import equation, lines, sides
from service.engine.explain.numbers import Numbers
from service.engine.explain.steps import Step

#: A minus right after "=", "(", "[", "+" or "," is a sign (−0.51), not a binary operator (a − b): MathML's prefix form.
_PREFIX_MINUS = re.compile(r"(<mo[^>]*>(?:&#x0003D;|&#x00028;|\[|&#x0002B;|&#x0002C;)</mo>)<mo>&#x02212;</mo>")
#: A piece that starts with a minus or a plus (after a cut before " - ", " + "): the binary operator of the line.
_LEADING_OPERATOR = re.compile(r"^(<math[^>]*>(?:<mrow>)?)<mo>(&#x02212;|&#x0002B;)</mo>")


@lru_cache(maxsize=4096)
def to_mathml(latex: str, display: str = "inline") -> str:
    """One ``<math>`` element for ``latex`` (the conversions repeat: formulas are shared by many steps)."""
    from latex2mathml.converter import convert  # imported here: only this form needs the package

    return _PREFIX_MINUS.sub(r'\1<mo form="prefix">&#x02212;</mo>', convert(latex, display=display))


def pieces(latex: str) -> list[str]:
    """``latex`` cut before each " = ", " + " and " - " that stands outside every bracket and brace."""
    out, depth, start, i = [], 0, 0, 0
    while i < len(latex):
        ch = latex[i]
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0 and latex.startswith((" = ", " + ", " - "), i) and i > start:
            out.append(latex[start:i])
            start = i + 1
        elif ch == "\\" and latex.startswith(("\\left", "\\right"), i):
            i += 5  # \left( and \right) keep their brackets balanced
        i += 1
    out.append(latex[start:])
    return [p for p in out if p.strip()]


def wrapped(latex: str) -> str:
    """``latex`` as ``<math>`` pieces with a space between them, where a line may wrap."""
    return " ".join(_LEADING_OPERATOR.sub(r'\1<mo form="infix">\2</mo>', to_mathml(p)) for p in pieces(latex))


def heading(text: str) -> str:
    """A stage heading: text with ``$…$`` math, as HTML (odd parts are math)."""
    parts = text.split("$")
    return "".join(to_mathml(p) if i % 2 else escape(p) for i, p in enumerate(parts))


def _element_id(step_id: str) -> str:
    return "step-" + step_id.replace("/", "-")


def render_mathml(sections: Sequence[tuple[str | None, Step, str]], digits: int) -> str:
    """The (heading, step, prose) triples of :func:`~service.engine.explain.render.render` as one HTML fragment."""
    numbers = Numbers(digits)
    out: list[str] = []
    opened = False
    for head, s, prose in sections:
        if head:
            if opened:
                out.append("</ol></section>")
            out.append(f'<section class="stage"><h3>{heading(head)}</h3><p class="prose">{heading(prose)}</p><ol class="steps">')
            opened = True
        before = "".join(f'<span class="line">{wrapped(line)}</span>' for line in lines(s, numbers))
        lhs = to_mathml(equation(s.symbol, s.formula))
        rest = sides(s.formula, s.substituted, numbers.computed(s.value))[1:]
        rhs = wrapped(" = ".join(["", *rest]).strip()) if rest else ""
        ids = f"id={quoteattr(_element_id(s.id))} data-step={quoteattr(s.id)} data-depends={quoteattr(' '.join(s.depends_on))}"
        out.append(f'<li class="step" {ids}>{before}<span class="lhs">{lhs}</span> <span class="rhs">{rhs}</span></li>')
    if opened:
        out.append("</ol></section>")
    return "\n".join(out) + "\n"
