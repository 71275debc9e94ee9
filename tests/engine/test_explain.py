"""explain() on the primer's Figure-6 example: the engine's numbers, and the primer's lines (§5.1–§5.2).

Values: float64, rtol 1e-12 against the engine's own backward (they are its numbers).
The primer rounds by hand to two decimals and twice truncates (y₁ = 0.4869 printed
0.48, z₃⁽¹⁾ = 0.9354 printed 0.93), so at digits = 2 (significant digits, computed
values rounded) the lines below carry the exact numbers where its differ; each such
place is marked "primer:".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from service.engine import backward, get_loss
from service.engine.explain import Selection, count_steps, explain, render, sizes_of
from service.engine.optimizers import OptimizerState, get_optimizer
from service.engine.training import train_step
from tests.engine.explain_helpers import assert_dependencies_come_first, assert_values, primer_network


@dataclass
class Result:
    """The engine's backward, with the names :func:`expected` reads."""

    x: np.ndarray
    a: list[np.ndarray]
    z: list[np.ndarray]
    delta: list[np.ndarray]
    grad_W: list[np.ndarray]
    grad_b: list[np.ndarray | None]
    grad_x: np.ndarray
    loss: np.ndarray
    per_point: np.ndarray


def engine_result(layers, x, t, loss, reduction="sum"):  # type: ignore[no-untyped-def]
    trace, grads = backward(layers, x, t, loss, reduction)
    return Result(x, trace.a, trace.z, grads.delta, grads.grad_W, grads.grad_b, grads.grad_x, grads.loss, grads.per_point)


def test_every_step_value_is_the_engines_number() -> None:
    layers, x, t = primer_network()
    loss = get_loss("half_sse")
    steps = explain(layers, x, t, loss)
    assert_values(steps, engine_result(layers, x, t, loss), rtol=1e-12, atol=0)
    assert_dependencies_come_first(steps)
    assert len(steps) == count_steps(sizes_of(layers), [False, False], 1) == 30


def by_id(digits: int = 2) -> dict[str, object]:
    layers, x, t = primer_network()
    return {s.id: s for s in explain(layers, x, t, get_loss("half_sse"), digits=digits)}


def test_delta_of_layer_1_carries_the_primers_numbers() -> None:
    steps = by_id()
    d3 = steps["delta/0/0/2"]
    assert d3.symbol == "\\delta^{(1)}_{3}"  # type: ignore[attr-defined]
    assert d3.formula == "\\dot{h}^{(1)}(a^{(1)}_{3}) \\sum_{k} w^{(2)}_{k,3}\\,\\delta^{(2)}_{k}"  # type: ignore[attr-defined]
    # primer: tanh(1.7)[0.3(−0.52) + 0.6(−0.01)]: δ⁽²⁾ are −0.5131 and −0.003658, at 2 digits −0.51 and −0.0037
    assert d3.substituted == "\\tanh'(1.7)\\,[0.3\\,(-0.51) + 0.6\\,(-0.0037)]"  # type: ignore[attr-defined]
    assert d3.derivative == "\\tanh'(1.7) = 1 - \\tanh^{2}(1.7) = 0.13"  # type: ignore[attr-defined]  # primer: 0.14 (from 0.93²)
    assert d3.depends_on == ("a/0/0/2", "delta/1/0/0", "delta/1/0/1")  # type: ignore[attr-defined]
    assert steps["delta/0/0/0"].substituted == "\\tanh'(0.5)\\,[0.1\\,(-0.51) + 0.4\\,(-0.0037)]"  # type: ignore[attr-defined]
    assert steps["delta/0/0/1"].substituted == "\\tanh'(1.1)\\,[0.2\\,(-0.51) + 0.5\\,(-0.0037)]"  # type: ignore[attr-defined]


def test_gradient_of_W2_carries_the_primers_numbers() -> None:
    steps = by_id()
    # primer: −0.52 (0.46), −0.52 (0.80), −0.52 (0.93), −0.01 (…): δ₁⁽²⁾ = −0.51, δ₂⁽²⁾ = −0.0037, z₃⁽¹⁾ = 0.94
    want = {
        (0, 0): "-0.51\\,(0.46)",
        (0, 1): "-0.51\\,(0.80)",
        (0, 2): "-0.51\\,(0.94)",
        (1, 0): "-0.0037\\,(0.46)",
        (1, 1): "-0.0037\\,(0.80)",
        (1, 2): "-0.0037\\,(0.94)",
    }
    for (k, m), substituted in want.items():
        step = steps[f"grad_weights/1/{k}/{m}"]
        assert step.substituted == substituted  # type: ignore[attr-defined]
        assert step.symbol == f"\\frac{{\\partial E}}{{\\partial w^{{(2)}}_{{{k + 1},{m + 1}}}}}"  # type: ignore[attr-defined]
        assert step.depends_on == (f"delta/1/0/{k}", f"z/0/0/{m}")  # type: ignore[attr-defined]


#: The primer's §5 lines as the text rendering prints them at digits = 2.
PRIMER_LINES = [
    "δ₁⁽²⁾ = (0.49 − 1) = −0.51",  # primer: (0.48 − 1) = −0.52 (y₁ = 0.4869 truncated)
    "δ₂⁽²⁾ = (1.1463 − 1.15) = −0.0037",  # primer: (1.14 − 1.15) = −0.01; y₂ beside t₂ gets the digits that show their difference
    "δ₁⁽¹⁾ = tanh'(0.5)·[0.1·(−0.51) + 0.4·(−0.0037)] = −0.042",  # primer: … = −0.044
    "δ₂⁽¹⁾ = tanh'(1.1)·[0.2·(−0.51) + 0.5·(−0.0037)] = −0.038",  # primer: … = −0.039
    "δ₃⁽¹⁾ = tanh'(1.7)·[0.3·(−0.51) + 0.6·(−0.0037)] = −0.020",
    "tanh'(1.7) = 1 − tanh²(1.7) = 0.13",  # §4.2; primer: 1 − (0.93)² = 0.14
    "∂E/∂w₁,₁⁽²⁾ = −0.51·(0.46) = −0.24",  # primer: −0.52 (0.46) = −0.24
    "∂E/∂w₁,₂⁽²⁾ = −0.51·(0.80) = −0.41",
    "∂E/∂w₁,₃⁽²⁾ = −0.51·(0.94) = −0.48",  # primer: −0.52 (0.93)
    "∂E/∂w₂,₁⁽²⁾ = −0.0037·(0.46) = −0.0017",  # primer: −0.01 (0.46) = −0.00
    "∂E/∂w₂,₂⁽²⁾ = −0.0037·(0.80) = −0.0029",  # primer: = −0.01
    "∂E/∂w₂,₃⁽²⁾ = −0.0037·(0.94) = −0.0034",  # primer: = −0.01
    "∂E/∂w₁,₁⁽¹⁾ = −0.042·(1) = −0.042",  # primer: −0.044 (1) = −0.04
    "∂E/∂w₁,₂⁽¹⁾ = −0.042·(2) = −0.083",  # primer: −0.044 (2) = −0.09
    "∂E/∂w₂,₁⁽¹⁾ = −0.038·(1) = −0.038",  # primer: −0.039 (1) = −0.04
    "∂E/∂w₂,₂⁽¹⁾ = −0.038·(2) = −0.075",  # primer: = −0.08
    "∂E/∂w₃,₁⁽¹⁾ = −0.020·(1) = −0.020",  # primer: = −0.02
    "∂E/∂w₃,₂⁽¹⁾ = −0.020·(2) = −0.039",  # primer: = −0.04
]


@pytest.mark.parametrize("line", PRIMER_LINES)
def test_text_rendering_has_the_primers_line(line: str) -> None:
    layers, x, t = primer_network()
    text = render(explain(layers, x, t, get_loss("half_sse"), digits=2), "text", digits=2)
    assert line in text


def test_text_at_four_digits_is_the_primers_style() -> None:
    layers, x, t = primer_network()
    text = render(explain(layers, x, t, get_loss("half_sse"), digits=4), "text", digits=4)
    assert "δ₃⁽¹⁾ = tanh'(1.7)·[0.3·(−0.5131) + 0.6·(−0.003658)] = −0.01952" in text
    assert "tanh'(1.7) = 1 − tanh²(1.7) = 0.1250" in text


def test_markdown_and_latex_forms() -> None:
    layers, x, t = primer_network()
    steps = explain(layers, x, t, get_loss("half_sse"), digits=4)
    md = render(steps, "markdown")
    assert "### Propagated error $\\delta^{(1)}$ (eq. 7)" in md
    assert "- $\\delta^{(1)}_{3} = \\dot{h}^{(1)}(a^{(1)}_{3})" in md
    tex = render(steps, "latex")
    assert tex.startswith("\\begin{align*}")
    assert tex.rstrip().endswith("\\end{align*}")
    assert "\\delta^{(1)}_{3} &= " in tex
    with pytest.raises(ValueError, match="unknown form"):
        render(steps, "html")


def test_selection_keeps_only_what_was_asked_and_drops_dangling_dependencies() -> None:
    layers, x, t = primer_network()
    steps = explain(layers, x, t, get_loss("half_sse"), selection=Selection(quantities=["delta"], layers=[0]))
    assert [s.id for s in steps] == ["delta/0/0/0", "delta/0/0/1", "delta/0/0/2"]
    assert all(s.depends_on == () for s in steps)


def test_update_step_equals_train_step_and_loss_after_is_the_new_loss() -> None:
    layers, x, t = primer_network()
    loss, sgd = get_loss("half_sse"), get_optimizer("sgd", learning_rate=0.1, momentum=0.9)
    steps = explain(layers, x, t, loss, optimizer=sgd)
    step = train_step(layers, x, t, loss, "sum", sgd, OptimizerState())
    updates = {s.id: s.value for s in steps if s.quantity == "update"}
    for l, layer in enumerate(step.layers):
        for (k, m), w in np.ndenumerate(layer.W):
            assert updates[f"update/{l}/W/{k}/{m}"] == w  # exactly: the same train_step
    after = [s for s in steps if s.quantity == "loss_after"]
    assert len(after) == 1
    assert after[0].value == float(backward(step.layers, x, t, loss)[1].loss)
    assert_dependencies_come_first(steps)
    assert len(steps) == count_steps(sizes_of(layers), [False, False], 1, update=True)


def test_checkpoint_can_stop_the_explanation() -> None:
    layers, x, t = primer_network()

    class Deadline(Exception):
        pass

    calls = []

    def checkpoint() -> None:
        calls.append(1)
        if len(calls) > 3:
            raise Deadline

    with pytest.raises(Deadline):
        explain(layers, x, t, get_loss("half_sse"), checkpoint=checkpoint)


def test_a_number_beside_its_target_gets_the_digits_that_tell_them_apart() -> None:
    """(1.000 − 1) = −7.566×10⁻⁶ read as wrong: y is written with the digits its difference from t needs."""
    from service.engine.explain.numbers import Numbers

    four = Numbers(4)
    assert four.beside(0.9999924340, 1.0, "1") == "0.9999924"
    assert four.beside(1.1463418161461782, 1.15, "1.15") == "1.1463"
    assert Numbers(2).beside(1.1500000000000001, 1.15, "1.15", most=5) == "1.15"  # a drawing's cap: not 1.2
    assert Numbers(2).beside(0.48693, 1.0, "1") == "0.49"
    assert Numbers(9).computed(0.39250000000000007) == "0.3925"  # beside a sent 0.3775, not 0.392500000
    assert Numbers(9).computed(0.35891647971788465) == "0.35891648"  # Mazur's w5, as he writes it
    assert Numbers(2).computed(0.8004990217606297) == "0.80"  # up to 4 digits the zeros are significant
    assert Numbers(4).computed(-0.0) == "0"
