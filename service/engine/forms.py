"""Where an activation exists outside the service: its PyTorch, Keras and ONNX forms, as data.

Each activation's registry record (``entry(..., forms=Forms(...))``) says, beside its NumPy h and ḣ,
how each framework writes it, or :class:`NoForm` with the reason it cannot. Nothing here imports a
framework: ``service/interop/`` reads and writes files from these forms, ``service/client/frameworks.py``
reads live torch and Keras objects from them, and tests/engine/test_records.py checks every claim
against the framework itself (torch, Keras 3 on the torch backend, onnxruntime).

A form names the framework's pieces and, in them, the values that carry the activation's parameters
(:class:`Param`) or must have one value (:class:`Fixed`). ``implies`` holds parameters the form
stands for without carrying them (Keras's ``leaky_relu`` is slope 0.2); every other parameter not
carried is at its default. ``writes`` False marks a form read but never written (an alternative an
exporter emits). The readers try the forms that carry fewest parameters first, so ``Clip(a, 0, 6)``
is relu6 before it is hard_tanh.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final


class _Default:
    def __repr__(self) -> str:
        return "DEFAULT"


#: ``absent`` of a value the framework's default leaves as the engine's (a :class:`Param`) or as required (a :class:`Fixed`).
DEFAULT: Final = _Default()


@dataclass(frozen=True)
class NoForm:
    """The framework has no form of this activation; ``why`` says so (and what comes closest), for the 422 of an export."""

    why: str


@dataclass(frozen=True)
class Param:
    """A value carrying the activation's parameter ``name``; ``absent``: what the framework takes when it is left out."""

    name: str
    absent: Any = DEFAULT


@dataclass(frozen=True)
class Fixed:
    """A value that must be ``value`` (read, also one of ``also``); ``absent``: what the framework takes when it is left out.

    Written, a Fixed whose ``absent`` is its value is left out. ``name`` names it when it is written as an ONNX constant.
    """

    value: Any
    also: tuple[Any, ...] = ()
    absent: Any = DEFAULT
    name: str = ""


Value = Param | Fixed


@dataclass(frozen=True)
class Torch:
    """``torch.nn.<module>`` and the function ``<function>`` (a dotted path from ``torch``), each taking the parameters by name.

    The module's attributes are the parameters' names; ``fixed`` are arguments that are no parameter (softmax's ``dim``).
    """

    module: str | NoForm
    function: str | NoForm
    fixed: Mapping[str, Fixed] = field(default_factory=dict)


@dataclass(frozen=True)
class KerasFunction:
    """A Keras activation by name (``Dense(activation=name)``, ``Activation(name)``)."""

    name: str
    implies: Mapping[str, Any] = field(default_factory=dict)
    writes: bool = True


@dataclass(frozen=True)
class KerasLayer:
    """A Keras activation layer after a linear Dense: its class and its config keys (also its attributes)."""

    class_name: str
    config: Mapping[str, Value] = field(default_factory=dict)
    implies: Mapping[str, Any] = field(default_factory=dict)
    writes: bool = True


@dataclass(frozen=True)
class Keras:
    """The Keras function names, then the layers, that compute the activation; a writer takes the first that carries it."""

    functions: tuple[KerasFunction, ...]
    layers: tuple[KerasLayer, ...] = ()


#: An ONNX node's input: ``"a"`` (the layer's pre-activation), the index of an earlier node of the form, or a constant.
Operand = str | int | Param | Fixed


@dataclass(frozen=True)
class OnnxNode:
    """One node: its op, inputs and attributes; ``output`` names its output when written (default: the op, lower case)."""

    op: str
    inputs: tuple[Operand, ...] = ("a",)
    attrs: Mapping[str, Value] = field(default_factory=dict)
    output: str = ""


@dataclass(frozen=True)
class OnnxForm:
    """The nodes from a to z = h(a), in order (the last one's output is z); no nodes: z is a."""

    nodes: tuple[OnnxNode, ...]
    implies: Mapping[str, Any] = field(default_factory=dict)
    writes: bool = True


@dataclass(frozen=True)
class Forms:
    """An activation in PyTorch, Keras and ONNX: each a form, or :class:`NoForm` saying why there is none."""

    torch: Torch
    keras: Keras | NoForm
    onnx: tuple[OnnxForm, ...] | NoForm


def one(op: str, **attrs: Value) -> tuple[OnnxForm, ...]:
    """The ONNX form of a single node taking a."""
    return (OnnxForm((OnnxNode(op, attrs=attrs),)),)


def keras(*names: str, layers: tuple[KerasLayer, ...] = ()) -> Keras:
    """Keras function names standing for the activation at its defaults (the first is written), and its layers."""
    return Keras(tuple(KerasFunction(n) for n in names), layers)


def carried(form: KerasFunction | KerasLayer | OnnxForm) -> set[str]:
    """The parameters a form carries (those of its :class:`Param` values)."""
    if isinstance(form, KerasFunction):
        return set()
    values = form.config.values() if isinstance(form, KerasLayer) else [v for n in form.nodes for v in (*n.inputs, *n.attrs.values())]
    return {v.name for v in values if isinstance(v, Param)}
