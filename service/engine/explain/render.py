"""render(steps, form): one document from the steps, as Markdown, LaTeX or primer-style text.

markdown   a heading per stage, one bullet per step: $symbol = formula = substituted = value$
latex      an align* body: symbol &= formula \\\\ &= substituted = value (\\intertext between stages)
text       the primer's style in Unicode: δ₃⁽¹⁾ = tanh'(1.7)·[0.3·(−0.5131) + …] = −0.01952
mathml     an HTML fragment, a section per stage and a list item of MathML per step (see :mod:`.mathml`)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from service.engine.explain.latex_text import to_text
from service.engine.explain.mathml import render_mathml
from service.engine.explain.numbers import Numbers
from service.engine.explain.steps import Step

FORMS = ("markdown", "latex", "text", "mathml")


def stage(step: Step, last_layer: int) -> str:
    """The heading a step belongs under (1-based layers, as in the primer), with $…$ math."""
    l = "" if step.layer is None else f"^{{({step.layer + 1})}}"
    return {
        "a": f"Forward pass, layer {_n(step)}",
        "z": f"Forward pass, layer {_n(step)}",
        "loss": "Loss",
        "delta": f"Output error $\\delta{l}$ (eq. 5)" if step.layer == last_layer else f"Propagated error $\\delta{l}$ (eq. 7)",
        "grad_weights": f"Weight gradients $\\partial E/\\partial W{l}$ (eq. 1, 6)",
        "grad_bias": f"Bias gradients $\\partial E/\\partial b{l}$",
        "grad_x": "Input gradient $\\partial E/\\partial x$",
        "update": f"Update of layer {_n(step)}",
        "loss_after": "Loss after the update",
    }[step.quantity]


def _n(step: Step) -> str:
    return str((step.layer or 0) + 1)


def _stages(steps: Sequence[Step]) -> Iterator[tuple[str | None, Step]]:
    """Each step with its stage heading when it starts a new stage (else None)."""
    last_layer = max((s.layer for s in steps if s.quantity == "delta" and s.layer is not None), default=-1)
    if any(s.quantity == "a" for s in steps):
        last_layer = max(s.layer for s in steps if s.quantity == "a" and s.layer is not None)
    current = None
    for s in steps:
        heading = stage(s, last_layer)
        yield (heading if heading != current else None), s
        current = heading


def render(steps: Sequence[Step], form: str, digits: int = 4) -> str:
    """The steps as one document in ``form`` ("markdown", "latex", "text" or "mathml"); values shown to ``digits``."""
    if form == "mathml":
        return render_mathml(list(_stages(steps)), digits)
    numbers = Numbers(digits)
    lines: list[str] = []
    if form == "latex":
        lines.append("\\begin{align*}")
    for heading, s in _stages(steps):
        value = numbers.computed(s.value)
        full = f"{s.symbol} = {s.formula} = {s.substituted} = {value}"
        if form == "markdown":
            if heading:
                lines += ["", f"### {heading}", ""]
            if s.derivative:
                lines.append(f"- ${s.derivative}$")
            lines.append(f"- ${full}$")
        elif form == "latex":
            if heading:
                lines.append(f"\\intertext{{{heading}}}")
            if s.derivative:
                lines.append(f"&{s.derivative} \\\\")
            lines.append(f"{s.symbol} &= {s.formula} \\\\")
            lines.append(f"&= {s.substituted} = {value} \\\\")
        elif form == "text":
            if heading:
                lines += ["", to_text(heading.replace("$", ""))]
            if s.derivative:
                lines.append(f"  {to_text(s.derivative)}")
            lines.append(f"  {to_text(s.symbol)} = {to_text(s.substituted)} = {to_text(value)}")
        else:
            raise ValueError(f"unknown form {form!r}; expected one of: {', '.join(FORMS)}")
    if form == "latex":
        lines.append("\\end{align*}")
    return "\n".join(lines).strip() + "\n"
