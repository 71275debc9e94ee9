"""The primer's worked example over HTTP, against its float64 numbers and its TensorFlow printout."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

RTOL_F64 = 1e-12
ATOL_TF = 1e-6


def test_backward_matches_primer_float64(client: TestClient, primer: dict[str, Any]) -> None:
    r = client.post("/v1/backward", json=primer["request"])
    assert r.status_code == 200, r.text
    got, want = r.json(), primer["expected_float64"]
    for key in ("loss", "y", "grad_x"):
        np.testing.assert_allclose(got[key], want[key], rtol=RTOL_F64, atol=0)
    assert len(got["layers"]) == len(want["layers"])
    for got_l, want_l in zip(got["layers"], want["layers"], strict=True):
        for key in ("a", "z", "delta", "grad_weights"):
            np.testing.assert_allclose(got_l[key], want_l[key], rtol=RTOL_F64, atol=0)
        assert "grad_bias" not in got_l  # the primer's layers have no bias


def test_float32_mse_matches_tensorflow_printout(client: TestClient, primer: dict[str, Any]) -> None:
    tf = primer["tensorflow_float32"]
    r = client.post("/v1/backward", json={**primer["request"], "loss": "mse", "dtype": "float32"})
    assert r.status_code == 200, r.text
    got = r.json()
    np.testing.assert_allclose(got["y"], tf["y"], atol=ATOL_TF, rtol=0)
    np.testing.assert_allclose(got["layers"][0]["z"], tf["layer_1_z"], atol=ATOL_TF, rtol=0)
    np.testing.assert_allclose(got["layers"][0]["grad_weights"], tf["layer_1_grad_weights"], atol=ATOL_TF, rtol=0)
    np.testing.assert_allclose(got["layers"][1]["grad_weights"], tf["layer_2_grad_weights"], atol=ATOL_TF, rtol=0)


def test_float32_is_printed_as_float32(client: TestClient, primer: dict[str, Any]) -> None:
    """A float32 answer prints each number as float32's shortest form (0.4621172), not a float64 widening."""
    r = client.post("/v1/backward", json={**primer["request"], "dtype": "float32"})
    tokens = re.findall(r"-?\d+\.\d+(?:e-?\d+)?", r.text)
    assert len(tokens) > 20
    for token in tokens:
        assert str(np.float32(token)) == token


def test_forward_agrees_with_backward(client: TestClient, primer: dict[str, Any]) -> None:
    fwd = client.post("/v1/forward", json={"network": primer["request"]["network"], "x": primer["request"]["x"]}).json()
    bwd = client.post("/v1/backward", json=primer["request"]).json()
    assert fwd["y"] == bwd["y"]
    assert [{k: layer[k] for k in ("a", "z")} for layer in bwd["layers"]] == fwd["layers"]


@pytest.mark.parametrize("batch", [1, 3])
def test_batch_rows_are_the_single_point_answers(client: TestClient, primer: dict[str, Any], batch: int) -> None:
    """A matrix x gives per-point rows equal to each point sent alone; gradients add up (reduction sum)."""
    req = primer["request"]
    single = client.post("/v1/backward", json=req).json()
    batched = client.post("/v1/backward", json={**req, "x": [req["x"]] * batch, "t": [req["t"]] * batch}).json()
    assert batched["y"] == [single["y"]] * batch
    np.testing.assert_allclose(batched["loss"], batch * single["loss"], rtol=1e-14)
    for got_l, one_l in zip(batched["layers"], single["layers"], strict=True):
        assert got_l["delta"] == [one_l["delta"]] * batch
        np.testing.assert_allclose(got_l["grad_weights"], batch * np.array(one_l["grad_weights"]), rtol=1e-14)
