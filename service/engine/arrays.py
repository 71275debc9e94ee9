"""What every engine module shares: the array type, the deadline checkpoint, and the finiteness check.

Everything is computed in the dtype of the arrays passed in (float64 or float32).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from service.engine.errors import NonFiniteError

#: A float64 or float32 array; shapes are given where it is used (N × K for a batch of N points).
Array = NDArray[np.floating[Any]]

#: Called between layers and steps; it may raise to stop a computation that has run out of time.
Checkpoint = Callable[[], None]


def no_checkpoint() -> None:
    """The default checkpoint: never stops a computation."""
    return None


def finite(value: Array, quantity: str, layer: int | None = None) -> Array:
    """``value``, after checking that every entry is finite.

    Σ value² is one BLAS dot product with no temporary array, and it is finite only
    if every entry is (NaN and ±∞ propagate); when it overflows (entries beyond
    ~1e19 in float32) the entries are checked one by one.
    """
    if not math.isfinite(np.vdot(value, value)) and not np.isfinite(value).all():
        raise NonFiniteError(quantity, layer)
    return value
