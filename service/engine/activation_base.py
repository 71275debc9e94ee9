"""The activation type shared by the activation modules, and the elementwise builder."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from service.engine.arrays import Array
from service.engine.tex import ActivationTex


@dataclass(frozen=True)
class Image:
    """Where h's values lie: in [low, high], and, if ``open``, never at low or high (sigmoid's (0, 1), not hard_sigmoid's [0, 1])."""

    low: float = -math.inf
    high: float = math.inf
    open: bool = False


@dataclass(frozen=True)
class Activation:
    """An activation h: ``forward(a) -> z`` and ``vjp(a, z, g) -> ∂E/∂a``.

    ``a``, ``z`` and ``g = ∂E/∂z`` have the same shape: any leading axes, then the
    K neurons of the layer on the last axis (N × K for a batch). ``tex`` is how
    the explanation writes h and its derivative (with the parameters filled in);
    ``image`` bounds its values (which losses take its outputs).
    """

    name: str
    forward: Callable[[Array], Array]
    vjp: Callable[[Array, Array, Array], Array]
    tex: ActivationTex | None = None
    image: Image = Image()


def elementwise(
    name: str,
    h: Callable[[Array], Array],
    dh: Callable[[Array, Array], Array],
    tex: ActivationTex | None = None,
    image: Image = Image(),
) -> Activation:
    """An elementwise activation from h(a) and its derivative ḣ(a, z): vjp = g ⊙ ḣ(a)."""
    return Activation(name, h, lambda a, z, g: g * dh(a, z), tex, image)


def step(condition: NDArray[np.bool_], where_true: float, where_false: float, like: Array) -> Array:
    """A piecewise-constant derivative in the dtype of ``like``, built in that dtype (no int64/float64 N × K array)."""
    if (where_true, where_false) == (1, 0):
        return condition.astype(like.dtype)
    dtype = like.dtype.type
    return np.where(condition, dtype(where_true), dtype(where_false))
