"""PyTorch's side of the conformance tests: every activation and loss by our wire name, and the network.

The losses are written against torch.nn.functional here; each activation is the torch function (or module) its
registry record names (``forms.torch``), so a new activation is compared with PyTorch without a line here, and a
record that names the wrong function fails. No number comes from the engine.
Imported unconditionally: if torch is missing, the conformance tests fail (they never skip).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from service.engine.activations import records
from service.engine.forms import NoForm, Torch
from tests.conformance.cases import Spec, name_and_params

TorchFn = Callable[..., torch.Tensor]


def resolve(path: str) -> Any:
    """``torch.nn.functional.softsign`` (a record's dotted path) as the object it names."""
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def torch_form(form: Torch) -> TorchFn:
    """h as the record's torch form computes it: its function, or (when it has none) its module, with the fixed arguments."""
    fixed = {k: v.value for k, v in form.fixed.items()}
    if isinstance(form.function, str):
        function = resolve(form.function)
        return lambda a, **params: function(a, **params, **fixed)
    assert isinstance(form.module, str), "a record names a torch module or a function"
    module = getattr(torch.nn, form.module)
    return lambda a, **params: module(**params, **fixed)(a)


#: Every activation (aliases too) as its registry record's PyTorch form computes it: the framework is the oracle, the record
#: only says which of its functions the activation is. Exact formulas where torch's float64 backward uses float32 constants:
EXACT: dict[str, TorchFn] = {
    # F.hardsigmoid's float64 backward multiplies by a float32-rounded 1/6
    # (see test_hard_sigmoid_differs_from_torch_only_by_its_float32_one_sixth); relu6(a + 3)/6 is PyTorch's definition.
    "hard_sigmoid": lambda a: F.relu6(a + 3) / 6,
}
ACTIVATIONS: dict[str, TorchFn] = {
    name: EXACT.get(entry.describe.name) or torch_form(forms.torch)
    for entry, forms in records()
    for name in (entry.describe.name, *entry.describe.aliases)
    if not (isinstance(forms.torch.module, NoForm) and isinstance(forms.torch.function, NoForm))
}


def module(spec: Spec) -> torch.nn.Module:
    """The activation as its record's torch.nn module, built with the spec's parameters."""
    name, params = name_and_params(spec)
    form = next(f.torch for e, f in records() if name in (e.describe.name, *e.describe.aliases))
    assert isinstance(form.module, str), f"PyTorch has no {name} module: {form.module}"
    built: torch.nn.Module = getattr(torch.nn, form.module)(**params, **{k: v.value for k, v in form.fixed.items()})
    return built


def activation(spec: Spec) -> Callable[[torch.Tensor], torch.Tensor]:
    name, params = name_and_params(spec)
    return lambda a: ACTIVATIONS[name](a, **params)


def _smoothed(t: torch.Tensor, label_smoothing: float) -> torch.Tensor:
    return t * (1 - label_smoothing) + label_smoothing / t.shape[-1]


def _cce(y: torch.Tensor, t: torch.Tensor, from_logits: bool = False, label_smoothing: float = 0.0) -> torch.Tensor:
    if from_logits:
        return F.cross_entropy(y, t, reduction="none", label_smoothing=label_smoothing)
    return -(_smoothed(t, label_smoothing) * torch.log(y)).sum(-1)  # torch has no cross-entropy on probabilities


def _sparse_cce(y: torch.Tensor, t: torch.Tensor, from_logits: bool = False, label_smoothing: float = 0.0) -> torch.Tensor:
    index = t[:, 0].long()
    if from_logits:
        return F.cross_entropy(y, index, reduction="none", label_smoothing=label_smoothing)
    return _cce(y, F.one_hot(index, y.shape[-1]).to(y.dtype), label_smoothing=label_smoothing)


LOSSES: dict[str, TorchFn] = {
    "half_sse": lambda y, t: 0.5 * ((y - t) ** 2).sum(-1),
    "sse": lambda y, t: ((y - t) ** 2).sum(-1),
    "mse": lambda y, t: F.mse_loss(y, t, reduction="none").mean(-1),
    "mae": lambda y, t: F.l1_loss(y, t, reduction="none").mean(-1),
    "huber": lambda y, t, delta=1.0: F.huber_loss(y, t, reduction="none", delta=delta).mean(-1),
    "binary_cross_entropy": lambda y, t: F.binary_cross_entropy(y, t, reduction="none").mean(-1),
    "binary_cross_entropy_with_logits": lambda y, t: F.binary_cross_entropy_with_logits(y, t, reduction="none").mean(-1),
    "categorical_cross_entropy": _cce,
    "sparse_categorical_cross_entropy": _sparse_cce,
    "kl_divergence": lambda y, t, log_target=False: F.kl_div(y, t, reduction="none", log_target=log_target).sum(-1),
    "poisson": lambda y, t, log_input=True, full=False, eps=1e-8: F.poisson_nll_loss(
        y, t, log_input=log_input, full=full, eps=eps, reduction="none"
    ).mean(-1),
}


def per_point_loss(spec: Spec) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    name, params = name_and_params(spec)
    return lambda y, t: LOSSES[name](y, t, **params)


@dataclass
class TorchResult:
    """Everything the service returns, computed by torch autograd, as NumPy arrays."""

    loss: np.ndarray
    y: np.ndarray
    a: list[np.ndarray]
    z: list[np.ndarray]
    delta: list[np.ndarray]
    grad_W: list[np.ndarray]
    grad_b: list[np.ndarray | None]
    grad_x: np.ndarray


def network(
    Ws: list[torch.Tensor], bs: list[torch.Tensor | None], acts: list[Spec], x: torch.Tensor, keep: list[torch.Tensor] | None = None
) -> tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor]]:
    """y, and each layer's a and z; with ``keep``, the a's retain their gradients (the δ's)."""
    a_list, z_list, z = [], [], x
    for W, b, act in zip(Ws, bs, acts, strict=True):
        a = z @ W.T + (b if b is not None else 0)
        if keep is not None:
            a.retain_grad()
        a_list.append(a)
        z = activation(act)(a)
        z_list.append(z)
    return z, a_list, z_list


def reduce(per_point: torch.Tensor, reduction: str) -> torch.Tensor:
    return {"sum": per_point.sum, "mean": per_point.mean, "none": lambda: per_point}[reduction]()


def backward(
    Ws: list[np.ndarray],
    bs: list[np.ndarray | None],
    acts: list[Spec],
    x: np.ndarray,
    t: np.ndarray,
    loss: Spec,
    reduction: str,
    dtype: str,
) -> TorchResult:
    """torch autograd on the same network; for reduction none, E.backward(ones) (the gradient of Σₙ Eₙ)."""
    tdt = getattr(torch, dtype)
    Wt = [torch.tensor(W, dtype=tdt, requires_grad=True) for W in Ws]
    bt = [torch.tensor(b, dtype=tdt, requires_grad=True) if b is not None else None for b in bs]
    xt = torch.tensor(x, dtype=tdt, requires_grad=True)
    tt = torch.tensor(t, dtype=tdt)
    y, a_list, z_list = network(Wt, bt, acts, xt, keep=[])
    E = reduce(per_point_loss(loss)(y, tt), reduction)
    E.backward(torch.ones_like(E))
    n = lambda v: v.detach().numpy()  # noqa: E731
    return TorchResult(
        n(E),
        n(y),
        [n(a) for a in a_list],
        [n(z) for z in z_list],
        [n(a.grad) for a in a_list],
        [n(W.grad) for W in Wt],
        [n(b.grad) if b is not None else None for b in bt],
        n(xt.grad),
    )
