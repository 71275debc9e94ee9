"""count_steps() from shapes and selection alone equals len(explain(...)), for many shapes and selections (seeded)."""

from __future__ import annotations

import numpy as np
import pytest

from service.engine import Layer, get_activation, get_loss
from service.engine.explain import QUANTITIES, Selection, count_per_filter, count_steps, explain
from service.engine.optimizers import get_optimizer

ACTS = ["tanh", "relu", "softmax", "linear", "log_softmax", "sigmoid"]


def network(rng: np.random.Generator, sizes: list[int], bias: list[bool]) -> list[Layer]:
    return [
        Layer(
            rng.normal(0, 0.5, (sizes[l + 1], sizes[l])), rng.normal(0, 0.5, sizes[l + 1]) if bias[l] else None, get_activation(ACTS[l % 6])
        )
        for l in range(len(sizes) - 1)
    ]


@pytest.mark.parametrize("seed", range(40))
def test_count_equals_the_steps_built(seed: int) -> None:
    rng = np.random.default_rng(seed)
    L = int(rng.integers(1, 4))
    sizes = [int(s) for s in rng.integers(1, 5, L + 1)]
    bias = [bool(b) for b in rng.integers(0, 2, L)]
    N = int(rng.integers(1, 4))
    layers = network(rng, sizes, bias)
    x, t = rng.normal(0, 1, (N, sizes[0])), rng.normal(0, 1, (N, sizes[-1]))
    pick = lambda options: None if rng.random() < 0.4 else list(rng.choice(options, int(rng.integers(1, len(options) + 1)), replace=False))  # noqa: E731
    selection = Selection(
        layers=pick(list(range(L))),
        quantities=pick(list(QUANTITIES)),
        points=pick(list(range(N))),  # type: ignore[arg-type]
    )
    update = bool(rng.integers(0, 2))
    optimizer = get_optimizer("adam", learning_rate=0.01) if update else None
    steps = explain(layers, x, t, get_loss("mse"), "mean" if seed % 2 else "sum", selection=selection, optimizer=optimizer)
    assert len(steps) == count_steps(sizes, bias, N, selection, update)


def test_default_max_steps_is_what_a_16_16_16_16_network_with_one_point_needs() -> None:
    """With biases and an optimizer step: the largest request of that shape (see Settings.max_explain_steps)."""
    from service.config import Settings

    assert count_steps([16, 16, 16, 16], [True] * 3, 1, update=True) == Settings().max_explain_steps == 1794


def test_count_per_filter_names_what_each_filter_leaves() -> None:
    per = count_per_filter([2, 3, 2], [False, False], 3)
    assert per["quantity=delta"] == 3 * (3 + 2)
    assert per["point=0"] == count_steps([2, 3, 2], [False, False], 3, Selection(points=[0]))
    assert per["layer=0"] == count_steps([2, 3, 2], [False, False], 3, Selection(layers=[0]))


def test_count_per_filter_within_a_selection_adds_each_filter_to_it() -> None:
    within = Selection(quantities=["delta", "grad_weights"])
    per = count_per_filter([2, 3, 2], [False, False], 3, within=within)
    assert per["layer=0"] == count_steps([2, 3, 2], [False, False], 3, Selection(layers=[0], quantities=["delta", "grad_weights"]))
    assert set(k for k in per if k.startswith("quantity=")) == {"quantity=delta", "quantity=grad_weights"}  # a's filter is not listed
    assert per["point=1"] == count_steps([2, 3, 2], [False, False], 3, Selection(quantities=["delta", "grad_weights"], points=[1]))
