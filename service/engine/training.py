"""Training: one step (backpropagate, then let the optimizer update W and b), and many steps over a dataset."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from service.engine.arrays import Array, Checkpoint, no_checkpoint
from service.engine.errors import NonFiniteError
from service.engine.losses import Loss
from service.engine.network import Gradients, Layer, Trace, backward
from service.engine.optimizers import Optimizer, OptimizerState
from service.engine.parameters import gradients, owners, parameters, with_parameters
from service.engine.regularization import NONE, Regularization


@dataclass(frozen=True)
class Step:
    """A training step's result: the new layers and state, and what was computed before it.

    ``grads`` are those of the objective E + P at the old θ (before any clipping):
    ``grads.loss`` is E + P and ``grads.grad_W`` includes ∂P/∂W; ``penalty`` is P.
    """

    layers: list[Layer]
    state: OptimizerState
    trace: Trace
    grads: Gradients
    penalty: float = 0.0


def regularized(layers: Sequence[Layer], grads: Gradients, regularization: Regularization) -> tuple[Gradients, float]:
    """The gradients of E + P (P on the weights only) and P itself."""
    if not regularization.active:
        return grads, 0.0
    with np.errstate(all="ignore"):  # overflow is detected below and reported by layer
        P = regularization.penalty([layer.W for layer in layers])
        grad_W: list[Array] = [gW + regularization.grad(layer.W) for layer, gW in zip(layers, grads.grad_W, strict=True)]
        loss = np.asarray(grads.loss + P, dtype=grads.loss.dtype)
    if not np.isfinite(loss):
        raise NonFiniteError("loss with the penalty")
    for l, gW in enumerate(grad_W):
        if not np.isfinite(gW).all():
            raise NonFiniteError("grad_weights with the penalty", l)
    return replace(grads, loss=loss, grad_W=grad_W), P


def _check_update(layers: Sequence[Layer], params: Sequence[Array], state: OptimizerState) -> None:
    """Refuse an update whose parameters or state overflowed; name the first layer where it happened."""
    for i, (l, kind) in enumerate(owners(layers)):
        if not np.isfinite(params[i]).all():
            raise NonFiniteError(f"updated {kind}", l)
        for name, arrays in state.slots.items():
            if not np.isfinite(arrays[i]).all():
                raise NonFiniteError(f"optimizer state {name!r} ({kind})", l)


def _update(
    optimizer: Optimizer, layers: Sequence[Layer], params: list[Array], grads: list[Array], state: OptimizerState
) -> tuple[list[Array], OptimizerState]:
    """The optimizer's update of the trainable θᵢ only; a frozen θᵢ and its state slots stay as they were.

    As torch.optim over the parameters that have a gradient: the optimizer (and clip_norm's global
    norm) sees only the trainable θᵢ. A frozen θᵢ's slot keeps its value, or, before the slot exists,
    takes the value the optimizer starts a slot with (its update of θ = 0 with g = 0), so the state
    keeps one array per θᵢ. The step count t is the state's, shared by all θᵢ (as Keras's ``iterations``).
    """
    live = [i for i, (l, kind) in enumerate(owners(layers)) if layers[l].trains(kind)]
    if len(live) == len(params):
        return optimizer.update(params, grads, state)
    trained = set(live)
    frozen = [i for i in range(len(params)) if i not in trained]
    live_slots = {name: [arrays[i] for i in live] for name, arrays in state.slots.items()}
    new_live, live_state = optimizer.update([params[i] for i in live], [grads[i] for i in live], OptimizerState(state.step, live_slots))
    zeros = [np.zeros_like(params[i]) for i in frozen]
    _, started = optimizer.update(zeros, zeros, OptimizerState(state.step))
    kept = {name: [state.slots[name][i] for i in frozen] if name in state.slots else started.slots[name] for name in live_state.slots}
    slots = {name: _merge(live, arrays, frozen, kept[name]) for name, arrays in live_state.slots.items()}
    return _merge(live, new_live, frozen, [params[i] for i in frozen]), OptimizerState(live_state.step, slots)


def _merge(first: list[int], first_values: list[Array], second: list[int], second_values: list[Array]) -> list[Array]:
    """One list from two that hold its entries at the positions ``first`` and ``second``."""
    out = dict(zip(first, first_values, strict=True)) | dict(zip(second, second_values, strict=True))
    return [out[i] for i in range(len(out))]


def train_step(
    layers: Sequence[Layer],
    x: Array,
    t: Array,
    loss: Loss,
    reduction: str,
    optimizer: Optimizer,
    state: OptimizerState,
    checkpoint: Checkpoint = no_checkpoint,
    regularization: Regularization = NONE,
) -> Step:
    """θ ← optimizer(θ, ∂(E + P)/∂θ, state), with ∂E/∂θ from :func:`backward` at the old θ.

    ``x`` is N × M⁽¹⁾ and ``t`` N × K⁽ᴸ⁾; P is the weight penalty of ``regularization``.
    A frozen parameter (a layer's ``trainable`` or ``train_bias`` False) is not updated:
    see :func:`_update`. ``grads`` still holds its gradient.
    """
    trace, grads = backward(layers, x, t, loss, reduction, checkpoint)
    grads, P = regularized(layers, grads, regularization)
    with np.errstate(all="ignore"):  # overflow is detected by _check_update and reported by layer
        new_params, new_state = _update(optimizer, layers, parameters(layers), gradients(layers, grads), state)
    _check_update(layers, new_params, new_state)
    return Step(with_parameters(layers, new_params), new_state, trace, grads, P)


def batches(N: int, batch_size: int, shuffle: bool, rng: np.random.Generator) -> list[NDArray[np.intp]]:
    """One epoch's batches: row indices, ``batch_size`` at a time (the last may be smaller).

    The order is ``rng.permutation(N)`` when shuffling (one draw per epoch), else 0 … N−1.
    """
    order = rng.permutation(N) if shuffle else np.arange(N)
    return [order[i : i + batch_size] for i in range(0, N, batch_size)]


@dataclass(frozen=True)
class Schedule:
    """How a run goes over N data points: ``epochs`` passes, in batches of ``batch_size`` (None: all N in one step).

    Each epoch's order is one ``rng.permutation(N)`` of ``rng = numpy.random.default_rng(seed)``, made once
    per run (``shuffle`` False: rows 0 … N−1), so a client can replay the run with /v1/train-step.
    """

    epochs: int
    batch_size: int | None = None
    shuffle: bool = True
    seed: int = 0

    def batch_sizes(self, N: int) -> list[int]:
        """Rows of each batch of an epoch (the last may be smaller)."""
        size = self.batch_size or N
        return [min(size, N - i) for i in range(0, N, size)]

    def steps_per_epoch(self, N: int) -> int:
        """Batches in one pass over N points: ⌈N / batch_size⌉."""
        return -(-N // (self.batch_size or N))

    def steps(self, N: int) -> int:
        """Optimizer steps of the whole run: epochs × ⌈N / batch_size⌉."""
        return self.epochs * self.steps_per_epoch(N)

    def by_epoch(self, losses: Array, N: int) -> list[Array]:
        """The step losses of a whole run (``steps(N)`` of them), one array per epoch."""
        per = self.steps_per_epoch(N)
        return [losses[e * per : (e + 1) * per] for e in range(self.epochs)]

    def epoch_loss(self, losses: Array, N: int) -> np.floating[Any]:
        """An epoch's loss from its step losses: their mean weighted by batch size (what Keras's ``fit`` reports)."""
        return losses.dtype.type(np.average(losses, weights=self.batch_sizes(N)))


@dataclass(frozen=True)
class Run:
    """Everything a training run needs: θ (``layers``), the data x (N × M⁽¹⁾) and t (N × K⁽ᴸ⁾), E and its
    reduction, the optimizer and its state, the weight penalty P, and the schedule."""

    layers: list[Layer]
    x: Array
    t: Array
    loss: Loss
    reduction: str
    optimizer: Optimizer
    state: OptimizerState
    regularization: Regularization
    schedule: Schedule

    @property
    def total(self) -> int:
        """The run's optimizer steps."""
        return self.schedule.steps(self.x.shape[0])


@dataclass(frozen=True)
class Epoch:
    """One pass over the data: the loss of each step (E + P at the θ before it) and the state after it.

    ``loss`` is the mean of the step losses weighted by batch size, what Keras's ``fit``
    reports for an epoch (θ changes during the epoch, so it is not the loss at its end).
    """

    index: int
    losses: Array
    loss: np.floating[Any]
    layers: list[Layer]
    state: OptimizerState


@dataclass(frozen=True)
class Position:
    """Where a run over the data stands: the next step is batch ``batch`` (0-based) of epoch ``epoch``.

    ``rng`` is the shuffle generator's ``bit_generator.state`` at that epoch's start (before its
    permutation is drawn): with it, the run picks up with the same batches as one that never stopped.
    """

    epoch: int
    batch: int
    rng: Mapping[str, Any]


@dataclass(frozen=True)
class Resume:
    """Where to pick a run up: θ and the optimizer state after ``position``'s previous step."""

    layers: list[Layer]
    state: OptimizerState
    position: Position


@dataclass(frozen=True)
class StepDone:
    """One step of :func:`train_steps`: its 1-based number, epoch, batch rows, loss, the layers and state after it, and where to resume."""

    step: int
    epoch: int
    rows: int
    loss: np.floating[Any]
    layers: list[Layer]
    state: OptimizerState
    next: Position
    ends_epoch: bool


def train_steps(run: Run, checkpoint: Checkpoint = no_checkpoint, resume: Resume | None = None) -> Iterator[StepDone]:
    """:func:`train_step` over the batches of ``run.schedule``; yields each step as it is done.

    ``resume`` (a step's ``next``, with its ``layers`` and ``state``) picks the run up where it stood:
    the same batches and numbers as a run that never stopped.
    """
    s = run.schedule
    rng = np.random.default_rng(s.seed)
    position = resume.position if resume else Position(0, 0, rng.bit_generator.state)
    current, state = (resume.layers, resume.state) if resume else (list(run.layers), run.state)
    N = run.x.shape[0]
    step = position.epoch * s.steps_per_epoch(N) + position.batch
    for e in range(position.epoch, s.epochs):
        if e == position.epoch:
            rng.bit_generator.state = position.rng
        at_start = rng.bit_generator.state
        epoch_batches = batches(N, s.batch_size or N, s.shuffle, rng)
        after = rng.bit_generator.state
        first = position.batch if e == position.epoch else 0
        for b in range(first, len(epoch_batches)):
            rows = epoch_batches[b]
            done = train_step(
                current, run.x[rows], run.t[rows], run.loss, run.reduction, run.optimizer, state, checkpoint, run.regularization
            )
            current, state, step = done.layers, done.state, step + 1
            last = b == len(epoch_batches) - 1
            resume_at = Position(e + 1, 0, after) if last else Position(e, b + 1, at_start)
            yield StepDone(step, e, len(rows), done.grads.loss.dtype.type(done.grads.loss), current, state, resume_at, last)


def train(run: Run, checkpoint: Checkpoint = no_checkpoint) -> Iterator[Epoch]:
    """:func:`train_steps`, yielding each epoch as it ends."""
    N = run.x.shape[0]
    losses: list[np.floating[Any]] = []
    for done in train_steps(run, checkpoint):
        losses.append(done.loss)
        if done.ends_epoch:
            per_step = np.array(losses, dtype=run.x.dtype)
            yield Epoch(done.epoch, per_step, run.schedule.epoch_loss(per_step, N), done.layers, done.state)
            losses = []
