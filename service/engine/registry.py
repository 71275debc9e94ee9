"""Named, parameterized building blocks (activations, losses, optimizers): described once, checked once.

Each entry pairs a builder with its :class:`~service.engine.catalog.CatalogEntry`
and the :class:`Spec` of each parameter. The spec checks a value sent on the wire,
writes the parameter's line in the catalog, and (``kind`` and ``bounds``) is what a
wire schema is derived from, so none of them can drift.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from service.engine.catalog import CatalogEntry, Parameter
from service.engine.errors import ParameterError, UnknownNameError
from service.engine.forms import Forms

T = TypeVar("T")
Check = Callable[[Any], Any]  # returns the normalized value or raises ValueError(what is expected)


@dataclass(frozen=True)
class Spec:
    """One parameter: name, default, allowed range (as text) and the check that enforces it.

    ``kind`` is "real", "optional_real" (a real or None), "pair" (two reals), "flag" or "choice";
    ``bounds`` are its limits as JSON Schema names them (``gt``, ``ge``, ``lt``, ``le``; for a pair, each member's);
    ``options`` the strings of a choice.
    """

    name: str
    default: float | str | bool | tuple[float, float] | None
    range: str
    description: str
    check: Check
    kind: str = "real"
    bounds: Mapping[str, float] = field(default_factory=dict)
    options: tuple[str, ...] = ()

    def parameter(self) -> Parameter:
        default = list(self.default) if isinstance(self.default, tuple) else self.default
        return Parameter(self.name, default, self.range, self.description)


def _number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)


def real(name: str, default: float, description: str, *, gt: float | None = None, ge: float | None = None) -> Spec:
    """A finite real number, optionally bounded below (``> gt`` or ``≥ ge``)."""
    bound = f"> {gt:g}" if gt is not None else f"≥ {ge:g}" if ge is not None else "any finite number"

    def check(value: Any) -> float:
        if not _number(value):
            raise ValueError("must be a finite number" + (f" {bound}" if gt is not None or ge is not None else ""))
        if (gt is not None and not value > gt) or (ge is not None and not value >= ge):
            raise ValueError(f"must be {bound}")
        return float(value)

    bounds = {"gt": gt} if gt is not None else {"ge": ge} if ge is not None else {}
    return Spec(name, default, bound, description, check, "real", bounds)


def optional_real(name: str, description: str, *, gt: float) -> Spec:
    """A finite real number ``> gt``, or None (the default: the option is off)."""
    inner = real(name, gt, description, gt=gt)

    def check(value: Any) -> float | None:
        return None if value is None else inner.check(value)

    return Spec(name, None, f"{inner.range} or null", description, check, "optional_real", inner.bounds)


def interval(name: str, default: float, description: str, *, upper: float = 1, closed: bool = False) -> Spec:
    """A number in [0, upper) (or [0, upper] if ``closed``)."""
    text = f"[0, {upper:g}{']' if closed else ')'}"

    def check(value: Any) -> float:
        if not _number(value) or not (0 <= value <= upper if closed else 0 <= value < upper):
            raise ValueError(f"must be a number in {text}")
        return float(value)

    return Spec(name, default, text, description, check, "real", {"ge": 0, ("le" if closed else "lt"): upper})


def unit_interval(name: str, default: float, description: str) -> Spec:
    """A number in [0, 1)."""
    return interval(name, default, description)


def pair(name: str, default: tuple[float, float], description: str) -> Spec:
    """Two numbers, each in [0, 1) (e.g. Adam's betas)."""
    member = unit_interval(name, default[0], description)

    def check(value: Any) -> tuple[float, float]:
        if not isinstance(value, list | tuple) or len(value) != 2:
            raise ValueError("must be two numbers, each in [0, 1)")
        first, second = (member.check(v) for v in value)
        return first, second

    return Spec(name, default, f"two numbers, each in {member.range}", description, check, "pair", member.bounds)


def choice(name: str, default: str, options: tuple[str, ...], description: str) -> Spec:
    """One of a few strings."""

    def check(value: Any) -> str:
        if value not in options or not isinstance(value, str):
            raise ValueError(f"must be one of: {', '.join(repr(o) for o in options)}")
        return value

    return Spec(name, default, " | ".join(options), description, check, "choice", options=options)


def flag(name: str, default: bool, description: str) -> Spec:
    """true or false."""

    def check(value: Any) -> bool:
        if not isinstance(value, bool):
            raise ValueError("must be true or false")
        return value

    return Spec(name, default, "true | false", description, check, "flag")


@dataclass(frozen=True)
class Entry(Generic[T]):
    """A builder ``build(**parameters) -> T``, its parameters and its catalog description.

    ``title`` names its wire schema (e.g. "AdamW"), where the entry has one of its own; ``forms``
    (an activation's) its PyTorch, Keras and ONNX forms (see :mod:`service.engine.forms`).
    """

    build: Callable[..., T]
    describe: CatalogEntry
    specs: tuple[Spec, ...]
    title: str = ""
    forms: Forms | None = None

    def defaults(self) -> dict[str, Any]:
        """Every parameter at its default."""
        return {s.name: s.default for s in self.specs}


def entry(
    build: Callable[..., T],
    name: str,
    formula: str,
    *specs: Spec,
    aliases: tuple[str, ...] = (),
    keras: str | None = None,
    notes: tuple[str, ...] = (),
    title: str = "",
    forms: Forms | None = None,
) -> Entry[T]:
    """An :class:`Entry` whose catalog parameters are those of ``specs``."""
    described = CatalogEntry(name, formula, tuple(s.parameter() for s in specs), aliases, keras, notes)
    return Entry(build, described, specs, title, forms)


class Registry(Generic[T]):
    """The entries of one kind ("activation", "loss"), by name and alias."""

    def __init__(self, kind: str, entries: Iterable[Entry[T]]) -> None:
        self.kind = kind
        self.entries = list(entries)  # in the order given (the docs list them so); the catalog is sorted by name
        self._by_name = {n: e for e in self.entries for n in (e.describe.name, *e.describe.aliases)}
        self._with_defaults: dict[str, T] = {}  # built once per name: entries are immutable, so they can be shared

    def names(self) -> list[str]:
        """Every accepted name, aliases included."""
        return sorted(self._by_name)

    def catalog(self) -> list[CatalogEntry]:
        return sorted((e.describe for e in self.entries), key=lambda d: d.name)

    def entry(self, name: str) -> Entry[T]:
        """The entry called ``name`` (or one of its aliases); :class:`UnknownNameError` if there is none."""
        found = self._by_name.get(name)
        if found is None:
            raise UnknownNameError(self.kind, name, self.names())
        return found

    def get(self, name: str, given: Mapping[str, Any]) -> T:
        """The entry called ``name`` built with ``given`` parameters (defaults for the rest).

        Raises :class:`UnknownNameError` for an unknown name and :class:`ParameterError`
        (naming the parameter) for an unknown parameter or a value out of range.
        """
        if not given and name in self._with_defaults:
            return self._with_defaults[name]
        found = self.entry(name)
        canonical = found.describe.name
        specs = {s.name: s for s in found.specs}
        for key in given:
            if key not in specs:
                known = ", ".join(specs) or "none"
                raise ParameterError(self.kind, canonical, key, f"is not a parameter of {canonical} (its parameters: {known})")
        params = {}
        for key, spec in specs.items():
            try:
                params[key] = spec.check(given[key]) if key in given else spec.default
            except ValueError as exc:
                raise ParameterError(self.kind, canonical, key, str(exc)) from exc
        built = found.build(**params)
        if not given:
            self._with_defaults[name] = built
        return built
