"""service.client against a real server process: arrays in and out, typed errors, sync and async alike."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import numpy as np
import pytest

from service.client import AsyncClient, BackwardResult, Client, Layer, ProblemError
from service.schemas.examples import CLASSIFICATION_BACKWARD_EXAMPLE
from tests.server import ROOT, ServerProcess

pytestmark = pytest.mark.slow  # the quick loop, `pytest -m "not slow"`, leaves it out

W1 = np.array([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]])
W2 = np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]])
PRIMER = [Layer(W1, activation="tanh"), Layer(W2)]
X, T = np.array([1.0, 2.0]), np.array([1.0, 1.15])
RTOL = 1e-12  # float64 on both sides; the JSON round trip keeps every digit


def check_primer(result: BackwardResult, primer: dict[str, Any]) -> None:
    assert isinstance(result.layers[1].grad_weights, np.ndarray)
    assert result.layers[1].grad_weights.shape == (2, 3)
    assert result.layers[1].grad_weights[0, 0] == pytest.approx(-0.23709648991681476, rel=RTOL)
    assert result.loss == pytest.approx(0.13162492755076416, rel=RTOL)
    assert result.layers[0].grad_bias is None


@pytest.fixture
def client(server_process: ServerProcess) -> Any:
    with Client(server_process.url) as c:
        yield c


def test_forward_and_backward_return_the_primer_arrays(client: Client, primer: dict[str, Any]) -> None:
    forward = client.forward(PRIMER, X)
    np.testing.assert_allclose(forward.layers[0].a, [0.5, 1.1, 1.7], rtol=RTOL)
    np.testing.assert_allclose(forward.y, [0.4869342412590566, 1.1463418161461782], rtol=RTOL)
    check_primer(client.backward(PRIMER, X, T), primer)


def test_non_contiguous_and_wire_form_inputs_give_the_same_answer(client: Client) -> None:
    transposed = [Layer(np.asfortranarray(W1), activation="tanh"), Layer(W2.T.copy().T)]  # not C-contiguous
    wire = {"layers": [{"weights": W1.tolist(), "activation": "tanh"}, {"weights": W2.tolist()}]}
    a, b = client.backward(transposed, X, T), client.backward(wire, X.tolist(), T.tolist())
    np.testing.assert_array_equal(a.layers[0].grad_weights, b.layers[0].grad_weights)


def test_classification_batch_with_biases(client: Client) -> None:
    ex = CLASSIFICATION_BACKWARD_EXAMPLE
    layers = [Layer(np.array(l["weights"]), np.array(l["bias"]), l["activation"]) for l in ex["network"]["layers"]]
    result = client.backward(layers, np.array(ex["x"]), np.array(ex["t"]), loss="categorical_cross_entropy", reduction="mean")
    assert result.y.shape == (2, 3)
    np.testing.assert_allclose(result.y.sum(axis=1), 1.0, rtol=1e-12)  # softmax rows
    np.testing.assert_allclose(result.layers[1].delta, (result.y - np.array(ex["t"])) / 2, rtol=1e-12)  # δ⁽ᴸ⁾ = (y − t)/N, mean
    assert result.layers[1].grad_bias is not None
    assert result.layers[1].grad_bias.shape == (3,)


def test_train_step_state_goes_round_trip(client: Client) -> None:
    sgd = {"name": "sgd", "learning_rate": 0.1}
    first = client.train_step(PRIMER, X, T, optimizer=sgd)
    np.testing.assert_allclose(first.network[1].weights, W2 - 0.1 * first.layers[1].grad_weights, rtol=RTOL)
    second = client.train_step(first.network, X, T, optimizer=sgd, optimizer_state=first.optimizer_state)
    assert second.loss < first.loss
    assert second.optimizer_state["step"] == first.optimizer_state["step"] + 1


def test_probes_and_metrics(client: Client) -> None:
    assert client.livez() is True
    assert client.readyz() is True
    assert 'gradient_http_requests_total{method="GET",route="/livez",status="200"}' in client.metrics()


def test_a_bad_request_raises_problem_error_with_pointers(client: Client) -> None:
    bad = [Layer(W1, activation="tanh"), Layer(np.ones((2, 2)))]  # layer 1 needs 3 columns
    with pytest.raises(ProblemError) as caught:
        client.backward(bad, X, T)
    problem = caught.value
    assert problem.status == 422
    assert problem.type == "urn:gradient-service:problem:invalid-request"
    assert problem.title == "Invalid request"
    assert [e.pointer for e in problem.errors] == ["/network/layers/1/weights"]
    assert "3 columns" in problem.errors[0].detail
    assert str(problem).startswith("422 Invalid request: /network/layers/1/weights")


def test_an_unknown_name_raises_problem_error(client: Client) -> None:
    with pytest.raises(ProblemError) as caught:
        client.backward(PRIMER, X, T, loss="hinge")
    assert caught.value.status == 422
    assert caught.value.errors[0].pointer == "/loss"


def test_async_client_has_the_same_methods(server_process: ServerProcess, primer: dict[str, Any]) -> None:
    async def run() -> tuple[BackwardResult, bool, ProblemError]:
        async with AsyncClient(server_process.url) as client:
            result, ready = await asyncio.gather(client.backward(PRIMER, X, T), client.readyz())
            with pytest.raises(ProblemError) as caught:
                await client.forward(PRIMER, np.ones(3))
            return result, ready, caught.value

    result, ready, problem = asyncio.run(run())
    check_primer(result, primer)
    assert ready is True
    assert problem.status == 422
    assert problem.errors[0].pointer == "/x"


def test_the_readme_client_example_runs(server_process: ServerProcess, capsys: pytest.CaptureFixture[str]) -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Client", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    exec(code.replace("http://127.0.0.1:8000", server_process.url), {})
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("0.1316249275507")
    assert printed[-1] == "422 /x"


def test_an_error_that_is_not_problem_json_still_raises_problem_error() -> None:
    def proxy(request: httpx.Request) -> httpx.Response:  # e.g. a load balancer's own error page
        return httpx.Response(502, text="<html>Bad Gateway</html>")

    with (
        Client(http=httpx.Client(base_url="http://lb", transport=httpx.MockTransport(proxy))) as client,
        pytest.raises(ProblemError) as caught,
    ):
        client.livez()
    assert (caught.value.status, caught.value.type, caught.value.title) == (502, "about:blank", "Bad Gateway")
    assert "Bad Gateway" in caught.value.detail
    assert caught.value.errors == []


def test_readyz_is_false_while_draining() -> None:
    def draining(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, json={"status": "draining"})

    with Client(http=httpx.Client(base_url="http://api", transport=httpx.MockTransport(draining))) as client:
        assert client.readyz() is False
