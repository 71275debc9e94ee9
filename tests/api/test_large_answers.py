"""A large answer is sent as the pieces it was written in: the same bytes as one orjson call, its length declared."""

from __future__ import annotations

import numpy as np
import orjson
from fastapi.testclient import TestClient

from service.api.compute import PiecesResponse
from service.schemas.responses import _CHUNK, dump_pieces


def test_a_large_answer_is_the_bytes_of_one_orjson_call(client: TestClient) -> None:
    rng = np.random.default_rng(7)
    W = rng.standard_normal((300, 300))  # 90,000 weights: over the piece size, so ∂E/∂W is written in pieces
    assert W.size > _CHUNK
    x, t = rng.standard_normal((4, 300)), rng.standard_normal((4, 300))
    body = {"network": {"layers": [{"weights": W.tolist(), "activation": "tanh"}]}, "x": x.tolist(), "t": t.tolist()}
    r = client.post("/v1/backward", json=body)
    assert r.status_code == 200, r.text[:300]
    assert int(r.headers["content-length"]) == len(r.content)
    answer = orjson.loads(r.content)
    np.testing.assert_allclose(np.array(answer["layers"][0]["grad_weights"]).shape, (300, 300))
    assert r.content == orjson.dumps(answer)  # orjson writes back what it read: the pieces joined are one valid document


def test_pieces_are_gathered_and_declared() -> None:
    answer = {"y": np.arange(3 * _CHUNK, dtype=np.float64).reshape(3, _CHUNK), "loss": 1.5}
    pieces = dump_pieces(answer)
    assert len(pieces) > 1
    assert b"".join(pieces) == orjson.dumps(answer, option=orjson.OPT_SERIALIZE_NUMPY)
    response = PiecesResponse(pieces)
    assert response.headers["content-length"] == str(sum(map(len, pieces)))
    assert response.headers["content-type"] == "application/json"
