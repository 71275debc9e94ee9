"""service.client's newer methods against the session's real server process: train (JSON and NDJSON stream),
gradcheck, networks/init, the catalogs, limits, backward's extras, loss objects, reduction none and regularization.

Oracles are NumPy formulas written here (the Jacobian of the primer network, Huber's definition, the L1/L2
penalty) and the identities between endpoints (a 1-epoch full-batch train is one train-step; per-example
gradients sum to the batch gradient; the stream's events add up to the JSON result).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pytest

from service.client import (
    AsyncClient,
    CatalogEntry,
    Client,
    EpochEvent,
    GradcheckResult,
    Layer,
    Limits,
    ProblemError,
    TrainResult,
)
from service.schemas.training import TRAIN_EXAMPLE
from tests.server import ServerProcess

pytestmark = pytest.mark.slow  # the quick loop, `pytest -m "not slow"`, leaves it out

W1 = np.array([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]])
W2 = np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]])
PRIMER = [Layer(W1, activation="tanh"), Layer(W2)]
XS = np.array([[1.0, 2.0], [0.5, -1.0], [-1.5, 0.25]])  # a batch of 3 points
TS = np.array([[1.0, 1.15], [0.2, -0.3], [-0.5, 0.1]])
DATA_X, DATA_T = np.array(TRAIN_EXAMPLE["x"]), np.array(TRAIN_EXAMPLE["t"])
SGD = {"name": "sgd", "learning_rate": 0.1}
RTOL = 1e-12  # float64 on both sides of the wire, and the oracles are the same formulas in another order


@pytest.fixture
def api(server_process: ServerProcess) -> Iterator[Client]:
    with Client(server_process.url) as c:
        yield c


def primer_jacobian(x: np.ndarray) -> np.ndarray:
    """∂y/∂x of y = W⁽²⁾ tanh(W⁽¹⁾x): W⁽²⁾ diag(1 − tanh²(W⁽¹⁾x)) W⁽¹⁾."""
    return W2 @ np.diag(1 - np.tanh(W1 @ x) ** 2) @ W1


def test_per_example_gradients_and_input_jacobian(api: Client) -> None:
    result = api.backward(PRIMER, XS, TS, per_example_gradients=True, input_jacobian=True)
    for layer in result.layers:
        assert layer.per_example_grad_weights is not None
        assert layer.per_example_grad_norm is not None
        assert layer.per_example_grad_weights.shape == (3, *layer.grad_weights.shape)
        np.testing.assert_allclose(layer.per_example_grad_weights.sum(axis=0), layer.grad_weights, rtol=RTOL, atol=1e-15)
        np.testing.assert_allclose(layer.per_example_grad_norm, np.linalg.norm(layer.per_example_grad_weights, axis=(1, 2)), rtol=RTOL)
        assert layer.per_example_grad_bias is None  # no biases
    assert result.per_example_grad_norm is not None
    layer_norms = np.stack([layer.per_example_grad_norm for layer in result.layers if layer.per_example_grad_norm is not None])
    np.testing.assert_allclose(result.per_example_grad_norm, np.sqrt((layer_norms**2).sum(axis=0)), rtol=RTOL)
    assert result.input_jacobian is not None
    oracle = np.stack([primer_jacobian(x) for x in XS])
    np.testing.assert_allclose(result.input_jacobian, oracle, rtol=RTOL)
    assert not np.allclose(result.input_jacobian, np.stack([W2 @ W1] * 3), rtol=1e-3)  # the check sees a missing h'(a)
    plain = api.backward(PRIMER, XS, TS)
    assert plain.input_jacobian is None
    assert plain.per_example_grad_norm is None
    assert plain.layers[0].per_example_grad_weights is None


def test_reduction_none_gives_per_point_losses_and_the_gradients_of_their_sum(api: Client) -> None:
    none, summed = api.backward(PRIMER, XS, TS, reduction="none"), api.backward(PRIMER, XS, TS)
    assert isinstance(none.loss, np.ndarray)
    assert none.loss.shape == (3,)
    np.testing.assert_allclose(none.loss, 0.5 * ((none.y - TS) ** 2).sum(axis=1), rtol=RTOL)
    assert none.loss.sum() == pytest.approx(summed.loss, rel=RTOL)
    np.testing.assert_allclose(none.layers[0].grad_weights, summed.layers[0].grad_weights, rtol=RTOL)
    one = api.backward(PRIMER, XS[0], TS[0], reduction="none")
    assert isinstance(one.loss, float)  # one point: one Eₙ, a number as x is a vector


def test_a_loss_object_with_parameters(api: Client) -> None:
    delta = 0.1
    result = api.backward(PRIMER, XS[0], TS[0], loss={"name": "huber", "delta": delta})
    d = np.abs(result.y - TS[0])  # [0.513, 0.0037]: one entry on each side of δ
    oracle = np.where(d < delta, 0.5 * d**2, delta * (d - 0.5 * delta)).mean()  # torch.nn.HuberLoss, mean over outputs
    assert result.loss == pytest.approx(oracle, rel=RTOL)
    assert result.loss != pytest.approx(np.mean(0.5 * d**2), rel=1e-3)  # the quadratic alone would fail the check


def test_regularization_on_train_step_and_train(api: Client) -> None:
    reg = {"l1": 0.01, "l2": 0.1}
    step = api.train_step(PRIMER, XS, TS, optimizer=SGD, regularization=reg)
    plain = api.backward(PRIMER, XS, TS)
    penalty = sum(reg["l1"] * np.abs(W).sum() + reg["l2"] / 2 * (W**2).sum() for W in (W1, W2))
    assert step.penalty == pytest.approx(penalty, rel=RTOL)
    assert step.loss == pytest.approx(float(plain.loss) + penalty, rel=RTOL)
    for layer, base, W in zip(step.layers, plain.layers, (W1, W2), strict=True):
        np.testing.assert_allclose(layer.grad_weights, base.grad_weights + reg["l1"] * np.sign(W) + reg["l2"] * W, rtol=RTOL)
    # one epoch over the whole batch is exactly that step
    trained = api.train(PRIMER, XS, TS, optimizer=SGD, regularization=reg, epochs=1)
    np.testing.assert_allclose(trained.losses, [step.loss], rtol=RTOL)
    for a, b in zip(trained.network, step.network, strict=True):
        np.testing.assert_allclose(a.weights, b.weights, rtol=RTOL)
    assert trained.optimizer_state["step"] == 1


def test_gradcheck_passes_and_fails_at_zero_tolerance(api: Client) -> None:
    result = api.gradcheck(PRIMER, XS, TS)
    assert isinstance(result, GradcheckResult)
    assert result.passed
    assert result.x.passed
    assert all(layer.weights.passed for layer in result.layers)
    assert [layer.bias for layer in result.layers] == [None, None]
    assert 0 < result.layers[0].weights.max_abs_error < 1e-8
    strict = api.gradcheck(PRIMER, XS, TS, atol=0.0, rtol=0.0)  # finite differences are never exact
    assert not strict.passed


def test_init_network_then_train_then_backward_with_the_returned_networks(api: Client) -> None:
    network = api.init_network([2, 4, 2], ["tanh", "linear"], seed=3)
    assert [(layer.weights.shape, np.shape(layer.bias), layer.activation) for layer in network] == [
        ((4, 2), (4,), "tanh"),
        ((2, 4), (2,), "linear"),
    ]
    assert all(isinstance(layer.weights, np.ndarray) for layer in network)
    again, other = api.init_network([2, 4, 2], ["tanh", "linear"], seed=3), api.init_network([2, 4, 2], ["tanh", "linear"], seed=4)
    np.testing.assert_array_equal(again[0].weights, network[0].weights)
    assert not np.array_equal(other[0].weights, network[0].weights)

    result = api.train(network, DATA_X, DATA_T, optimizer={"name": "adam", "learning_rate": 0.05}, epochs=40, batch_size=2)
    assert isinstance(result, TrainResult)
    assert result.losses.shape == (80,)
    assert result.epoch_losses.shape == (40,)
    before, after = api.backward(network, DATA_X, DATA_T), api.backward(result.network, DATA_X, DATA_T)
    assert float(after.loss) < 0.5 * float(before.loss)
    more = api.train(result.network, DATA_X, DATA_T, optimizer={"name": "adam"}, optimizer_state=result.optimizer_state, epochs=1)
    assert more.optimizer_state["step"] == 81


def test_init_network_error_points_at_the_field(api: Client) -> None:
    with pytest.raises(ProblemError) as caught:
        api.init_network([2, 3, 2], ["tanh"])
    assert caught.value.status == 422
    assert [e.pointer for e in caught.value.errors] == ["/activations"]
    assert "one per layer" in caught.value.errors[0].detail


def test_train_stream_yields_each_epoch_then_the_json_result(api: Client) -> None:
    kwargs: dict[str, Any] = {"optimizer": SGD, "epochs": 3, "batch_size": 3, "seed": 7}
    items = list(api.train_stream(PRIMER, DATA_X, DATA_T, **kwargs))
    whole = api.train(PRIMER, DATA_X, DATA_T, **kwargs)
    *events, result = items
    assert [type(e) for e in events] == [EpochEvent] * 3
    assert isinstance(result, TrainResult)
    assert [(e.epoch, e.epochs) for e in events] == [(1, 3), (2, 3), (3, 3)]
    np.testing.assert_array_equal(np.concatenate([e.losses for e in events if isinstance(e, EpochEvent)]), whole.losses)
    np.testing.assert_array_equal([e.loss for e in events if isinstance(e, EpochEvent)], whole.epoch_losses)
    np.testing.assert_array_equal(result.network[1].weights, whole.network[1].weights)


def test_train_stream_errors_raise_problem_error(api: Client) -> None:
    with pytest.raises(ProblemError) as caught:
        next(api.train_stream(PRIMER, DATA_X, DATA_T, optimizer=SGD, epochs=10**6))
    assert caught.value.status == 422
    assert [e.pointer for e in caught.value.errors] == ["/epochs"]


def test_an_error_line_after_the_first_epoch_raises_after_the_epoch() -> None:
    lines = b'{"event":"epoch","epoch":1,"epochs":2,"loss":0.5,"losses":[0.5]}\n' + (
        b'{"event":"error","type":"urn:gradient-service:problem:numerical-error","title":"Numerical error",'
        b'"status":422,"detail":"overflow","errors":[]}\n'
    )

    def streaming(request: httpx.Request) -> httpx.Response:
        assert request.headers["accept"] == "application/x-ndjson"
        return httpx.Response(200, content=lines, headers={"content-type": "application/x-ndjson"})

    with Client(http=httpx.Client(base_url="http://api", transport=httpx.MockTransport(streaming))) as client:
        events = client.train_stream(PRIMER, DATA_X, DATA_T, optimizer=SGD, epochs=2)
        first = next(events)
        assert isinstance(first, EpochEvent)
        assert first.loss == 0.5
        with pytest.raises(ProblemError) as caught:
            next(events)
    assert (caught.value.status, caught.value.title, caught.value.detail) == (422, "Numerical error", "overflow")


def test_catalogs_and_limits(api: Client, server_process: ServerProcess) -> None:
    names = {kind: [e.name for e in getattr(api, kind)()] for kind in ("activations", "losses", "optimizers", "initializers")}
    assert "tanh" in names["activations"]
    assert "huber" in names["losses"]
    assert "adam" in names["optimizers"]
    assert "glorot_uniform" in names["initializers"]
    huber = next(e for e in api.losses() if e.name == "huber")
    assert isinstance(huber, CatalogEntry)
    assert [(p.name, p.default) for p in huber.parameters] == [("delta", 1.0)]
    limits = api.limits()
    assert isinstance(limits, Limits)
    assert limits.__dict__ == httpx.get(f"{server_process.url}/v1/limits").json()
    assert limits.max_train_steps == 1000


def test_async_client_has_the_new_methods(server_process: ServerProcess, api: Client) -> None:
    async def run() -> tuple[list[Any], list[Any], ProblemError]:
        async with AsyncClient(server_process.url) as client:
            network = await client.init_network([2, 3, 2], ["tanh", "linear"], seed=1)
            results = await asyncio.gather(
                client.train(network, DATA_X, DATA_T, optimizer=SGD, epochs=2),
                client.gradcheck(PRIMER, XS, TS),
                client.backward(PRIMER, XS, TS, per_example_gradients=True, input_jacobian=True, reduction="none"),
                client.train_step(PRIMER, XS, TS, optimizer=SGD, regularization={"l2": 0.1}),
                client.activations(),
                client.losses(),
                client.optimizers(),
                client.initializers(),
                client.limits(),
            )
            streamed = [item async for item in client.train_stream(network, DATA_X, DATA_T, optimizer=SGD, epochs=2)]
            with pytest.raises(ProblemError) as caught:
                _ = [item async for item in client.train_stream(network, DATA_X, DATA_T[:2], optimizer=SGD)]
            return [network, *results], streamed, caught.value

    (network, train, check, backward, step, *catalogs, limits), streamed, problem = asyncio.run(run())
    np.testing.assert_array_equal(network[0].weights, api.init_network([2, 3, 2], ["tanh", "linear"], seed=1)[0].weights)
    sync_train = api.train(network, DATA_X, DATA_T, optimizer=SGD, epochs=2)
    np.testing.assert_array_equal(train.losses, sync_train.losses)
    assert check == api.gradcheck(PRIMER, XS, TS)
    np.testing.assert_allclose(backward.input_jacobian, np.stack([primer_jacobian(x) for x in XS]), rtol=RTOL)
    np.testing.assert_array_equal(backward.loss, api.backward(PRIMER, XS, TS, reduction="none").loss)
    assert step.penalty == pytest.approx(0.05 * ((W1**2).sum() + (W2**2).sum()), rel=RTOL)
    assert catalogs == [api.activations(), api.losses(), api.optimizers(), api.initializers()]
    assert limits == api.limits()
    assert [type(item) for item in streamed] == [EpochEvent, EpochEvent, TrainResult]
    np.testing.assert_array_equal(streamed[-1].losses, sync_train.losses)
    assert problem.status == 422
    assert problem.errors[0].pointer == "/t"
