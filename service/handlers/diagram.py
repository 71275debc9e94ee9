"""/v1/diagram: the network drawn as the primer's Figure 6."""

from __future__ import annotations

from service.diagram import draw
from service.engine.arrays import Checkpoint, no_checkpoint
from service.schemas.diagram import DiagramRequest
from service.schemas.files import FileAnswer

#: The diagram's media type.
SVG = "image/svg+xml"


def diagram(req: DiagramRequest, checkpoint: Checkpoint = no_checkpoint) -> FileAnswer:
    """The SVG: values in the neurons, weights (or ∂E/∂w) on the edges, t beside the outputs, a highlight if asked."""
    i = req.to_engine()
    svg = draw(
        i.layers, i.x, i.t, i.loss, i.reduction, point=i.point, values=i.values, edges=i.edges, digits=i.digits,
        highlight=i.highlight, width=i.width, max_bytes=i.max_bytes, checkpoint=checkpoint,
    )  # fmt: skip
    return FileAnswer(svg.encode(), SVG)
