"""The benchmark's requests, and the in-process measurements: the JSON floor (b) and engine vs PyTorch (d)."""

from __future__ import annotations

import base64
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from service.engine import Layer, backward, get_activation, get_loss
from service.schemas.examples import BACKWARD_EXAMPLE
from service.schemas.responses import backward_body

SIZES = (784, 512, 512, 10)
ACTIVATIONS = ("relu", "relu", "softmax")
BATCH = 128
LOSS, REDUCTION = "categorical_cross_entropy", "mean"


@dataclass(frozen=True)
class Mnist:
    """A 784-512-512-10 network and a batch of 128 (float32), as engine arrays and as request bodies."""

    layers: list[Layer]
    x: np.ndarray
    t: np.ndarray
    json_body: bytes
    binary_body: bytes


def primer_body() -> bytes:
    """The primer's example: the docs' prefilled request."""
    return orjson.dumps(BACKWARD_EXAMPLE)


def _tensor(array: np.ndarray) -> dict[str, Any]:
    return {"dtype": array.dtype.name, "shape": list(array.shape), "b64": base64.b64encode(array.tobytes()).decode()}


def mnist(seed: int = 0) -> Mnist:
    """He-initialized weights, pixels in [0, 1), one-hot targets; the JSON body writes the float32 values as
    Python's ``json`` writes ``array.tolist()`` (shortest float64 repr), as a typical client does."""
    rng = np.random.default_rng(seed)
    Ws = [(rng.standard_normal((k, m)) * np.sqrt(2.0 / m)).astype(np.float32) for m, k in itertools.pairwise(SIZES)]
    bs = [(0.01 * rng.standard_normal(k)).astype(np.float32) for k in SIZES[1:]]
    x = rng.random((BATCH, SIZES[0])).astype(np.float32)
    t = np.eye(SIZES[-1], dtype=np.float32)[rng.integers(0, SIZES[-1], BATCH)]
    options = {"loss": LOSS, "reduction": REDUCTION, "dtype": "float32"}

    def body(wire: Callable[[np.ndarray], Any], **extra: Any) -> bytes:
        layers = [{"weights": wire(W), "bias": wire(b), "activation": h} for W, b, h in zip(Ws, bs, ACTIVATIONS, strict=True)]
        body = {"network": {"layers": layers}, "x": wire(x), "t": wire(t), **options, **extra}
        return orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY)

    layers = [Layer(W, b, get_activation(h)) for W, b, h in zip(Ws, bs, ACTIVATIONS, strict=True)]
    return Mnist(layers, x, t, body(lambda a: a.astype(np.float64)), body(_tensor, response_encoding="base64"))


def _seconds(f: Callable[[], object]) -> float:
    start = time.perf_counter()
    f()
    return time.perf_counter() - start


def floor_seconds(work: Mnist) -> dict[str, float]:
    """The in-process floor of the JSON request: orjson parse of the body, the engine, orjson dump of the response."""
    loss = get_loss(LOSS)
    parse = _seconds(lambda: orjson.loads(work.json_body))
    result: list[Any] = []
    engine = _seconds(lambda: result.append(backward(work.layers, work.x, work.t, loss, REDUCTION)))
    trace, grads = result[0]
    serialize = _seconds(lambda: orjson.dumps(backward_body(trace, grads, True), option=orjson.OPT_SERIALIZE_NUMPY))
    return {"parse": parse, "engine": engine, "dump": serialize, "total": parse + engine + serialize}


def engine_step(work: Mnist) -> Callable[[], object]:
    """One call of the engine's backward: the forward pass, every δ, ∂E/∂W, ∂E/∂b and ∂E/∂x."""
    loss = get_loss(LOSS)
    return lambda: backward(work.layers, work.x, work.t, loss, REDUCTION)


def torch_step(work: Mnist) -> Callable[[], object]:
    """The same computation with PyTorch autograd: forward, cross-entropy (mean), backward to W, b and x."""
    import torch  # only the benchmark needs it

    params = [
        (torch.from_numpy(layer.W).requires_grad_(True), torch.from_numpy(layer.b).requires_grad_(True))
        for layer in work.layers
        if layer.b is not None
    ]
    x, t = torch.from_numpy(work.x), torch.from_numpy(work.t)

    def step() -> tuple[Any, ...]:
        xg = x.detach().requires_grad_(True)
        h = xg
        for l, (W, b) in enumerate(params):
            W.grad = b.grad = None
            h = torch.nn.functional.linear(h, W, b)
            if l < len(params) - 1:
                h = torch.relu(h)
        loss = torch.nn.functional.cross_entropy(h, t, reduction="mean")
        loss.backward()
        return (loss, xg.grad, *(p.grad for pair in params for p in pair))

    return step


def check_torch_agrees(work: Mnist) -> None:
    """Both compute the same numbers (float32 tolerance), so the timing compares the same work."""
    _, grads = engine_step(work)()  # type: ignore[misc]
    torch_loss, torch_grad_x, *torch_grads = torch_step(work)()  # type: ignore[misc]
    np.testing.assert_allclose(grads.loss, torch_loss.item(), rtol=1e-5)
    np.testing.assert_allclose(grads.grad_x, torch_grad_x.numpy(), rtol=1e-3, atol=1e-6)
    for l, gW in enumerate(grads.grad_W):
        np.testing.assert_allclose(gW, torch_grads[2 * l].numpy(), rtol=1e-3, atol=1e-6)
