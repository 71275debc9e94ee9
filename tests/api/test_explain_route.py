"""POST /v1/explain over HTTP: the primer's derivation, its numbers equal /v1/backward's, its lines the primer's; limits and bad input.

Values: float64, rtol 1e-12 against /v1/backward and /v1/train-step on the same request (the same engine,
the same order of operations). The primer rounds by hand (two decimals, and truncates y₁ = 0.4869 to 0.48
and z₃⁽¹⁾ = 0.9354 to 0.93); at digits = 2 (significant digits) the service prints the exact numbers, so where
the primer's differ, the test says so: see PRIMER_DIFFERS and the "primer:" comments of PRIMER_LINES.
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from service.schemas.examples import BACKWARD_EXAMPLE, CLASSIFICATION_BACKWARD_EXAMPLE
from tests.engine.test_explain import PRIMER_LINES
from tests.helpers.problems import assert_response_problem

RTOL = 1e-12
SEED = json.loads((Path(__file__).resolve().parents[1] / "data" / "primer-derivation.json").read_text())
SGD = {"name": "sgd", "learning_rate": 0.1, "momentum": 0.9}


def explained(client: TestClient, **extra: Any) -> dict[str, Any]:
    r = client.post("/v1/explain", json={**BACKWARD_EXAMPLE, **extra})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def expected_value(step: dict[str, Any], backward: dict[str, Any], batched: bool, x: np.ndarray) -> float:
    """The number /v1/backward returns for the quantity of ``step`` (a batch's per-point term of ∂E/∂w: δₙₖ zₙₘ)."""
    q, l, n, i = step["quantity"], step.get("layer"), step.get("point"), step["index"]
    layers = backward["layers"]
    if q in ("a", "z", "delta"):
        values = np.array(layers[l][q])
        return float(values[n, i[0]] if batched else values[i[0]])
    if q == "loss":
        assert n is None
        return float(backward["loss"])
    if q == "grad_weights":
        if n is None:
            return float(layers[l]["grad_weights"][i[0]][i[1]])
        z_prev = x if l == 0 else np.array(layers[l - 1]["z"])
        return float(np.array(layers[l]["delta"])[n, i[0]] * z_prev[n, i[1]])
    if q == "grad_bias":
        return float(layers[l]["grad_bias"][i[0]])
    if q == "grad_x":
        grad_x = np.array(backward["grad_x"])
        return float(grad_x[n, i[0]] if batched else grad_x[i[0]])
    raise KeyError(q)


@pytest.mark.parametrize("request_body", [BACKWARD_EXAMPLE, CLASSIFICATION_BACKWARD_EXAMPLE], ids=["primer", "classifier-batch-of-2"])
def test_every_step_value_equals_backwards_quantity(client: TestClient, request_body: dict[str, Any]) -> None:
    backward = client.post("/v1/backward", json=request_body).json()
    r = client.post("/v1/explain", json={**request_body, "render": "none"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["convention"].startswith("W[k][m]: output neuron k ← input m")
    assert body["rendered"] is None
    batched = isinstance(request_body["x"][0], list)
    x = np.atleast_2d(request_body["x"])
    seen: set[str] = set()
    for step in body["steps"]:
        assert all(d in seen for d in step["depends_on"]), step["id"]
        seen.add(step["id"])
        if step["quantity"] == "loss" and step.get("point") is not None:
            continue  # Eₙ of a batch: /v1/backward reduces it; their mean is checked below against E
        np.testing.assert_allclose(step["value"], expected_value(step, backward, batched, x), rtol=RTOL, atol=0, err_msg=step["id"])
    assert {s["quantity"] for s in body["steps"]} >= {"a", "z", "loss", "delta", "grad_weights", "grad_x"}
    if batched:
        per_point = [s["value"] for s in body["steps"] if s["quantity"] == "loss" and s.get("point") is not None]
        np.testing.assert_allclose(np.mean(per_point), backward["loss"], rtol=RTOL)  # reduction mean


def test_the_update_step_equals_train_step_and_loss_after_is_backward_at_the_new_weights(client: TestClient) -> None:
    body = explained(client, optimizer=SGD, render="none")
    step = client.post("/v1/train-step", json={**BACKWARD_EXAMPLE, "optimizer": SGD}).json()
    updates = {s["id"]: s["value"] for s in body["steps"] if s["quantity"] == "update"}
    for l, layer in enumerate(step["network"]["layers"]):
        for (k, m), w in np.ndenumerate(np.array(layer["weights"])):
            np.testing.assert_allclose(updates[f"update/{l}/W/{k}/{m}"], w, rtol=RTOL, atol=0)
    after = client.post("/v1/backward", json={**BACKWARD_EXAMPLE, "network": step["network"]}).json()
    (loss_after,) = [s for s in body["steps"] if s["quantity"] == "loss_after"]
    np.testing.assert_allclose(loss_after["value"], after["loss"], rtol=RTOL)
    assert loss_after["value"] < body["steps"][[s["id"] for s in body["steps"]].index("loss")]["value"]


def by_id(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["id"]: s for s in body["steps"]}


def test_delta_1_and_grad_W2_carry_the_primers_numbers_at_2_digits(client: TestClient) -> None:
    steps = by_id(explained(client, digits=2))
    d3 = steps["delta/0/0/2"]
    assert d3["symbol"] == "\\delta^{(1)}_{3}"
    # primer: tanh'(1.7)[0.3(−0.52) + 0.6(−0.01)]; δ⁽²⁾ = −0.5131 and −0.003658 are −0.51 and −0.0037 at 2 digits
    assert d3["substituted"] == "\\tanh'(1.7)\\,[0.3\\,(-0.51) + 0.6\\,(-0.0037)]"
    assert d3["depends_on"] == ["a/0/0/2", "delta/1/0/0", "delta/1/0/1"]
    assert d3["derivative"] == "\\tanh'(1.7) = 1 - \\tanh^{2}(1.7) = 0.13"  # primer: 1 − (0.93)² = 0.14
    assert steps["delta/0/0/0"]["substituted"] == "\\tanh'(0.5)\\,[0.1\\,(-0.51) + 0.4\\,(-0.0037)]"
    assert steps["delta/0/0/1"]["substituted"] == "\\tanh'(1.1)\\,[0.2\\,(-0.51) + 0.5\\,(-0.0037)]"
    # primer: −0.52 (0.46), −0.52 (0.80), −0.52 (0.93), −0.01 (0.46) …: z₃⁽¹⁾ = 0.9354 is 0.94, not 0.93
    z = ["0.46", "0.80", "0.94"]
    for k, d in enumerate(["-0.51", "-0.0037"]):
        for m in range(3):
            assert steps[f"grad_weights/1/{k}/{m}"]["substituted"] == f"{d}\\,({z[m]})"
    assert len(steps) == 30


@pytest.mark.parametrize("line", PRIMER_LINES)
def test_text_rendering_shows_the_primers_line(client: TestClient, line: str) -> None:
    assert line in explained(client, digits=2, render="text")["rendered"]


def _step_id(symbol: str) -> str:
    """The step of a §5 line: δₖ⁽ˡ⁾ → delta/l−1/0/k−1, ∂E/∂wₖ,ₘ⁽ˡ⁾ → grad_weights/l−1/k−1/m−1."""
    digits = str.maketrans("₀₁₂₃₄₅₆₇₈₉⁰¹²³⁴⁵⁶⁷⁸⁹", "01234567890123456789")
    plain = symbol.translate(digits)
    if (m := re.fullmatch(r"δ(\d)⁽(\d)⁾.*", plain)) is not None:
        return f"delta/{int(m[2]) - 1}/0/{int(m[1]) - 1}"
    m = re.fullmatch(r"∂E/∂w(\d),(\d)⁽(\d)⁾", plain)
    assert m is not None, symbol
    return f"grad_weights/{int(m[3]) - 1}/{int(m[1]) - 1}/{int(m[2]) - 1}"


#: The §5 results the primer prints differently from the exact numbers at 2 significant digits (its hand-rounding).
PRIMER_DIFFERS = {
    "delta/1/0/0": "−0.52 (from y₁ truncated to 0.48); exact −0.51",
    "delta/1/0/1": "−0.01 (two decimals); exact −0.0037",
    "delta/0/0/0": "−0.044 (from −0.52 and 0.14); exact −0.042",
    "delta/0/0/1": "−0.039; exact −0.038",
    "grad_weights/1/1/0": "−0.00 (two decimals); exact −0.0017",
    "grad_weights/1/1/1": "−0.01; exact −0.0029",
    "grad_weights/1/1/2": "−0.01; exact −0.0034",
    "grad_weights/0/0/0": "−0.04 (two decimals); exact −0.042",
    "grad_weights/0/0/1": "−0.09 (from −0.044); exact −0.083",
    "grad_weights/0/1/0": "−0.04; exact −0.038",
    "grad_weights/0/1/1": "−0.08; exact −0.075",
    "grad_weights/0/2/1": "−0.04; exact −0.039",
}


def test_section_5_lines_against_the_primers_own_numbers(client: TestClient) -> None:
    """Each §5 line of seed/primer-derivation.json: the step's value is the exact one, its text the 2-digit rounding of it."""
    body = explained(client, digits=2, render="text")
    steps, text = by_id(body), body["rendered"]
    differs = set()
    for line in (entry for entry in SEED["lines"] if entry["section"].startswith("5")):
        sid = _step_id(line["symbol"])
        np.testing.assert_allclose(steps[sid]["value"], line["exact"], rtol=RTOL, err_msg=sid)
        shown = f"{line['exact']:#.2g}".replace("-", "−").rstrip(".")
        assert f"= {shown}\n" in text, (sid, shown)
        if float(f"{line['exact']:.2g}") != line["primer_value"]:
            differs.add(sid)
    assert differs == set(PRIMER_DIFFERS), differs ^ set(PRIMER_DIFFERS)


def test_renderings(client: TestClient) -> None:
    markdown = explained(client)["rendered"]
    assert "### Propagated error $\\delta^{(1)}$ (eq. 7)" in markdown
    latex = explained(client, render="latex")["rendered"]
    assert latex.startswith("\\begin{align*}")
    assert latex.rstrip().endswith("\\end{align*}")
    mathml = explained(client, render="mathml")["rendered"]
    assert mathml.count('<li class="step"') == 30
    assert 'data-step="delta/0/0/2" data-depends="a/0/0/2 delta/1/0/0 delta/1/0/1"' in mathml
    assert "<math" in mathml
    text4 = explained(client, render="text")["rendered"]
    assert "δ₃⁽¹⁾ = tanh'(1.7)·[0.3·(−0.5131) + 0.6·(−0.003658)] = −0.01952" in text4  # the example, at 4 digits


def test_filters_keep_only_what_was_asked(client: TestClient) -> None:
    steps = explained(client, quantities=["delta"], layers=[0], render="none")["steps"]
    assert [s["id"] for s in steps] == ["delta/0/0/0", "delta/0/0/1", "delta/0/0/2"]
    assert all(s["depends_on"] == [] for s in steps)  # dependencies outside the selection are left out
    batch = {**CLASSIFICATION_BACKWARD_EXAMPLE, "points": [1], "quantities": ["a", "loss"], "render": "none"}
    ids = [s["id"] for s in client.post("/v1/explain", json=batch).json()["steps"]]
    assert ids == ["a/0/1/0", "a/0/1/1", "a/0/1/2", "a/1/1/0", "a/1/1/1", "a/1/1/2", "loss/1", "loss"]
    after = explained(client, optimizer=SGD, quantities=["update", "loss_after"], render="none")["steps"]
    assert len(after) == 6 + 6 + 1


def big_network(sizes: list[int]) -> dict[str, Any]:
    rng = np.random.default_rng(16)
    layers = [{"weights": rng.normal(0, 0.3, (sizes[i + 1], sizes[i])).tolist(), "bias": [0.0] * sizes[i + 1], "activation": "tanh"}
              for i in range(len(sizes) - 1)]  # fmt: skip
    return {"network": {"layers": layers}, "x": [0.5] * sizes[0], "t": [0.1] * sizes[-1]}


def test_the_default_limit_takes_a_16_16_16_16_network_with_a_step(client: TestClient) -> None:
    r = client.post("/v1/explain", json={**big_network([16, 16, 16, 16]), "optimizer": SGD, "render": "mathml"})
    assert r.status_code == 200, r.text[:500]
    assert len(r.json()["steps"]) == 1794


def test_over_the_step_limit_is_a_422_that_counts_and_names_the_filters(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    import service.handlers.explain as handler

    def no_steps(*args: object, **kwargs: object) -> None:
        raise AssertionError("a step was built")

    monkeypatch.setattr(handler, "engine_explain", no_steps)  # the refusal comes before any step is built
    body = {**big_network([16, 16, 16, 16, 16]), "optimizer": SGD}
    problem = assert_response_problem(
        client.post("/v1/explain", json=body), 422, "", ["would need 2,386 steps", "max_explain_steps is 1,794"]
    )
    assert problem["type"].endswith("limit-exceeded")
    detail = problem["errors"][0]["detail"]
    assert 'Filters that bring it under: "quantities": ["update"] (1,088 steps), "quantities": ["grad_weights"] (1,024 steps)' in detail
    assert '"layers": [' in detail
    monkeypatch.undo()
    assert client.post("/v1/explain", json={**body, "quantities": ["grad_weights"], "render": "none"}).status_code == 200


def test_no_single_filter_is_said_so(client: TestClient) -> None:
    body = {**big_network([64, 64, 64]), "quantities": ["grad_weights"], "render": "none"}  # each layer's 4,096 weights
    problem = assert_response_problem(client.post("/v1/explain", json=body), 422, "", ["No single filter brings it under"])
    assert "max_explain_steps" in problem["detail"]


@pytest.mark.parametrize(
    ("change", "pointer", "words"),
    [
        ({"digits": 0}, "/digits", ["greater than or equal to 1"]),
        ({"digits": 18}, "/digits", ["less than or equal to 17"]),
        ({"digits": 2.5}, "/digits", ["integer"]),
        ({"render": "html"}, "/render", ["markdown"]),
        ({"reduction": "none"}, "/reduction", ["sum"]),
        ({"quantities": ["y"]}, "/quantities/0", ["grad_weights"]),
        ({"quantities": ["update"]}, "/quantities/0", ["needs an optimizer"]),
        ({"optimizer_state": {"step": 0}}, "/optimizer_state", ["only with an optimizer"]),
        ({"layers": [2]}, "/layers/0", ["2 layers"]),
        ({"points": [1]}, "/points/0", ["1 data points"]),
        ({"layers": []}, "/layers", ["empty"]),
        ({"include": ["a"]}, "/include", ["unknown field"]),
        ({"response_encoding": "base64"}, "/response_encoding", ["unknown field"]),
        ({"colour": "red"}, "/colour", ["unknown field"]),
        ({"optimizer": {"name": "sgdx"}}, "/optimizer", ["sgd"]),
        ({"loss": "nope"}, "/loss", []),
        ({"t": [1.0]}, "/t", ["needs 2"]),
        ({"x": [1.0, "abc"]}, "/x/1", ["number"]),
        ({"chain": "full"}, "/chain", ["compact", "factors"]),
        ({"chain": True}, "/chain", []),
    ],
)
def test_bad_input_is_a_problem_pointing_at_the_field(client: TestClient, change: dict[str, Any], pointer: str, words: list[str]) -> None:
    assert_response_problem(client.post("/v1/explain", json={**BACKWARD_EXAMPLE, **change}), 422, pointer, words)


def test_bad_network_and_non_finite_numbers(client: TestClient) -> None:
    layers = BACKWARD_EXAMPLE["network"]["layers"]
    wrong = {"layers": [layers[0], {**layers[1], "weights": [[0.1, 0.2], [0.3, 0.4]]}]}
    assert_response_problem(
        client.post("/v1/explain", json={**BACKWARD_EXAMPLE, "network": wrong}), 422, "/network/layers/1/weights", ["3 columns"]
    )
    unknown = {"layers": [{**layers[0], "activation": "tanhh"}, layers[1]]}
    assert_response_problem(client.post("/v1/explain", json={**BACKWARD_EXAMPLE, "network": unknown}), 422, "/network/layers/0/activation")
    huge = b'{"network": {"layers": [{"weights": [[1e400, 0.2]]}]}, "x": [1.0, 2.0], "t": [1.0]}'
    r = client.post("/v1/explain", content=huge, headers={"content-type": "application/json"})
    assert_response_problem(r, 422, "/network/layers/0/weights/0/0", ["finite"])
    overflow = {"layers": [{"weights": [[300.0, 300.0]]}, {"weights": [[1e300]]}]}
    r = client.post("/v1/explain", json={"network": overflow, "x": [1.0, 2.0], "t": [1.0]})
    problem = assert_response_problem(r, 422, "/loss", ["not finite"])
    assert problem["type"].endswith("non-finite-result")


# The text defects of issue 22, each gone (render "text", what every client's `rendered` is).


def text_of(client: TestClient, body: dict[str, Any]) -> str:
    r = client.post("/v1/explain", json={**body, "render": "text"})
    assert r.status_code == 200, r.text
    rendered: str = r.json()["rendered"]
    return rendered


CLASSIFIER = {**CLASSIFICATION_BACKWARD_EXAMPLE, "x": CLASSIFICATION_BACKWARD_EXAMPLE["x"][0], "t": CLASSIFICATION_BACKWARD_EXAMPLE["t"][0]}


def test_no_product_dot_after_a_minus_no_doubled_parentheses_no_repeated_value(client: TestClient) -> None:
    text = text_of(client, CLASSIFIER)
    assert "E = −[" in text  # −Σ t log y: the thin space after the minus is no product (was E = −·[…])
    assert "−·" not in text
    assert "((" not in text  # relu(−0.17): max(−0.1700, 0), not max((−0.1700), 0)
    assert "max(−" in text
    for line in text.splitlines():
        sides = [s.strip() for s in line.split(" = ")]
        assert all(a != b for a, b in itertools.pairwise(sides)), f"a value repeated: {line}"  # not ∂E/∂b = 0.5325 = 0.5325


def test_the_output_deltas_formula_names_its_own_output(client: TestClient) -> None:
    steps = {s["id"]: s for s in explained(client)["steps"]}
    assert steps["delta/1/0/0"]["formula"] == "(y_{1} - t_{1})"  # not (y_k − t_k)
    assert steps["delta/1/0/1"]["formula"] == "(y_{2} - t_{2})"


def test_at_9_digits_no_trailing_zeros_and_an_output_beside_its_target_shows_their_difference(client: TestClient) -> None:
    mazur = {
        "network": {
            "layers": [
                {"weights": [[0.15, 0.2], [0.25, 0.3]], "bias": [0.35, 0.35], "activation": "sigmoid"},
                {"weights": [[0.4, 0.45], [0.5, 0.55]], "bias": [0.6, 0.6], "activation": "sigmoid"},
            ]
        },
        "x": [0.05, 0.1],
        "t": [0.01, 0.99],
        "digits": 9,
    }
    text = text_of(client, mazur)
    assert "= 0.3925\n" in text.replace("\n", "\\n") or "= 0.3925" in text  # a₂⁽¹⁾ beside the sent 0.3775: not 0.392500000
    assert "0.392500000" not in text
    near = {**BACKWARD_EXAMPLE, "t": [1.0, 1.1463418161461782 + 7.566e-6]}
    line = next(l for l in text_of(client, near).splitlines() if l.strip().startswith("δ₂⁽²⁾"))
    assert "(1.146 − 1.146" not in line  # (1.000 − 1) = −7.566×10⁻⁶ read as wrong
    assert "1.14634" in line


def test_chain_factors_on_the_wire(client: TestClient) -> None:
    steps = {s["id"]: s for s in explained(client, chain="factors")["steps"]}
    factors = steps["grad_weights/1/0/0"]["factors"]
    assert [(f["of"], f["wrt"]) for f in factors] == [("loss", "z/1/0/0"), ("z/1/0/0", "a/1/0/0"), ("a/1/0/0", "w/1/0/0")]
    hidden = steps["grad_weights/0/0/0"]["factors"][0]
    assert [[g["wrt"] for g in t["factors"]] for t in hidden["terms"]] == [["a/1/0/0", "z/0/0/0"], ["a/1/0/1", "z/0/0/0"]]
    assert "factors" not in explained(client)["steps"][0]  # compact: as before
    updated = explained(client, optimizer={"name": "adam", "learning_rate": 0.1}, quantities=["update"])["steps"][0]
    assert [p["name"] for p in updated["parts"]] == ["exp_avg", "exp_avg_sq", "bias_corrected_exp_avg", "bias_corrected_exp_avg_sq"]


def test_a_factor_that_cannot_be_written_is_a_422_that_names_the_option(client: TestClient) -> None:
    """An output at exactly 0 makes −t/y infinite: chain factors refuses it (compact writes the fused y − t)."""
    zero = {
        "network": {"layers": [{"weights": [[1.0, 0.0], [-1000.0, 0.0]], "activation": "softmax"}]},
        "x": [1.0, 0.0],
        "t": [0.0, 1.0],
        "loss": "categorical_cross_entropy",
    }
    assert client.post("/v1/explain", json=zero).status_code == 200
    assert_response_problem(client.post("/v1/explain", json={**zero, "chain": "factors"}), 422, "/chain", ["chain compact"])
