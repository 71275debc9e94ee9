"""render(steps, form): one document from the steps, as Markdown, LaTeX or primer-style text.

markdown   a heading per stage and a sentence on what it does, one bullet per line: $symbol = formula = substituted = value$
latex      an align* body: symbol &= formula \\\\ &= substituted = value (\\intertext between stages)
text       the primer's style in Unicode: δ₃⁽¹⁾ = tanh'(1.7)·[0.3·(−0.5131) + …] = −0.01952
mathml     an HTML fragment, a section per stage and a list item of MathML per step (see :mod:`.mathml`)

A step's own line comes after the lines it is built from: the activation's derivative, the chain rule's
factors, the optimizer's quantities (:func:`~.lines.lines`). A side of an equation that repeats the one before it is
left out (``z⁽²⁾₁ = a⁽²⁾₁ = 0.4869``, not ``… = 0.4869 = 0.4869``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from service.engine.explain.latex_text import to_text
from service.engine.explain.lines import equation, lines
from service.engine.explain.mathml import render_mathml
from service.engine.explain.numbers import Numbers
from service.engine.explain.steps import Step

FORMS = ("markdown", "latex", "text", "mathml")

#: What each stage does, a sentence under its heading ($…$ is math); the chain rule's wording where it differs.
PROSE = {
    "a": "Each neuron adds up its inputs, each times the weight of its edge (and its bias): $a = \\sum_{m} w_{m} z_{m} + b$.",
    "z": "Each neuron passes its sum through its activation: $z = h(a)$.",
    "loss": "How far the outputs are from the targets.",
    "delta": "$\\delta = \\partial E/\\partial a$: how much the loss changes when a neuron's sum $a$ changes; at the output, "
    "the loss's slope times the activation's.",
    "propagated": "A hidden neuron's $\\delta$ gathers the $\\delta$ of each neuron it feeds, times the weight between them, "
    "times the slope of its own activation.",
    "grad_weights": "A weight changes $a$ of the neuron it feeds by its input $z$, so $\\partial E/\\partial w = \\delta\\,z$.",
    "grad_bias": "A bias adds to $a$ directly: $\\partial E/\\partial b = \\delta$.",
    "grad_x": "How the loss changes with each input.",
    "update": "The optimizer moves each parameter against its gradient.",
    "loss_after": "The forward pass again, with the updated parameters.",
}
CHAIN_PROSE = {
    "delta": "The chain rule, factor by factor: $\\delta = \\frac{\\partial E}{\\partial z}\\,\\frac{\\partial z}{\\partial a}$; "
    "a hidden neuron's $\\partial E/\\partial z$ adds up what it passes to each neuron of the layer above.",
    "grad_weights": "The chain rule through the neuron the weight feeds: $\\frac{\\partial E}{\\partial w} = "
    "\\frac{\\partial E}{\\partial z}\\,\\frac{\\partial z}{\\partial a}\\,\\frac{\\partial a}{\\partial w}$.",
    "grad_bias": "The same chain, with $\\partial a/\\partial b = 1$.",
    "grad_x": "The chain rule back to the inputs, a term for each neuron of layer 1.",
}


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


def prose(step: Step, heading: str) -> str:
    """The sentence under the heading of a step's stage ($…$ math)."""
    if step.factors and step.quantity in CHAIN_PROSE:
        return CHAIN_PROSE[step.quantity]
    return PROSE["propagated" if heading.startswith("Propagated") else step.quantity]


def _n(step: Step) -> str:
    return str((step.layer or 0) + 1)


def stages(steps: Sequence[Step]) -> Iterator[tuple[str | None, Step]]:
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
        return render_mathml([(head, s, prose(s, head) if head else "") for head, s in stages(steps)], digits)
    numbers = Numbers(digits)
    out: list[str] = []
    if form == "latex":
        out.append("\\begin{align*}")
    for heading, s in stages(steps):
        value = numbers.computed(s.value)
        before = lines(s, numbers)
        if form == "markdown":
            if heading:
                out += ["", f"### {heading}", "", prose(s, heading), ""]
            out += [f"- ${line}$" for line in before]
            out.append(f"- ${equation(s.symbol, s.formula, s.substituted, value)}$")
        elif form == "latex":
            if heading:
                out.append(f"\\intertext{{{heading}. {prose(s, heading)}}}")
            out += [f"&{line} \\\\" for line in before]
            out.append(f"{s.symbol} &= {s.formula} \\\\")
            out.append(f"&= {equation(s.substituted, value)} \\\\")
        elif form == "text":
            if heading:
                out += ["", to_text(heading.replace("$", "")), f"  {to_text(prose(s, heading).replace('$', ''))}"]
            out += [f"  {to_text(line)}" for line in before]
            shown = (s.symbol, s.formula, s.substituted, value) if s.factors else (s.symbol, s.substituted, value)
            out.append(f"  {to_text(equation(*shown))}")
        else:
            raise ValueError(f"unknown form {form!r}; expected one of: {', '.join(FORMS)}")
    if form == "latex":
        out.append("\\end{align*}")
    return "\n".join(out).strip() + "\n"
