"""What the catalog routes publish about each activation, loss, optimizer and initializer.

Each engine registry describes its entries with :class:`CatalogEntry`, beside
the code it describes, so the catalog cannot drift from what is computed.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Parameter:
    """A parameter: its default, its allowed range (as text, e.g. "> 0"), and what it means."""

    name: str
    default: float | int | str | bool | list[float] | None
    range: str
    description: str


@dataclass(frozen=True)
class CatalogEntry:
    """One name the service accepts, its parameters, its formula, and how Keras differs (if it does)."""

    name: str
    formula: str
    parameters: tuple[Parameter, ...] = ()
    aliases: tuple[str, ...] = ()
    keras_difference: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
