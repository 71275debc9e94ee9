"""Every registered activation and loss carries its LaTeX beside its definition, with its parameters written in."""

from __future__ import annotations

import pytest

from service.engine.activations import activation_names, get_activation
from service.engine.losses import get_loss, loss_names
from service.engine.tex import fill, param


@pytest.mark.parametrize("name", activation_names())
def test_every_activation_has_its_formula_and_derivative(name: str) -> None:
    tex = get_activation(name).tex
    assert tex is not None, name
    assert tex.name
    assert tex.h
    assert tex.dh
    assert tex.definition
    assert tex.jacobian in {"diagonal", "softmax", "log_softmax"}
    if tex.jacobian == "diagonal":
        assert "⟨a⟩" in tex.h, name  # the substituted z line shows the number a
    assert "⟨" not in tex.definition


@pytest.mark.parametrize("name", loss_names())
def test_every_loss_has_its_formula_and_gradient(name: str) -> None:
    tex = get_loss(name).tex
    assert tex is not None, name
    assert tex.term
    assert tex.grad
    assert tex.definition
    assert "⟨" not in tex.definition


def test_parameters_are_substituted_into_the_formulas() -> None:
    assert "0.2\\," in get_activation("leaky_relu", negative_slope=0.2).tex.dh  # type: ignore[union-attr]
    assert "e^{⟨a⟩/2}" in get_activation("celu", alpha=2.0).tex.dh  # type: ignore[union-attr]
    assert "-0.5" in get_activation("hard_tanh", min_val=-0.5, max_val=2.0).tex.h  # type: ignore[union-attr]
    assert "-0.3, 0.3" in get_loss("huber", delta=0.3).tex.grad  # type: ignore[union-attr]
    assert get_loss("categorical_cross_entropy", label_smoothing=0.1).tex.smoothing == 0.1  # type: ignore[union-attr]
    assert "10^{-7}" in get_loss("poisson", log_input=False, eps=1e-7).tex.term  # type: ignore[union-attr]


def test_fill_parenthesizes_negative_numbers_only_where_needed() -> None:
    assert fill("\\tanh(⟨a⟩)", {"a": "-0.5"}) == "\\tanh(-0.5)"
    assert fill("e^{-⟨a⟩}", {"a": "-0.5"}) == "e^{-(-0.5)}"
    assert fill("2\\,⟨a⟩", {"a": "-0.5"}) == "2\\,(-0.5)"
    assert param(1e-8) == "10^{-8}"
    assert param(0.01) == "0.01"


def test_fill_leaves_a_negative_number_bare_after_a_bracket_a_comma_or_a_relation() -> None:
    assert fill("\\max(⟨a⟩, 0)", {"a": "-0.17"}) == "\\max(-0.17, 0)"  # not max((−0.17), 0)
    assert fill("[-3 < ⟨a⟩ < 3]", {"a": "-0.5"}) == "[-3 < -0.5 < 3]"
    assert fill("[⟨a⟩ \\le 0]\\,⟨a⟩", {"a": "-0.5"}) == "[-0.5 \\le 0]\\,(-0.5)"
    assert fill("1 - ⟨z⟩^{2}", {"z": "-0.5"}) == "1 - (-0.5)^{2}"
    assert fill("⟨y⟩ - ⟨t⟩", {"y": "-1", "t": "-2"}) == "-1 - (-2)"
