"""Shared by the interop tests: posting a file, the problem it answers, seeded random networks."""

from __future__ import annotations

import io
import os
import warnings
from contextlib import redirect_stdout
from itertools import pairwise
from typing import Any

import numpy as np
from fastapi.testclient import TestClient

os.environ.setdefault("KERAS_BACKEND", "torch")  # before any import of keras

OCTET = {"content-type": "application/octet-stream"}


def post_file(client: TestClient, format: str, data: bytes, **query: str) -> Any:
    return client.post("/v1/networks/import", params={"format": format, **query}, content=data, headers=OCTET)


def problem(client: TestClient, format: str, data: bytes, status: int = 422, **query: str) -> dict[str, Any]:
    """The problem+json answer to importing ``data``, after checking its status."""
    r = post_file(client, format, data, **query)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = r.json()
    return body


def random_network(rng: np.random.Generator, sizes: list[int], activations: list[Any], bias: bool) -> dict[str, Any]:
    layers = []
    for (M, K), h in zip(pairwise(sizes), activations, strict=True):
        W = rng.normal(0, 1 / np.sqrt(M), (K, M)).astype(np.float32)
        layer: dict[str, Any] = {"weights": W.tolist(), "activation": h}
        if bias:
            layer["bias"] = rng.normal(0, 0.5, K).astype(np.float32).tolist()
        layers.append(layer)
    return {"layers": layers}


def quietly_export_onnx(module: Any, x: Any, dynamo: bool) -> bytes:
    """torch.onnx.export's bytes, its warnings and progress lines silenced (pytest turns warnings into errors)."""
    import torch

    f = io.BytesIO()
    with warnings.catch_warnings(), open(os.devnull, "w") as devnull, redirect_stdout(devnull):
        warnings.simplefilter("ignore")
        torch.onnx.export(module, (x,), f, dynamo=dynamo)
    return f.getvalue()
