"""What every step builder reads: the engine's trace and gradients, the numbers format, the step list."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from service.engine.activation_base import Activation
from service.engine.arrays import Array, Checkpoint
from service.engine.explain.numbers import Numbers
from service.engine.explain.steps import Factor, Part, Selection, Step, step_id
from service.engine.losses import Loss
from service.engine.losses_classification import one_hot
from service.engine.network import Gradients, Layer, Trace
from service.engine.tex import ActivationTex, LossTex

CHECK_EVERY = 512  # steps between calls of the checkpoint


@dataclass
class Context:
    """The inputs of one explanation and the steps built so far.

    ``trace`` and ``grads`` are the engine's :func:`~service.engine.network.backward`
    results: every step's ``value`` is read from them, never recomputed.
    """

    layers: Sequence[Layer]
    x: Array
    t: Array
    loss: Loss
    reduction: str
    trace: Trace
    grads: Gradients
    numbers: Numbers
    selection: Selection
    checkpoint: Checkpoint
    chain: bool = False  #: the chain rule's factors (explain's chain "factors")
    steps: list[Step] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)

    @property
    def N(self) -> int:
        return int(self.x.shape[0])

    @property
    def L(self) -> int:
        return len(self.layers)

    def point(self, n: int) -> int | None:
        """The point a symbol shows: None for a single data point (the primer's case)."""
        return n if self.N > 1 else None

    def z_prev(self, l: int) -> Array:
        """Z⁽ˡ⁻¹⁾, the input of layer l (x for l = 0)."""
        return self.x if l == 0 else self.trace.z[l - 1]

    def z_prev_text(self, l: int, value: float) -> str:
        """An input of layer l as shown: x as sent, z as computed."""
        return self.numbers.given(value) if l == 0 else self.numbers.computed(value)

    def z_prev_id(self, l: int, n: int, m: int) -> list[str]:
        return [] if l == 0 else [step_id("z", l - 1, n, (m,))]

    def htex(self, l: int) -> ActivationTex:
        tex = self.layers[l].h.tex
        if tex is None:
            raise ValueError(f"activation {self.layers[l].h.name!r} has no LaTeX description")
        return tex

    @cached_property
    def ltex(self) -> LossTex:
        if self.loss.tex is None:
            raise ValueError(f"loss {self.loss.name!r} has no LaTeX description")
        return self.loss.tex

    @cached_property
    def t_shown(self) -> Array:
        """The target the loss formula sees: one-hot rows for class indices, then label smoothing (t')."""
        t = one_hot(self.t, self.trace.y.shape[-1]) if self.loss.target == "class_index" else self.t
        eps = self.ltex.smoothing
        return t if eps == 0 else t * (1.0 - eps) + eps / t.shape[-1]

    def t_text(self, value: float) -> str:
        given = self.loss.target == "values" and self.ltex.smoothing == 0
        return self.numbers.given(value) if given else self.numbers.computed(value)

    def derivative(self, l: int) -> Array:
        """ḣ⁽ˡ⁾(a⁽ˡ⁾) (N × K) from the activation's own vjp with g = 1 (elementwise activations only)."""
        h: Activation = self.layers[l].h
        a, z = self.trace.a[l], self.trace.z[l]
        with np.errstate(all="ignore"):
            return h.vjp(a, z, np.ones_like(a))

    def add(
        self,
        quantity: str,
        layer: int | None,
        point: int | None,
        index: tuple[int, ...],
        symbol: str,
        formula: str,
        substituted: str,
        value: float,
        depends_on: Sequence[str] = (),
        *,
        kind: str | None = None,
        derivative: str | None = None,
        factors: tuple[Factor, ...] = (),
        parts: tuple[Part, ...] = (),
    ) -> None:
        """Append a step; dependencies outside the selection are left out of ``depends_on``."""
        sid = step_id(quantity, layer, point, index, kind)
        deps = tuple(d for d in depends_on if d in self.ids)
        step = Step(sid, quantity, layer, point, index, symbol, formula, substituted, float(value), deps, derivative, factors, parts)
        self.steps.append(step)
        self.ids.add(sid)
        if len(self.steps) % CHECK_EVERY == 0:
            self.checkpoint()
