"""The primer's Figure 6 as SVG: :func:`draw`, and :func:`fits`, the size cap a route applies first.

Pure Python and NumPy (through the engine); nothing here knows about HTTP or pydantic.
"""

from service.diagram.draw import DiagramError, draw
from service.diagram.highlight import HighlightError
from service.diagram.layout import estimate_bytes, fits

__all__ = ["DiagramError", "HighlightError", "draw", "estimate_bytes", "fits"]
