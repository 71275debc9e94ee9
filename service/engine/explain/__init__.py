"""Show the work: the primer's hand derivation (§4–§5) of one backward pass, as data.

:func:`explain` returns a list of :class:`Step` (``symbol = formula = substituted =
value``, with ``depends_on`` links), :func:`count_steps` their number from shapes
alone, and :func:`render` a Markdown, LaTeX or primer-style text document.
The step id scheme is in :mod:`.steps`. Pure NumPy and the standard library.
"""

from service.engine.explain.build import CHAINS, explain, sizes_of
from service.engine.explain.plan import count_per_filter, count_steps
from service.engine.explain.render import FORMS, render
from service.engine.explain.steps import EVERYTHING, QUANTITIES, Factor, Part, Selection, Step, Term, step_id

__all__ = [
    "CHAINS",
    "EVERYTHING",
    "FORMS",
    "QUANTITIES",
    "Factor",
    "Part",
    "Selection",
    "Step",
    "Term",
    "count_per_filter",
    "count_steps",
    "explain",
    "render",
    "sizes_of",
    "step_id",
]
