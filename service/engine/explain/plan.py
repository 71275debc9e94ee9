"""How many steps a request produces, from its shapes and selection alone (before any is built).

For sizes M⁽¹⁾, K⁽¹⁾ … K⁽ᴸ⁾, N points, and B = 1 if N > 1 else 0, the groups are

    a, z, delta        N·K⁽ˡ⁾ per layer
    loss               N·B + 1                (Eₙ for a batch, then E)
    grad_weights       K⁽ˡ⁾·M⁽ˡ⁾·(N·B + 1)    (per-point terms for a batch, then the sum)
    grad_bias          K⁽ˡ⁾ per layer with a bias
    grad_x             N·M⁽¹⁾
    update             K⁽ˡ⁾·M⁽ˡ⁾ (+ K⁽ˡ⁾ with a bias) per layer, with an optimizer
    loss_after         1, with an optimizer

:func:`groups` lists them in the order the steps come, and :func:`count_steps` adds
up those the selection keeps; :func:`service.engine.explain.explain` builds steps
group by group from the same list, so the two cannot disagree.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

from service.engine.explain.steps import EVERYTHING, Selection

T = TypeVar("T")


@dataclass(frozen=True)
class Group:
    """The steps of one quantity for one layer and one point (None: reduced or layer-free)."""

    quantity: str
    layer: int | None
    point: int | None
    count: int


def groups(sizes: Sequence[int], biases: Sequence[bool], N: int, update: bool) -> Iterator[Group]:
    """Every group in derivation order, for ``sizes = [M⁽¹⁾, K⁽¹⁾, …, K⁽ᴸ⁾]``."""
    L = len(sizes) - 1
    points = range(N)
    batch = N > 1
    for l in range(L):
        for n in points:
            yield Group("a", l, n, sizes[l + 1])
            yield Group("z", l, n, sizes[l + 1])
    if batch:
        for n in points:
            yield Group("loss", None, n, 1)
    yield Group("loss", None, None, 1)
    for l in reversed(range(L)):
        for n in points:
            yield Group("delta", l, n, sizes[l + 1])
    for l in reversed(range(L)):
        K, M = sizes[l + 1], sizes[l]
        if batch:
            for n in points:
                yield Group("grad_weights", l, n, K * M)
        yield Group("grad_weights", l, None, K * M)
        if biases[l]:
            yield Group("grad_bias", l, None, K)
    for n in points:
        yield Group("grad_x", None, n, sizes[0])
    if update:
        for l in range(L):
            yield Group("update", l, None, sizes[l + 1] * sizes[l] + (sizes[l + 1] if biases[l] else 0))
        yield Group("loss_after", None, None, 1)


def count_steps(sizes: Sequence[int], biases: Sequence[bool], N: int, selection: Selection = EVERYTHING, update: bool = False) -> int:
    """The number of steps :func:`~service.engine.explain.explain` returns for these shapes.

    ``sizes = [M⁽¹⁾, K⁽¹⁾, …, K⁽ᴸ⁾]``, ``biases[l]`` whether layer l has a bias, N the
    data points, ``update`` whether an optimizer step is explained too. Costs
    O(L·N) whatever the sizes, so a caller can refuse a request before building it.
    """
    return sum(g.count for g in groups(sizes, biases, N, update) if selection.wants(g.quantity, g.layer, g.point))


def count_per_filter(
    sizes: Sequence[int], biases: Sequence[bool], N: int, update: bool = False, within: Selection = EVERYTHING
) -> dict[str, int]:
    """The steps each single filter would leave (``quantity=delta``, ``layer=1``, ``point=0`` …).

    For a refusal over the limit: the caller can name the filters that bring a request under it.
    ``within`` is the selection the request already has: each filter is added to it (a filter
    that the selection already excludes is not listed).
    """
    quantities = [q for q in dict.fromkeys(g.quantity for g in groups(sizes, biases, N, update)) if _keeps(within.quantities, q)]
    layers = [l for l in range(len(sizes) - 1) if _keeps(within.layers, l)]
    points = [n for n in range(N) if _keeps(within.points, n)] if N > 1 else []
    options = [(f"quantity={q}", Selection(within.layers, [q], within.points)) for q in quantities]
    options += [(f"layer={l}", Selection([l], within.quantities, within.points)) for l in layers]
    options += [(f"point={n}", Selection(within.layers, within.quantities, [n])) for n in points]
    return {key: count_steps(sizes, biases, N, selection, update) for key, selection in options}


def _keeps(chosen: Collection[T] | None, item: T) -> bool:
    return chosen is None or item in chosen
