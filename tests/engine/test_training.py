"""Batches of an epoch, and a train step's regularized objective."""

from __future__ import annotations

import numpy as np
import pytest

from service.engine import get_activation, get_loss
from service.engine.network import Layer, backward
from service.engine.optimizers import OptimizerState, get_optimizer
from service.engine.regularization import Regularization
from service.engine.training import Run, Schedule, batches, train, train_step, train_steps


@pytest.mark.parametrize(("N", "size"), [(7, 3), (6, 3), (5, 10), (1, 1)])
def test_batches_cover_every_row_once_in_order_of_one_permutation(N: int, size: int) -> None:
    got = batches(N, size, True, np.random.default_rng(5))
    assert [len(b) for b in got] == [min(size, N - i) for i in range(0, N, size)]
    np.testing.assert_array_equal(np.concatenate(got), np.random.default_rng(5).permutation(N))
    np.testing.assert_array_equal(np.concatenate(batches(N, size, False, np.random.default_rng(5))), np.arange(N))


def _layers() -> list[Layer]:
    rng = np.random.default_rng(0)
    return [
        Layer(rng.normal(size=(3, 2)), rng.normal(size=3), get_activation("tanh")),
        Layer(rng.normal(size=(1, 3)), None, get_activation("linear")),
    ]


def test_regularized_step_uses_the_gradient_of_e_plus_p() -> None:
    layers, x, t = _layers(), np.array([[1.0, -1.0], [0.5, 2.0]]), np.array([[0.3], [-0.2]])
    reg = Regularization(l1=0.01, l2=0.1)
    step = train_step(
        layers, x, t, get_loss("half_sse"), "sum", get_optimizer("sgd", learning_rate=0.1), OptimizerState(), regularization=reg
    )
    _, plain = backward(layers, x, t, get_loss("half_sse"))
    P = sum(0.01 * np.abs(layer.W).sum() + 0.05 * (layer.W**2).sum() for layer in layers)
    np.testing.assert_allclose(step.penalty, P, rtol=1e-15)
    np.testing.assert_allclose(step.grads.loss, plain.loss + P, rtol=1e-15)
    for layer, new, gW in zip(layers, step.layers, plain.grad_W, strict=True):
        np.testing.assert_allclose(new.W, layer.W - 0.1 * (gW + 0.01 * np.sign(layer.W) + 0.1 * layer.W), rtol=1e-15)
    assert step.layers[0].b is not None
    np.testing.assert_allclose(step.layers[0].b, layers[0].b - 0.1 * plain.grad_b[0], rtol=1e-15)  # bias: no penalty


def test_train_is_lazy_and_does_not_modify_its_inputs() -> None:
    layers = _layers()
    W0 = layers[0].W.copy()
    x, t = np.ones((4, 2)), np.zeros((4, 1))
    run = Run(layers, x, t, get_loss("half_sse"), "sum", get_optimizer("adam"), OptimizerState(), Regularization(), Schedule(3, 2))
    epochs = train(run)
    first = next(epochs)
    assert first.index == 0
    assert first.state.step == 2
    assert len(list(epochs)) == 2
    np.testing.assert_array_equal(layers[0].W, W0)


@pytest.mark.parametrize(("N", "batch_size", "steps"), [(7, 3, 3), (6, 3, 2), (5, None, 1), (5, 10, 1), (1, 1, 1)])
def test_a_schedule_counts_its_steps_and_batch_sizes(N: int, batch_size: int | None, steps: int) -> None:
    s = Schedule(epochs=4, batch_size=batch_size)
    assert s.steps_per_epoch(N) == steps
    assert s.steps(N) == 4 * steps
    assert sum(s.batch_sizes(N)) == N
    assert len(s.batch_sizes(N)) == steps


def test_epoch_losses_from_the_step_losses_are_what_train_reports() -> None:
    """The job worker rebuilds each epoch's loss from the recorded step losses: the same numbers bit for bit."""
    layers = _layers()
    rng = np.random.default_rng(3)
    x, t = rng.normal(size=(7, 2)), rng.normal(size=(7, 1))
    run = Run(
        layers,
        x,
        t,
        get_loss("half_sse"),
        "mean",
        get_optimizer("sgd", learning_rate=0.05),
        OptimizerState(),
        Regularization(),
        Schedule(3, 3),
    )
    epochs = list(train(run))
    losses = np.array([float(d.loss) for d in train_steps(run)])
    assert len(losses) == run.total == 9
    by_epoch = run.schedule.by_epoch(losses, 7)
    for epoch, part in zip(epochs, by_epoch, strict=True):
        np.testing.assert_array_equal(epoch.losses, part)
        assert run.schedule.epoch_loss(part, 7) == epoch.loss
    assert run.schedule.epoch_loss(by_epoch[0], 7) != run.schedule.epoch_loss(by_epoch[0][::-1], 7)  # the weights matter (3, 3, 1)


def test_a_resumed_run_takes_the_same_steps_as_one_that_never_stopped() -> None:
    from service.engine.training import Resume

    rng = np.random.default_rng(4)
    x, t = rng.normal(size=(10, 2)), rng.normal(size=(10, 1))
    run = Run(
        _layers(), x, t, get_loss("half_sse"), "sum", get_optimizer("adam"), OptimizerState(), Regularization(), Schedule(3, 4, seed=9)
    )
    whole = list(train_steps(run))
    at = whole[4]  # in the middle of epoch 1
    rest = list(train_steps(run, resume=Resume(at.layers, at.state, at.next)))
    assert [d.step for d in rest] == [d.step for d in whole[5:]]
    for a, b in zip(rest, whole[5:], strict=True):
        assert a.loss == b.loss
        np.testing.assert_array_equal(a.layers[0].W, b.layers[0].W)
