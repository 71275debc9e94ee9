"""The response writer's pieces join to exactly what one orjson call writes."""

from __future__ import annotations

import numpy as np
import orjson
import pytest

from service.schemas.responses import dump


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_dump_in_pieces_equals_one_orjson_call(dtype: type[np.floating]) -> None:
    rng = np.random.default_rng(7)
    body = {
        "loss": dtype(0.25),
        "y": rng.normal(size=(300, 10)).astype(dtype),
        "layers": [
            {"a": rng.normal(size=70_001).astype(dtype), "grad_weights": rng.normal(size=(513, 784)).astype(dtype)},
            {"weights": rng.normal(size=(3, 2)).astype(dtype), "bias": None, "activation": {"name": "leaky_relu", "negative_slope": 0.1}},
        ],
        "optimizer_state": {"step": 3, "slots": {'odd "name"': [{"weights": rng.normal(size=(1, 70_000)).astype(dtype)}]}},
    }
    assert dump(body) == orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY)


def test_dump_fails_when_a_piece_is_lost() -> None:
    """The comparison above can fail: a dropped row changes the bytes."""
    big = np.arange(200_000, dtype=np.float64).reshape(1000, 200)
    assert dump({"a": big}) != orjson.dumps({"a": big[:-1]}, option=orjson.OPT_SERIALIZE_NUMPY)
