"""Arrays read straight into NumPy give what pydantic's validation of the whole body gives: the same arrays, bit for bit,
and the same errors (status, type, pointers, details), for every kind of bad input and for random mutations (seeded).

The oracle is pydantic itself: ``model.model_validate_json(body)`` on the whole body, the path every body took before.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np
import orjson
import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel

from service.errors import ServiceError
from service.schemas import json_arrays
from service.schemas.jobs import DatasetIn
from service.schemas.json_arrays import SCAN_MIN_BYTES, scan, tensor_paths, validate_json
from service.schemas.requests import BackwardRequest, TrainStepRequest
from tests.helpers.problems import assert_response_problem

Outcome = tuple[Any, ...]
rng = np.random.default_rng(19)
W = rng.standard_normal((64, 32))
X = rng.random((20, 32))
T = rng.random((20, 64))
BASE: dict[str, Any] = {
    "network": {"layers": [{"weights": W.tolist(), "bias": W[:, 0].tolist(), "activation": "tanh"}]},
    "x": X.tolist(),
    "t": T.tolist(),
}
GOOD = orjson.dumps(BASE)
STEP = orjson.dumps(
    BASE
    | {
        "optimizer": {"name": "adam", "learning_rate": 0.1},
        "optimizer_state": {"step": 1, "slots": {"m": [{"weights": W.tolist(), "bias": None}], "v": [{"weights": W.tolist()}]}},
    }
)


def _pydantic(body: bytes, model: type[BaseModel]) -> BaseModel:
    return json_arrays._pydantic(body, model)


def outcome(parse: Callable[[bytes, type[BaseModel]], BaseModel], body: bytes, model: type[BaseModel]) -> Outcome:
    try:
        return ("ok", parse(body, model))
    except ServiceError as exc:
        return ("error", type(exc).__name__, exc.detail, exc.errors, exc.omitted)


def assert_same(a: Any, b: Any) -> None:
    """Equal models, arrays equal bit for bit (signed zeros too) and of the same dtype and shape."""
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, BaseModel):
        for name in type(a).model_fields:
            assert_same(getattr(a, name), getattr(b, name))
    elif isinstance(a, np.ndarray):
        assert (a.dtype, a.shape) == (b.dtype, b.shape)
        np.testing.assert_array_equal(a.view(np.uint64), b.view(np.uint64))
    elif isinstance(a, list | tuple):
        assert len(a) == len(b)
        for p, q in zip(a, b, strict=True):
            assert_same(p, q)
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            assert_same(a[key], b[key])
    else:
        assert a == b


def assert_as_pydantic(body: bytes, model: type[BaseModel] = BackwardRequest) -> Outcome:
    new, old = outcome(validate_json, body, model), outcome(_pydantic, body, model)
    assert new[0] == old[0], (new, old)
    if new[0] == "ok":
        assert_same(new[1], old[1])
    else:
        assert new == old
    return new


def _replace(number: float, token: bytes, body: bytes = GOOD) -> bytes:
    text = orjson.dumps(number)
    assert text in body
    return body.replace(text, token, 1)


def test_a_good_body_is_read_by_the_scan_not_by_pydantic() -> None:
    """The fast path is the one under test: every array of the body is a block read into NumPy."""
    assert len(GOOD) > SCAN_MIN_BYTES
    found = scan(GOOD)
    assert [(b.path, b.ndim, b.array is not None) for b in found.blocks] == [
        (("network", "layers", 0, "weights"), 2, True),
        (("network", "layers", 0, "bias"), 1, True),
        (("x",), 2, True),
        (("t",), 2, True),
    ]
    assert found.numbers == W.size + 64 + X.size + T.size
    assert_as_pydantic(GOOD)
    assert_as_pydantic(STEP, TrainStepRequest)
    assert_as_pydantic(orjson.dumps({"x": X.tolist(), "t": T.tolist()}), DatasetIn)
    assert len(scan(STEP).blocks) == 6  # and m, v: one weights each (m has a null bias, v none)


BAD_TOKENS = [
    b"true",
    b"null",
    b'"s"',
    b'"1.5"',
    b"NaN",
    b"Infinity",
    b"-Infinity",
    b"1e400",
    b"-1e400",
    b"1.7976931348623159e308",
    b"18446744073709551616",  # beyond 64 bits: simdjson refuses it, pydantic reads it as a float
    b"9" * 5000,  # beyond pydantic's parser: 422
    b"1." + b"0" * 5000,  # a valid float64
    b"01",
    b"1.",
    b"-",
    b"[1]",
    b"{}",
    b"",
    b"1 2",
    b"-0",
    b"-0.0",
    b"1E5",
    b"1e-400",
]
PLACES = {"W[3][5]": W[3, 5], "W[0][0]": W[0, 0], "W[63][31]": W[63, 31], "b[7]": W[7, 0], "x[19][31]": X[19, 31], "t[5][5]": T[5, 5]}


@pytest.mark.parametrize("token", BAD_TOKENS, ids=[t[:12].decode() for t in BAD_TOKENS])
@pytest.mark.parametrize("place", PLACES, ids=PLACES)
def test_an_odd_token_anywhere_is_judged_as_pydantic_judges_it(token: bytes, place: str) -> None:
    body = _replace(float(PLACES[place]), token)
    if place == "b[7]":
        body = body.replace(orjson.dumps(float(W[7, 0])), token, 1)  # also the bias's copy of it (the weight came first)
    assert_as_pydantic(body)


def _with(change: Callable[[dict[str, Any]], None]) -> bytes:
    body = copy.deepcopy(BASE)
    change(body)
    return orjson.dumps(body)


def _set(path: list[Any], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(body: dict[str, Any]) -> None:
        target: Any = body
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


LAYER = ["network", "layers", 0]
STRUCTURES: dict[str, bytes] = {
    "ragged row": _with(_set([*LAYER, "weights", 3], W[3, :-1].tolist())),
    "ragged, then a string": _with(
        lambda b: (_set([*LAYER, "weights", 3], W[3, :-1].tolist())(b), _set([*LAYER, "weights", 7, 2], "s")(b))
    ),
    "empty row": _with(_set(["x", 4], [])),
    "empty first row": _with(_set(["x"], [[], *X.tolist()])),
    "nested row": _with(_set(["x", 4], [1.0, [2.0]])),
    "a number among rows": _with(_set(["x"], [X[0].tolist(), 1.0, *X.tolist()])),
    "3-d": _with(_set(["x"], [X.tolist()])),
    "matrix as bias": _with(_set([*LAYER, "bias"], W.tolist())),
    "vector as weights": _with(_set([*LAYER, "weights"], W.ravel().tolist())),
    "vector x of the wrong width": _with(_set(["x"], X[0].tolist() * 10)),
    "an array as dtype": _with(_set(["dtype"], W[0].tolist())),
    "an array as loss": _with(_set(["loss"], W[0].tolist())),
    "an array as activation": _with(_set([*LAYER, "activation"], W[0].tolist())),
    "an array as an unknown field": _with(_set(["extra"], W.tolist())),
    "an array as a tensor's shape": _with(_set(["x"], {"dtype": "float64", "shape": list(range(100)), "b64": ""})),
    "bad activation, then a layer": _with(
        _set(["network", "layers"], [{"weights": W.tolist(), "activation": "nope"}, {"weights": W.tolist()}])
    ),
    "a body that is an array": orjson.dumps([W.tolist()]),
    "x twice": GOOD.replace(b'"x":', b'"x":' + orjson.dumps(W.tolist()) + b',"x":', 1),
    "a key with brackets and escapes": _with(_set(['x\\"[{'], {"]": W.tolist(), "weights": W.tolist()})),
    "cut short": GOOD[: len(GOOD) // 2],
    "a byte after the end": GOOD + b"x",
    "rows without a comma": GOOD.replace(b"],[", b"][", 1),
    "two commas between rows": GOOD.replace(b"],[", b"],,[", 1),
    "two commas between numbers": GOOD.replace(b",", b",,", 1),
    "indented": orjson.dumps(BASE, option=orjson.OPT_INDENT_2),
    "indented, a bad number": _replace(float(W[10, 3]), b"1..", orjson.dumps(BASE, option=orjson.OPT_INDENT_2)),
    "a newline in a number": _replace(float(W[10, 3]), orjson.dumps(float(W[10, 3]))[:4] + b"\n5"),
}


@pytest.mark.parametrize("body", STRUCTURES.values(), ids=STRUCTURES)
def test_every_structure_is_judged_as_pydantic_judges_it(body: bytes) -> None:
    assert_as_pydantic(body)


def test_random_mutations_are_judged_as_pydantic_judges_them() -> None:
    """600 bodies with 1-2 random bytes changed, deleted or inserted (seeded): the same answer every time."""
    alphabet = b'[]{},:"0123456789.-eE tnfa\\\n'
    generator = np.random.default_rng(1919)
    kinds = {}
    for trial in range(600):
        model: type[BaseModel] = TrainStepRequest if trial % 2 else BackwardRequest
        body = bytearray(STEP if trial % 2 else GOOD)
        for _ in range(int(generator.integers(1, 3))):
            at = int(generator.integers(0, len(body)))
            op = int(generator.integers(0, 3))
            byte = alphabet[int(generator.integers(0, len(alphabet)))]
            if op == 0:
                body[at] = byte
            elif op == 1:
                del body[at]
            else:
                body.insert(at, byte)
        result = assert_as_pydantic(bytes(body), model)
        kinds[result[1] if result[0] == "error" else "ok"] = True
    assert {"ok", "MalformedBody", "InvalidRequest"} <= kinds.keys()  # the mutations reach every kind of answer


def test_the_comparison_fails_when_a_pointer_is_wrong(monkeypatch: pytest.MonkeyPatch) -> None:
    """The oracle can fail: with the replayed row's position not moved back, the pointer is /…/weights/0/5, not /3/5."""
    body = _replace(float(W[3, 5]), b"true")
    monkeypatch.setattr(json_arrays, "fix_locations", lambda errors, blocks: errors)
    with pytest.raises(AssertionError):
        assert_as_pydantic(body)


HTTP_CASES = [
    ("ragged row", STRUCTURES["ragged row"], 422, "/network/layers/0/weights", ["row 3", "31 entries", "32"]),
    ("string", _with(_set([*LAYER, "weights", 1, 2], "NaN")), 422, "/network/layers/0/weights/1/2", ["number"]),
    ("boolean", _with(_set(["x", 5, 1], True)), 422, "/x/5/1", ["number"]),
    ("null", _with(_set(["t", 2, 0], None)), 422, "/t/2/0", ["number"]),
    ("NaN", _replace(float(X[3, 7]), b"NaN"), 422, "/x/3/7", ["finite"]),
    ("1e400", _replace(float(W[9, 9]), b"-1e400"), 422, "/network/layers/0/weights/9/9", ["finite"]),
    ("5000 digits", _replace(float(W[9, 9]), b"9" * 5000), 422, "", ["digits"]),
    ("not JSON", GOOD.replace(b"],[", b"][", 1), 400, "", ["JSON", "line 1 column"]),
    ("matrix as bias", STRUCTURES["matrix as bias"], 422, "/network/layers/0/bias/0", ["number"]),
    ("vector as weights", STRUCTURES["vector as weights"], 422, "/network/layers/0/weights/0", ["array"]),
]


@pytest.mark.parametrize(("body", "status", "pointer", "words"), [c[1:] for c in HTTP_CASES], ids=[c[0] for c in HTTP_CASES])
def test_each_error_of_a_large_body_is_answered_with_its_pointer(
    client: TestClient, body: bytes, status: int, pointer: str, words: list[str]
) -> None:
    assert len(body) > SCAN_MIN_BYTES
    r = client.post("/v1/backward", content=body, headers={"content-type": "application/json"})
    assert_response_problem(r, status, pointer, words)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("path", ["/v1/forward", "/v1/backward"])
def test_answers_are_the_same_bytes_with_and_without_the_scan(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, dtype: str, path: str
) -> None:
    """The same large request, read by the scan and by pydantic alone (everything under the threshold): the same bytes."""
    request = BASE | {"dtype": dtype}
    body = orjson.dumps({k: v for k, v in request.items() if k != "t"} if path == "/v1/forward" else request)
    headers = {"content-type": "application/json"}
    scanned = client.post(path, content=body, headers=headers)
    monkeypatch.setattr(json_arrays, "SCAN_MIN_BYTES", len(body) + 1)
    plain = client.post(path, content=body, headers=headers)
    assert scanned.status_code == plain.status_code == 200, scanned.text[:300]
    assert scanned.content == plain.content


def test_a_forward_request_reads_its_arrays_once() -> None:
    """The arrays of a parsed request are the scan's buffers (C-contiguous float64), not copies of Python lists."""
    parsed = validate_json(GOOD, BackwardRequest)
    W0 = parsed.network.layers[0].weights
    assert W0.flags.c_contiguous
    assert W0.flags.writeable
    assert W0.dtype == np.float64
    np.testing.assert_array_equal(W0, W)


def test_arrays_are_read_only_where_the_model_has_a_vector_or_matrix() -> None:
    """tensor_paths comes from the schema (``*``: any index or key); an array elsewhere stays pydantic's to judge."""
    assert tensor_paths(BackwardRequest) == {
        ("network", "layers", "*", "weights"),
        ("network", "layers", "*", "bias"),
        ("x",),
        ("t",),
    }
    assert tensor_paths(TrainStepRequest) - tensor_paths(BackwardRequest) == {
        ("optimizer_state", "slots", "*", "*", "weights"),
        ("optimizer_state", "slots", "*", "*", "bias"),
    }
    assert tensor_paths(DatasetIn) == {("x",), ("t",)}
    body = STRUCTURES["an array as dtype"]
    assert [b.path for b in scan(body, tensor_paths(BackwardRequest)).blocks] == [
        ("network", "layers", 0, "weights"),
        ("network", "layers", 0, "bias"),
        ("x",),
        ("t",),
    ]
    assert ("dtype",) in [b.path for b in scan(body).blocks]  # without the model's paths it would be read too


def test_an_error_before_a_large_layer_does_not_read_that_layer_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """Layer 0's activation is unknown, so pydantic skips layer 1 (fail_fast): its placeholder is never validated, and
    the answer is pydantic's without putting layer 1's numbers back into the skeleton (no second parse of them)."""
    layers = [{"weights": W.tolist(), "activation": "nope"}, {"weights": rng.standard_normal((64, 64)).tolist()}]
    body = _with(_set(["network", "layers"], layers))
    skeletons: list[frozenset[int]] = []
    original = json_arrays.Scan.skeleton

    def spy(self: json_arrays.Scan, verbatim: frozenset[int] = frozenset(), replays: Any = None) -> Any:
        skeletons.append(verbatim)
        return original(self, verbatim, replays)

    monkeypatch.setattr(json_arrays.Scan, "skeleton", spy)
    result = assert_as_pydantic(body)
    assert result[0] == "error"
    assert skeletons == [frozenset()]  # validated once, nothing put back
