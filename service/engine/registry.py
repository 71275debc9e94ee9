"""Named, parameterized building blocks (activations, losses): described once, checked once.

Each entry pairs a builder with its :class:`~service.engine.catalog.CatalogEntry`
and the :class:`Spec` of each parameter. The spec both checks a value sent on the
wire and writes the parameter's line in the catalog, so the two cannot drift.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from service.engine.catalog import CatalogEntry, Parameter
from service.engine.errors import ParameterError, UnknownNameError

T = TypeVar("T")
Check = Callable[[Any], Any]  # returns the normalized value or raises ValueError(what is expected)


@dataclass(frozen=True)
class Spec:
    """One parameter: name, default, allowed range (as text) and the check that enforces it."""

    name: str
    default: float | str | bool
    range: str
    description: str
    check: Check

    def parameter(self) -> Parameter:
        return Parameter(self.name, self.default, self.range, self.description)


def real(name: str, default: float, description: str, *, gt: float | None = None, ge: float | None = None) -> Spec:
    """A finite real number, optionally bounded below (``> gt`` or ``≥ ge``)."""
    bound = f"> {gt:g}" if gt is not None else f"≥ {ge:g}" if ge is not None else "any finite number"

    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ValueError("must be a finite number" + (f" {bound}" if gt is not None or ge is not None else ""))
        if (gt is not None and not value > gt) or (ge is not None and not value >= ge):
            raise ValueError(f"must be {bound}")
        return float(value)

    return Spec(name, default, bound, description, check)


def unit_interval(name: str, default: float, description: str) -> Spec:
    """A number in [0, 1)."""

    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1:
            raise ValueError("must be a number in [0, 1)")
        return float(value)

    return Spec(name, default, "[0, 1)", description, check)


def choice(name: str, default: str, options: tuple[str, ...], description: str) -> Spec:
    """One of a few strings."""

    def check(value: Any) -> str:
        if value not in options or not isinstance(value, str):
            raise ValueError(f"must be one of: {', '.join(repr(o) for o in options)}")
        return value

    return Spec(name, default, " | ".join(options), description, check)


def flag(name: str, default: bool, description: str) -> Spec:
    """true or false."""

    def check(value: Any) -> bool:
        if not isinstance(value, bool):
            raise ValueError("must be true or false")
        return value

    return Spec(name, default, "true | false", description, check)


@dataclass(frozen=True)
class Entry(Generic[T]):
    """A builder ``build(**parameters) -> T``, its parameters and its catalog description."""

    build: Callable[..., T]
    describe: CatalogEntry
    specs: tuple[Spec, ...]


def entry(
    build: Callable[..., T],
    name: str,
    formula: str,
    *specs: Spec,
    aliases: tuple[str, ...] = (),
    keras: str | None = None,
    notes: tuple[str, ...] = (),
) -> Entry[T]:
    """An :class:`Entry` whose catalog parameters are those of ``specs``."""
    described = CatalogEntry(name, formula, tuple(s.parameter() for s in specs), aliases, keras, notes)
    return Entry(build, described, specs)


class Registry(Generic[T]):
    """The entries of one kind ("activation", "loss"), by name and alias."""

    def __init__(self, kind: str, entries: Iterable[Entry[T]]) -> None:
        self.kind = kind
        self.entries = sorted(entries, key=lambda e: e.describe.name)
        self._by_name = {n: e for e in self.entries for n in (e.describe.name, *e.describe.aliases)}
        self._with_defaults: dict[str, T] = {}  # built once per name: entries are immutable, so they can be shared

    def names(self) -> list[str]:
        """Every accepted name, aliases included."""
        return sorted(self._by_name)

    def catalog(self) -> list[CatalogEntry]:
        return [e.describe for e in self.entries]

    def get(self, name: str, given: Mapping[str, Any]) -> T:
        """The entry called ``name`` built with ``given`` parameters (defaults for the rest).

        Raises :class:`UnknownNameError` for an unknown name and :class:`ParameterError`
        (naming the parameter) for an unknown parameter or a value out of range.
        """
        if not given and name in self._with_defaults:
            return self._with_defaults[name]
        found = self._by_name.get(name)
        if found is None:
            raise UnknownNameError(self.kind, name, self.names())
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
