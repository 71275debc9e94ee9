"""Forward and backward pass of a dense feed-forward network (primer §3, §5).

Shapes, for a batch of N points (one row per point) and layer l with
M = K⁽ˡ⁻¹⁾ inputs and K = K⁽ˡ⁾ outputs:

    W⁽ˡ⁾: K × M    b⁽ˡ⁾: K    x = Z⁽⁰⁾: N × M⁽¹⁾    A⁽ˡ⁾, Z⁽ˡ⁾, Δ⁽ˡ⁾: N × K

Everything is computed in the dtype of the arrays passed in (float64 or float32).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from service.engine.activations import Activation
from service.engine.arrays import Array, Checkpoint, finite, no_checkpoint
from service.engine.losses import Loss, per_point_loss, reduce


@dataclass(frozen=True)
class Layer:
    """One dense layer: a = W z⁽ˡ⁻¹⁾ + b, z = h(a). ``W`` is K × M, ``b`` is K or None.

    ``trainable`` False freezes W and b (Keras's ``layer.trainable``), ``train_bias`` False
    freezes b alone: a training step leaves a frozen parameter as it is (see
    :func:`service.engine.training.train_step`); its gradient is still computed.
    """

    W: Array
    b: Array | None
    h: Activation
    trainable: bool = True
    train_bias: bool = True

    def trains(self, kind: str) -> bool:
        """Whether a training step updates this layer's "weights" or "bias"."""
        return self.trainable and (kind == "weights" or self.train_bias)


@dataclass(frozen=True)
class Trace:
    """The forward pass: ``a[l]`` and ``z[l]`` (N × K⁽ˡ⁾) for every layer, ``y = z[-1]``."""

    x: Array
    a: list[Array]
    z: list[Array]

    @property
    def y(self) -> Array:
        return self.z[-1]


@dataclass(frozen=True)
class Gradients:
    """What backpropagation computes from a :class:`Trace`.

    ``loss`` is E (a 0-d array; the Eₙ for reduction none), ``per_point`` the Eₙ (N,), ``delta[l] = ∂E/∂a⁽ˡ⁾``
    (N × K), ``grad_W[l] = Δ⁽ˡ⁾ᵀ Z⁽ˡ⁻¹⁾`` (K × M), ``grad_b[l] = Σₙ Δ⁽ˡ⁾`` (K, or None
    for a layer without bias) and ``grad_x = ∂E/∂x = Δ⁽¹⁾ W⁽¹⁾`` (N × M⁽¹⁾).
    """

    loss: Array
    per_point: Array
    delta: list[Array]
    grad_W: list[Array]
    grad_b: list[Array | None]
    grad_x: Array


def forward(layers: Sequence[Layer], x: Array, checkpoint: Checkpoint = no_checkpoint) -> Trace:
    """a⁽ˡ⁾ = z⁽ˡ⁻¹⁾ W⁽ˡ⁾ᵀ + b⁽ˡ⁾ and z⁽ˡ⁾ = h⁽ˡ⁾(a⁽ˡ⁾) for l = 1 … L (primer §3).

    ``x`` is N × M⁽¹⁾. ``checkpoint`` is called before each layer; it may raise
    to stop a computation that has run out of time.
    """
    with np.errstate(all="ignore"):  # overflow is detected by finite and reported by layer
        return _forward(layers, x, checkpoint)


def _forward(layers: Sequence[Layer], x: Array, checkpoint: Checkpoint) -> Trace:
    a: list[Array] = []
    z: list[Array] = []
    z_prev = x
    for l, layer in enumerate(layers):
        checkpoint()
        a_l = z_prev @ layer.W.T
        if layer.b is not None:
            a_l += layer.b
        a.append(finite(a_l, "a", l))
        z_prev = finite(layer.h.forward(a_l), "z", l)
        z.append(z_prev)
    return Trace(x, a, z)


def output_delta(trace: Trace, h: Activation, t: Array, loss: Loss, reduction: str) -> tuple[Array, Array, Array]:
    """E, Eₙ and δ⁽ᴸ⁾ = ∂E/∂a⁽ᴸ⁾ (primer eq. 5–6, with the output activation's vjp).

    Uses the loss's fused form for this output activation when it has one.
    Raises ``DomainError`` when y or t is outside the loss's domain.
    """
    a_L, y = trace.a[-1], trace.y
    loss.check(y, t)
    per_point, dEn_da = per_point_loss(loss, h, a_L, y, t)
    E, scale = reduce(per_point, reduction)
    last = len(trace.a) - 1
    finite(per_point, "loss", None)
    return E, per_point, finite(dEn_da * scale if scale != 1.0 else dEn_da, "delta", last)


def backward(
    layers: Sequence[Layer],
    x: Array,
    t: Array,
    loss: Loss,
    reduction: str = "sum",
    checkpoint: Checkpoint = no_checkpoint,
) -> tuple[Trace, Gradients]:
    """Forward pass, then δ for every layer (primer eq. 7) and the gradients.

        δ⁽ᴸ⁾   = ∂E/∂a⁽ᴸ⁾                        (loss and output activation)
        δ⁽ˡ⁻¹⁾ = ḣ⁽ˡ⁻¹⁾(a⁽ˡ⁻¹⁾) ⊙ (δ⁽ˡ⁾ W⁽ˡ⁾)      (as a vjp for softmax)
        ∂E/∂W⁽ˡ⁾ = Δ⁽ˡ⁾ᵀ Z⁽ˡ⁻¹⁾,  ∂E/∂b⁽ˡ⁾ = Σₙ Δ⁽ˡ⁾,  ∂E/∂x = Δ⁽¹⁾ W⁽¹⁾

    ``x`` is N × M⁽¹⁾, ``t`` is N × K⁽ᴸ⁾.
    """
    with np.errstate(all="ignore"):  # overflow is detected by finite and reported by layer
        return _backward(layers, x, t, loss, reduction, checkpoint)


def _backward(layers: Sequence[Layer], x: Array, t: Array, loss: Loss, reduction: str, checkpoint: Checkpoint) -> tuple[Trace, Gradients]:
    trace = _forward(layers, x, checkpoint)
    E, per_point, delta_l = output_delta(trace, layers[-1].h, t, loss, reduction)
    z_prev = [x, *trace.z[:-1]]  # Z⁽ˡ⁻¹⁾, the input of each layer
    delta: list[Array] = []  # these three fill from the last layer back, then are reversed
    grad_W: list[Array] = []
    grad_b: list[Array | None] = []
    for l in reversed(range(len(layers))):
        checkpoint()
        layer = layers[l]
        delta.append(delta_l)
        grad_W.append(finite(delta_l.T @ z_prev[l], "grad_weights", l))
        grad_b.append(None if layer.b is None else finite(delta_l.sum(axis=0), "grad_bias", l))
        grad_z = finite(delta_l @ layer.W, "grad_z" if l > 0 else "grad_x", l)  # ∂E/∂z⁽ˡ⁻¹⁾ (∂E/∂x for l = 0)
        if l > 0:
            delta_l = finite(layers[l - 1].h.vjp(trace.a[l - 1], trace.z[l - 1], grad_z), "delta", l - 1)
    return trace, Gradients(E, per_point, delta[::-1], grad_W[::-1], grad_b[::-1], grad_z)
