"""Showing the work: the derivation as steps (/v1/explain) and Figure 6 as SVG (/v1/diagram). Each binds a path to its handler."""

from __future__ import annotations

import functools
from typing import Any

import orjson
from fastapi import APIRouter
from starlette.responses import Response

from service.api.examples import answer
from service.api.json_route import post_json
from service.api.problems import ERROR_RESPONSES
from service.engine.arrays import no_checkpoint
from service.handlers import diagram as diagram_handler
from service.handlers import explain as explain_handler
from service.handlers.diagram import SVG
from service.schemas.diagram import DIAGRAM_EXAMPLES, DiagramRequest
from service.schemas.explain import EXPLAIN_EXAMPLES, ExplainRequest, ExplainResponse

router = APIRouter(prefix="/v1", tags=["explanations"], responses=ERROR_RESPONSES)


class SVGResponse(Response):
    media_type = SVG


def drawn(body: dict[str, Any]) -> str:
    """The SVG answered to the request ``body``."""
    return diagram_handler.diagram(DiagramRequest.model_validate_json(orjson.dumps(body)), no_checkpoint).content.decode()


def _svg_examples() -> dict[int | str, Any]:
    """The SVG answered for each request example (committed beside the JSON answers: service.api.examples)."""
    drawn_ = {
        name: {"summary": example["summary"], "value": answer("diagram", name, functools.partial(drawn, example["value"]))}
        for name, example in DIAGRAM_EXAMPLES.items()
    }
    return {200: {"description": "The diagram, as SVG", "content": {SVG: {"schema": {"type": "string"}, "examples": drawn_}}}}


post_json(
    router,
    "/explain",
    ExplainRequest,
    explain_handler.explain,
    operation_id="explain",
    summary="The derivation, step by step: each a, z, E, δ and ∂E/∂w with its formula and numbers",
    description="""Backpropagation written out as the primer does it (§4–§5): every step is `symbol = formula = substituted = value`.

    In the primer's order: a⁽ˡ⁾ₖ = Σₘ w⁽ˡ⁾ₖ,ₘ z⁽ˡ⁻¹⁾ₘ + b⁽ˡ⁾ₖ and z⁽ˡ⁾ₖ = h(a⁽ˡ⁾ₖ) per layer; the loss E; δ⁽ᴸ⁾ (eq. 5:
    ḣ(a⁽ᴸ⁾) ∂E/∂y, or y − t fused for softmax with cross-entropy); δ⁽ˡ⁾ₖ = ḣ⁽ˡ⁾(a⁽ˡ⁾ₖ) Σⱼ w⁽ˡ⁺¹⁾ⱼ,ₖ δ⁽ˡ⁺¹⁾ⱼ (eq. 7, with
    the derivative written out, e.g. tanh'(1.7) = 1 − tanh²(1.7) = 0.1250); ∂E/∂w⁽ˡ⁾ₖ,ₘ = δ⁽ˡ⁾ₖ z⁽ˡ⁻¹⁾ₘ (eq. 1, 6), ∂E/∂b,
    ∂E/∂x; for a batch, each point's terms and their sum (or mean). With an `optimizer`, one update step too (each new
    weight w̃ and the loss after it).

    `value` is the full-precision number /v1/backward returns for the same quantity; `symbol`, `formula` and
    `substituted` are LaTeX in the primer's 1-based notation; `layer`, `point` and `index` are 0-based like every
    pointer. `depends_on` lists the earlier steps a substitution uses. `rendered` is the whole derivation as
    Markdown, LaTeX, primer-style text or MathML.

    The number of steps is computed from the shapes before any is built: over `max_explain_steps` the answer is
    a 422 that says how many the request would need and which of the filters `quantities`, `layers`, `points`
    brings it under.
    """,
    examples=EXPLAIN_EXAMPLES,
    response_model=ExplainResponse,
)


post_json(
    router,
    "/diagram",
    DiagramRequest,
    diagram_handler.diagram,
    operation_id="diagram",
    summary="The network drawn as the primer's Figure 6 (SVG): values in the neurons, weights on the edges",
    description="""Figure 6 for the network sent, as `image/svg+xml`: x on the left, one column of neurons per layer.

    The neurons show z⁽ˡ⁾ = h(a⁽ˡ⁾) (or a⁽ˡ⁾, and with `t` also δ⁽ˡ⁾ = ∂E/∂a⁽ˡ⁾), each edge its weight w⁽ˡ⁾ₖ,ₘ
    (or ∂E/∂w⁽ˡ⁾ₖ,ₘ), edge width ∝ |w| and colour by sign (blue positive, red negative), t beside the outputs,
    a legend, and `<title>`/`<desc>` for screen readers. Every neuron and edge carries `data-step`, the id of its
    /v1/explain step; `highlight` makes a step and the steps it depends on stand out.

    Layers over 16 neurons drop their labels and thin their edges; over 64 they are summarized (the first and last
    8 neurons). A diagram whose SVG is estimated over `max_diagram_bytes` is refused with a 422 before it is drawn.
    """,
    examples=DIAGRAM_EXAMPLES,
    answers=_svg_examples(),
    response_class=SVGResponse,
)
