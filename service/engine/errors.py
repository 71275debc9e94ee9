"""Errors the engine raises. The service maps them to HTTP in one place."""

from __future__ import annotations


class EngineError(ValueError):
    """A request the engine cannot compute (bad names, parameters or values)."""


class UnknownNameError(EngineError):
    """An activation, loss or optimizer name the engine does not know."""

    def __init__(self, kind: str, name: str, known: list[str]) -> None:
        self.kind = kind
        self.name = name
        self.known = known
        super().__init__(f"unknown {kind} {name!r}; expected one of: {', '.join(known)}")


class ParameterError(EngineError):
    """An unknown parameter, or a value out of its range, for a named activation or loss."""

    def __init__(self, kind: str, name: str, parameter: str, problem: str) -> None:
        self.kind = kind
        self.name = name
        self.parameter = parameter
        self.problem = problem
        super().__init__(f"{kind} {name!r}: {parameter} {problem}")


class DomainError(EngineError):
    """A loss applied outside its domain: ``operand`` is ``"y"`` (the output) or ``"t"`` (the target)."""

    def __init__(self, operand: str, message: str) -> None:
        self.operand = operand
        super().__init__(message)


class NonFiniteError(EngineError):
    """A computed quantity overflowed to NaN or ±Infinity.

    ``layer`` is the 0-based layer index (None for network-level quantities such
    as the loss), ``quantity`` the primer symbol that first became non-finite.
    """

    def __init__(self, quantity: str, layer: int | None = None) -> None:
        self.quantity = quantity
        self.layer = layer
        where = f"layer {layer}" if layer is not None else "the network"
        super().__init__(f"{quantity} of {where} is not finite (overflow); scale the weights or inputs down")
