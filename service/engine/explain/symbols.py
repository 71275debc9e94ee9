"""LaTeX symbols in the primer's 1-based notation.

Engine index l (0-based) is layer l + 1 in the primer; neuron k is k + 1. For a
batch (N > 1) a per-point symbol carries its point: ``a^{(1)}_{3}\\big|_{n=2}``
(n is 1-based too). The input of layer 1 is x (z⁽⁰⁾ = x).
"""

from __future__ import annotations


def _at(point: int | None) -> str:
    return "" if point is None else f"\\big|_{{n={point + 1}}}"


def a(l: int, k: int, point: int | None = None) -> str:
    return f"a^{{({l + 1})}}_{{{k + 1}}}{_at(point)}"


def z(l: int, k: int, point: int | None = None) -> str:
    """z⁽ˡ⁾ₖ; for l = −1 (the input of layer 1) it is xₖ."""
    if l < 0:
        return f"x_{{{k + 1}}}{_at(point)}"
    return f"z^{{({l + 1})}}_{{{k + 1}}}{_at(point)}"


def y(k: int, point: int | None = None) -> str:
    return f"y_{{{k + 1}}}{_at(point)}"


def t(k: int, point: int | None = None, smoothed: bool = False) -> str:
    return f"t{chr(39) if smoothed else ''}_{{{k + 1}}}{_at(point)}"


def w(l: int, k: int, m: int) -> str:
    return f"w^{{({l + 1})}}_{{{k + 1},{m + 1}}}"


def b(l: int, k: int) -> str:
    return f"b^{{({l + 1})}}_{{{k + 1}}}"


def delta(l: int, k: int, point: int | None = None) -> str:
    return f"\\delta^{{({l + 1})}}_{{{k + 1}}}{_at(point)}"


def loss(point: int | None = None) -> str:
    return "E" if point is None else f"E_{{{point + 1}}}"


def dE(of: str, point: int | None = None) -> str:
    """∂E/∂(of); with a point, that point's term of it."""
    return f"\\frac{{\\partial E}}{{\\partial {of}}}{_at(point)}"


def dh(l: int, of: str) -> str:
    """ḣ⁽ˡ⁾(of)."""
    return f"\\dot{{h}}^{{({l + 1})}}({of})"
