"""The activations' framework forms (each registry record's ``forms``), read and written.

One matcher serves a Keras config, a live Keras layer, a live torch module and an ONNX node's
attributes: :func:`take` compares a form's value with what the framework holds, binding a carried
parameter and checking a fixed one. The readers try the forms that carry fewest parameters first
(:func:`candidates`), and a writer takes the first form that carries the activation (:func:`written`),
or refuses it with :class:`~service.interop.errors.NotExpressible`, naming the activation and the format.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, TypeVar

from service.engine.activations import records
from service.engine.forms import DEFAULT, Fixed, Forms, KerasFunction, KerasLayer, NoForm, OnnxForm, Param, Value, carried
from service.interop.errors import NotExpressible

F = TypeVar("F", bound=KerasFunction | KerasLayer | OnnxForm)


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


#: What a lookup answers for a key the framework left out (its default then applies: see ``absent``).
MISSING: Final = _Missing()

#: Each activation's canonical name → its parameters at their defaults and its forms, in the registry's order.
RECORDS: dict[str, tuple[dict[str, Any], Forms]] = {e.describe.name: (e.defaults(), forms) for e, forms in records()}


def same(found: Any, want: Any) -> bool:
    """Equal; numbers to float32's precision, as ONNX attributes hold them (1/6 is 0.16666667)."""
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (found, want))
    return math.isclose(found, want, rel_tol=1e-6) if numbers else bool(found == want)


def take(value: Value, found: Any, bound: dict[str, Any]) -> bool:
    """Whether ``found`` (:data:`MISSING`: left out) fits ``value``; a :class:`Param` binds it (as it was bound before, if it was)."""
    if found is MISSING:
        if value.absent is DEFAULT:
            return True  # a Param at the engine's default, or a Fixed that leaving out means
        found = value.absent
    if isinstance(value, Fixed):
        return any(same(found, v) for v in (value.value, *value.also))
    if value.name in bound:
        return same(bound[value.name], found)
    bound[value.name] = found
    return True


def read(values: Mapping[str, Value], lookup: Callable[[str], Any]) -> dict[str, Any] | None:
    """The parameters that ``lookup(key)`` gives for each key of ``values``, or None if a fixed one differs."""
    bound: dict[str, Any] = {}
    return bound if all(take(v, lookup(k), bound) for k, v in values.items()) else None


def left_out(value: Value) -> bool:
    """Whether a writer leaves ``value`` out: a Fixed the framework takes anyway when it is absent."""
    return isinstance(value, Fixed) and value.absent is not DEFAULT and same(value.absent, value.value)


def write_value(value: Value, params: Mapping[str, Any]) -> Any:
    """What a writer puts where ``value`` stands: the parameter's value, or the fixed one."""
    return params[value.name] if isinstance(value, Param) else value.value


def candidates(pick: Callable[[Forms], Sequence[F]]) -> list[tuple[str, F]]:
    """(activation, form) for every form ``pick`` takes from a record, those carrying fewest parameters first."""
    found = [(name, form) for name, (_, forms) in RECORDS.items() for form in pick(forms)]
    return sorted(found, key=lambda c: len(carried(c[1])))


def keras_forms(forms: Forms) -> Sequence[KerasFunction | KerasLayer]:
    return () if isinstance(forms.keras, NoForm) else (*forms.keras.functions, *forms.keras.layers)


def keras_layers(forms: Forms) -> Sequence[KerasLayer]:
    return () if isinstance(forms.keras, NoForm) else forms.keras.layers


def onnx_forms(forms: Forms) -> Sequence[OnnxForm]:
    return () if isinstance(forms.onnx, NoForm) else forms.onnx


#: Keras's activation names → the engine's name and the parameters the Keras name stands for.
KERAS_FUNCTIONS: dict[str, tuple[str, dict[str, Any]]] = {
    f.name: (name, dict(f.implies)) for name, (_, forms) in RECORDS.items() for f in keras_forms(forms) if isinstance(f, KerasFunction)
}
#: Keras's activation layers that some activation's record names.
KERAS_LAYERS: tuple[str, ...] = tuple(dict.fromkeys(form.class_name for _, form in candidates(keras_layers)))


def read_keras_layer(class_name: str, lookup: Callable[[str], Any]) -> tuple[str, dict[str, Any]] | None:
    """The activation and parameters of a Keras activation layer whose config key ``k`` is ``lookup(k)``; None if none fits."""
    for name, form in candidates(keras_layers):
        if form.class_name == class_name and (bound := read(form.config, lookup)) is not None:
            return name, {**form.implies, **bound}
    return None


def describe_keras_layer(class_name: str) -> str:
    """What the service reads a Keras layer of this class as: ``relu (max_value=None, …), leaky_relu (negative_slope=…)``."""

    def text(v: Value) -> str:
        return v.name if isinstance(v, Param) else repr(v.value)

    forms = [(n, f) for n, f in candidates(keras_layers) if f.class_name == class_name]
    return ", ".join(f"{n} ({', '.join(f'{k}={text(v)}' for k, v in f.config.items())})" for n, f in forms)


def written(format: str, spec: tuple[str, dict[str, Any]], forms: Sequence[F] | NoForm, where: str) -> F:
    """The first form a writer of ``format`` may use that carries every parameter of ``spec`` (name, parameters).

    A parameter is carried by a form that holds it, implied by one that stands for it, or at its default.
    """
    name, params = spec
    if isinstance(forms, NoForm):
        raise NotExpressible(f"{format} has no {name} activation: {forms.why}", where)
    defaults = RECORDS[name][0]
    for form in forms:
        held = carried(form)
        if form.writes and all(k in held or v == form.implies.get(k, defaults[k]) for k, v in params.items()):
            return form
    given = {k: v for k, v in params.items() if v != defaults[k]}
    kept = [", ".join(f"{k}={v!r}" for k, v in {**defaults, **f.implies}.items() if k not in carried(f)) for f in forms if f.writes]
    raise NotExpressible(
        f"{format} cannot carry {name} with {given}: its forms of {name} fix {' or '.join(k or 'nothing' for k in kept)}", where
    )
