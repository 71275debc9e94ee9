"""A seeded request whose arrays go as JSON arrays or as binary tensors, and reading either form back."""

from __future__ import annotations

import base64
import itertools
from typing import Any

import numpy as np
import orjson

Body = dict[str, Any]
SIZES = [5, 4, 3]


def tensor(array: np.ndarray) -> Body:
    """The wire's binary tensor for ``array`` (little-endian, row-major)."""
    little = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))
    return {"dtype": array.dtype.name, "shape": list(array.shape), "b64": base64.b64encode(little.tobytes()).decode()}


def read(value: Any, dtype: str) -> np.ndarray:
    """An array of the response, in whichever form it came, as ``dtype``."""
    if isinstance(value, dict):
        assert value["dtype"] == dtype
        return np.frombuffer(base64.b64decode(value["b64"], validate=True), dtype="<" + np.dtype(dtype).str[1:]).reshape(value["shape"])
    return np.array(value, dtype=np.float64).astype(dtype)  # JSON numbers are the shortest repr of the dtype's value


def arrays_of(dtype: str) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    arrays = {f"W{l}": rng.standard_normal((k, m)) for l, (m, k) in enumerate(itertools.pairwise(SIZES))}
    arrays |= {f"b{l}": rng.standard_normal(k) for l, k in enumerate(SIZES[1:])}
    arrays["x"] = rng.standard_normal((6, SIZES[0]))
    arrays["t"] = rng.dirichlet(np.ones(SIZES[-1]), size=6)
    return {name: a.astype(dtype) for name, a in arrays.items()}


def request(dtype: str, binary: bool, response_encoding: str, **options: Any) -> Body:
    """A seeded 5-4-3 tanh/softmax network with biases and a batch of 6, its arrays sent as JSON or binary."""
    arrays = arrays_of(dtype)

    def wire(name: str) -> Any:
        return tensor(arrays[name]) if binary else orjson.loads(orjson.dumps(arrays[name], option=orjson.OPT_SERIALIZE_NUMPY))

    layers = [{"weights": wire(f"W{l}"), "bias": wire(f"b{l}"), "activation": h} for l, h in enumerate(["tanh", "softmax"])]
    return {
        "network": {"layers": layers},
        "x": wire("x"),
        "t": wire("t"),
        "loss": "categorical_cross_entropy",
        "dtype": dtype,
        "response_encoding": response_encoding,
        **options,
    }
