"""The derivation as an HTML fragment of MathML, which browsers render natively (Chromium, Firefox, Safari).

Each step's LaTeX (``symbol = formula = substituted = value``) is converted by
``latex2mathml`` (pure Python), so a page needs no maths library of its own:

    <section class="stage"><h3>Propagated error <math>…δ⁽¹⁾…</math> (eq. 7)</h3>
      <ol class="steps">
        <li class="step" id="step-delta-0-0-2" data-step="delta/0/0/2" data-depends="a/0/0/2 delta/1/0/0 delta/1/0/1">
          <span class="derivative"><math>ḣ …</math></span>
          <span class="lhs"><math>δ₃⁽¹⁾ = ḣ⁽¹⁾(a₃⁽¹⁾) Σₖ w⁽²⁾ₖ,₃ δ⁽²⁾ₖ</math></span>
          <span class="rhs"><math>= tanh′(1.7)[0.3(−0.5131) + …] = −0.01952</math></span>
        </li> …

``data-step`` is the step id and ``data-depends`` its ``depends_on``, so a page can
highlight a step and the terms it uses. Only the engine's own LaTeX is converted;
text outside ``$…$`` is XML-escaped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from xml.sax.saxutils import escape, quoteattr

from service.engine.explain.numbers import Numbers
from service.engine.explain.steps import Step

#: A minus right after "=", "(", "[", "+" or "," is a sign (−0.51), not a binary operator (a − b): MathML's prefix form.
_PREFIX_MINUS = re.compile(r"(<mo[^>]*>(?:&#x0003D;|&#x00028;|\[|&#x0002B;|&#x0002C;)</mo>)<mo>&#x02212;</mo>")


@lru_cache(maxsize=4096)
def to_mathml(latex: str, display: str = "inline") -> str:
    """One ``<math>`` element for ``latex`` (the conversions repeat: formulas are shared by many steps)."""
    from latex2mathml.converter import convert  # imported here: only this form needs the package

    return _PREFIX_MINUS.sub(r'\1<mo form="prefix">&#x02212;</mo>', convert(latex, display=display))


def heading(text: str) -> str:
    """A stage heading: text with ``$…$`` math, as HTML (odd parts are math)."""
    parts = text.split("$")
    return "".join(to_mathml(p) if i % 2 else escape(p) for i, p in enumerate(parts))


def _element_id(step_id: str) -> str:
    return "step-" + step_id.replace("/", "-")


def render_mathml(sections: Sequence[tuple[str | None, Step]], digits: int) -> str:
    """The (heading, step) pairs of :func:`~service.engine.explain.render.render` as one HTML fragment."""
    numbers = Numbers(digits)
    out: list[str] = []
    opened = False
    for head, s in sections:
        if head:
            if opened:
                out.append("</ol></section>")
            out.append(f'<section class="stage"><h3>{heading(head)}</h3><ol class="steps">')
            opened = True
        derivative = f'<span class="derivative">{to_mathml(s.derivative)}</span>' if s.derivative else ""
        lhs = to_mathml(f"{s.symbol} = {s.formula}")
        rhs = to_mathml(f"= {s.substituted} = {numbers.computed(s.value)}")
        ids = f"id={quoteattr(_element_id(s.id))} data-step={quoteattr(s.id)} data-depends={quoteattr(' '.join(s.depends_on))}"
        out.append(f'<li class="step" {ids}>{derivative}<span class="lhs">{lhs}</span> <span class="rhs">{rhs}</span></li>')
    if opened:
        out.append("</ol></section>")
    return "\n".join(out) + "\n"
