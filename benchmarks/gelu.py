"""Exact GELU (forward + backward) against tanh on the same 1000 × 1000 float64 array, side by side.

    python -m benchmarks.gelu [--rounds 15] [--size 1000]

Each round times, in turn, tanh, the engine's exact gelu (Φ from the vectorized
erfc in service/engine/special.py) and the old exact gelu (math.erfc applied
element by element through np.frompyfunc, kept here only for comparison), each
as h(a) then vjp(a, z, g). It prints the median seconds of each and the ratios
of the medians to tanh's. Not run in CI.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import numpy as np

from service.engine import Activation, get_activation
from service.engine.activation_base import elementwise
from service.engine.arrays import Array

_erfc_per_element = np.frompyfunc(math.erfc, 1, 1)


def old_exact_gelu() -> Activation:
    """The engine's exact gelu before special.erfc: libm's erfc called once per element."""

    def Phi(a: Array) -> Array:
        return 0.5 * _erfc_per_element(-a / math.sqrt(2)).astype(a.dtype)

    return elementwise("gelu", lambda a: a * Phi(a), lambda a, z: Phi(a) + a * np.exp(-0.5 * a * a) * (1 / math.sqrt(2 * math.pi)))


def forward_backward_seconds(h: Activation, a: Array, g: Array) -> float:
    start = time.perf_counter()
    z = h.forward(a)
    h.vjp(a, z, g)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--size", type=int, default=1000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    a = rng.normal(0, 2, (args.size, args.size))
    g = rng.normal(0, 1, a.shape)
    contenders = {"tanh": get_activation("tanh"), "gelu (special.erfc)": get_activation("gelu"), "gelu (old frompyfunc)": old_exact_gelu()}
    np.testing.assert_allclose(contenders["gelu (special.erfc)"].forward(a), contenders["gelu (old frompyfunc)"].forward(a), rtol=1e-14)
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(args.rounds):
        for name, h in contenders.items():
            times[name].append(forward_backward_seconds(h, a, g))
    tanh = statistics.median(times["tanh"])
    print(f"{args.size} x {args.size} float64, forward + backward, median of {args.rounds} alternating rounds")
    for name, samples in times.items():
        median = statistics.median(samples)
        print(f"  {name:22s} {median * 1e3:8.1f} ms   {median / tanh:6.2f} x tanh")


if __name__ == "__main__":
    main()
