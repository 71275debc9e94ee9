"""Elementwise activations z = h(a), each with its derivative ḣ(a) beside it.

Semantics and defaults are PyTorch's (``torch.nn.functional``), including the
derivative chosen at a kink: the one-sided value PyTorch's backward returns,
stated in each entry's notes. Every function stays finite and warning-free for
|a| ≤ 1e3 in float64 and float32, except ``exponential``, whose e¹⁰⁰⁰ overflows
and is reported as a non-finite result.
"""

from __future__ import annotations

import math

import numpy as np

from service.engine.activation_base import Activation, Image, elementwise, step
from service.engine.arrays import Array
from service.engine.errors import ParameterError
from service.engine.forms import Fixed, Forms, Keras, KerasFunction, KerasLayer, NoForm, OnnxForm, OnnxNode, Param, Torch, Value, keras, one
from service.engine.registry import Entry, choice, entry, real
from service.engine.special import erfc
from service.engine.tex import ActivationTex, param

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def sigmoid(a: Array) -> Array:
    """σ(a) = 1 / (1 + e⁻ᵃ), evaluated as ½(1 + tanh(a/2)): no overflow for any a."""
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def softplus(a: Array) -> Array:
    """log(1 + eᵃ) as logaddexp(0, a): finite for any finite a."""
    return np.logaddexp(0.0, a)


def _op(name: str) -> str:
    return f"\\operatorname{{{name}}}"


def _tex(name: str, h: str, dh: str, definition: str | None = None) -> ActivationTex:
    """h and ḣ as templates in ⟨a⟩; the definition defaults to them written in a."""
    return ActivationTex(name, h, dh, definition or f"h(a) = {h},\\quad \\dot{{h}}(a) = {dh}".replace("⟨a⟩", "a"))


def _linear() -> Activation:
    return elementwise("linear", lambda a: a, lambda a, z: np.ones_like(a), _tex(_op("linear"), "⟨a⟩", "1"))


def _tanh() -> Activation:
    tex = _tex("\\tanh", "\\tanh(⟨a⟩)", "1 - \\tanh^{2}(⟨a⟩)")
    return elementwise("tanh", np.tanh, lambda a, z: 1.0 - z * z, tex, Image(-1, 1, open=True))


def _sigmoid() -> Activation:
    tex = _tex(
        "\\sigma",
        "\\sigma(⟨a⟩)",
        "\\sigma(⟨a⟩)\\,(1 - \\sigma(⟨a⟩))",
        "h(a) = \\sigma(a) = \\frac{1}{1 + e^{-a}},\\quad \\dot{h}(a) = \\sigma(a)\\,(1 - \\sigma(a))",
    )
    return elementwise("sigmoid", sigmoid, lambda a, z: z * (1.0 - z), tex, Image(0, 1, open=True))


def _relu() -> Activation:
    tex = _tex(_op("relu"), "\\max(⟨a⟩, 0)", "[⟨a⟩ > 0]")
    return elementwise("relu", lambda a: np.maximum(a, 0), lambda a, z: step(a > 0, 1, 0, a), tex, Image(0))


def _leaky_relu(negative_slope: float) -> Activation:
    s = param(negative_slope)
    tex = _tex(_op("leaky\\_relu"), f"\\max(⟨a⟩, 0) + {s}\\,\\min(⟨a⟩, 0)", f"[⟨a⟩ > 0] + {s}\\,[⟨a⟩ \\le 0]")
    return elementwise("leaky_relu", lambda a: np.where(a > 0, a, negative_slope * a), lambda a, z: step(a > 0, 1, negative_slope, a), tex)


def _elu(alpha: float) -> Activation:
    # ḣ = α eᵃ for a ≤ 0 (PyTorch's backward: ḣ(0) = α), computed from a, not z, so α = 0 works too.
    al = param(alpha)
    tex = _tex(_op("elu"), f"[⟨a⟩ > 0]\\,⟨a⟩ + [⟨a⟩ \\le 0]\\,{al}\\,(e^{{⟨a⟩}} - 1)", f"[⟨a⟩ > 0] + [⟨a⟩ \\le 0]\\,{al}\\,e^{{⟨a⟩}}")
    return elementwise(
        "elu",
        lambda a: np.where(a > 0, a, alpha * np.expm1(np.minimum(a, 0))),
        lambda a, z: np.where(a > 0, 1.0, alpha * np.exp(np.minimum(a, 0))).astype(a.dtype, copy=False),
        tex,
    )


def _selu() -> Activation:
    h = "\\lambda\\,([⟨a⟩ > 0]\\,⟨a⟩ + [⟨a⟩ \\le 0]\\,\\alpha\\,(e^{⟨a⟩} - 1))"
    dh = "\\lambda\\,([⟨a⟩ > 0] + [⟨a⟩ \\le 0]\\,\\alpha\\,e^{⟨a⟩})"
    definition = f"h(a) = {h},\\quad \\dot{{h}}(a) = {dh},\\quad \\alpha = {SELU_ALPHA:.10g},\\ \\lambda = {SELU_SCALE:.10g}"
    return elementwise(
        "selu",
        lambda a: SELU_SCALE * np.where(a > 0, a, SELU_ALPHA * np.expm1(np.minimum(a, 0))),
        lambda a, z: SELU_SCALE * np.where(a > 0, 1.0, SELU_ALPHA * np.exp(np.minimum(a, 0))).astype(a.dtype, copy=False),
        ActivationTex(_op("selu"), h, dh, definition.replace("⟨a⟩", "a")),
    )


def _celu(alpha: float) -> Activation:
    al = param(alpha)
    tex = _tex(
        _op("celu"),
        f"[⟨a⟩ > 0]\\,⟨a⟩ + [⟨a⟩ \\le 0]\\,{al}\\,(e^{{⟨a⟩/{al}}} - 1)",
        f"[⟨a⟩ > 0] + [⟨a⟩ \\le 0]\\,e^{{⟨a⟩/{al}}}",
    )
    return elementwise(
        "celu",
        lambda a: np.where(a > 0, a, alpha * np.expm1(np.minimum(a, 0) / alpha)),
        lambda a, z: np.where(a > 0, 1.0, np.exp(np.minimum(a, 0) / alpha)).astype(a.dtype, copy=False),
        tex,
    )


def _gelu(approximate: str) -> Activation:
    if approximate == "tanh":
        c = math.sqrt(2 / math.pi)

        def h(a: Array) -> Array:
            return 0.5 * a * (1.0 + np.tanh(c * (a + 0.044715 * a**3)))

        def dh(a: Array, z: Array) -> Array:
            th = np.tanh(c * (a + 0.044715 * a**3))
            return 0.5 * (1.0 + th) + 0.5 * a * (1.0 - th * th) * c * (1.0 + 3 * 0.044715 * a * a)

        T = "\\tanh(\\sqrt{2/\\pi}\\,(⟨a⟩ + 0.044715\\,⟨a⟩^{3}))"
        tex = _tex(
            _op("gelu"),
            f"\\tfrac{{1}}{{2}}\\,⟨a⟩\\,(1 + {T})",
            f"\\tfrac{{1}}{{2}}\\,(1 + {T}) + \\tfrac{{1}}{{2}}\\,⟨a⟩\\,(1 - {T}^{{2}})\\,\\sqrt{{2/\\pi}}\\,(1 + 0.134145\\,⟨a⟩^{{2}})",
        )
        return elementwise("gelu", h, dh, tex)

    def Phi(a: Array) -> Array:  # the standard normal CDF, ½ erfc(−a/√2): accurate in the left tail too
        return 0.5 * erfc(-a / math.sqrt(2))

    tex = _tex(
        _op("gelu"),
        "⟨a⟩\\,\\Phi(⟨a⟩)",
        "\\Phi(⟨a⟩) + ⟨a⟩\\,\\varphi(⟨a⟩)",
        "h(a) = a\\,\\Phi(a),\\quad \\dot{h}(a) = \\Phi(a) + a\\,\\varphi(a),\\quad "
        "\\Phi(a) = \\tfrac{1}{2}\\operatorname{erfc}(-a/\\sqrt{2}),"
        "\\ \\varphi(a) = e^{-a^{2}/2}/\\sqrt{2\\pi}",
    )
    return elementwise("gelu", lambda a: a * Phi(a), lambda a, z: Phi(a) + a * np.exp(-0.5 * a * a) * (1 / math.sqrt(2 * math.pi)), tex)


def _silu() -> Activation:
    def dh(a: Array, z: Array) -> Array:
        s = sigmoid(a)
        return s * (1.0 + a * (1.0 - s))

    tex = _tex(_op("silu"), "⟨a⟩\\,\\sigma(⟨a⟩)", "\\sigma(⟨a⟩)\\,(1 + ⟨a⟩\\,(1 - \\sigma(⟨a⟩)))")
    return elementwise("silu", lambda a: a * sigmoid(a), dh, tex)


def _mish() -> Activation:
    def dh(a: Array, z: Array) -> Array:
        th = np.tanh(softplus(a))
        return th + a * sigmoid(a) * (1.0 - th * th)

    T = "\\tanh(\\operatorname{softplus}(⟨a⟩))"
    tex = _tex(_op("mish"), f"⟨a⟩\\,{T}", f"{T} + ⟨a⟩\\,\\sigma(⟨a⟩)\\,(1 - {T}^{{2}})")
    return elementwise("mish", lambda a: a * np.tanh(softplus(a)), dh, tex)


def _softplus(beta: float, threshold: float) -> Activation:
    b, th = param(beta), param(threshold)
    ba = "⟨a⟩" if beta == 1 else f"{b}\\,⟨a⟩"
    log = f"\\log(1 + e^{{{ba}}})" if beta == 1 else f"\\tfrac{{1}}{{{b}}}\\log(1 + e^{{{ba}}})"
    tex = _tex(
        _op("softplus"),
        f"[{ba} > {th}]\\,⟨a⟩ + [{ba} \\le {th}]\\,{log}",
        f"[{ba} > {th}] + [{ba} \\le {th}]\\,\\sigma({ba})",
    )
    return elementwise(
        "softplus",
        lambda a: np.where(beta * a > threshold, a, softplus(beta * a) / beta),
        lambda a, z: np.where(beta * a > threshold, 1.0, sigmoid(beta * a)).astype(a.dtype, copy=False),
        tex,
        Image(0, open=True),
    )


def _softsign() -> Activation:
    tex = _tex(_op("softsign"), "\\frac{⟨a⟩}{1 + |⟨a⟩|}", "\\frac{1}{(1 + |⟨a⟩|)^{2}}")
    return elementwise("softsign", lambda a: a / (1.0 + np.abs(a)), lambda a, z: 1.0 / (1.0 + np.abs(a)) ** 2, tex, Image(-1, 1, open=True))


def _relu6() -> Activation:
    tex = _tex(_op("relu6"), "\\min(\\max(⟨a⟩, 0), 6)", "[0 < ⟨a⟩ < 6]")
    return elementwise("relu6", lambda a: np.clip(a, 0, 6), lambda a, z: step((a > 0) & (a < 6), 1, 0, a), tex, Image(0, 6))


def _hard_sigmoid() -> Activation:
    tex = _tex(_op("hard\\_sigmoid"), "\\tfrac{1}{6}\\min(\\max(⟨a⟩ + 3, 0), 6)", "\\tfrac{1}{6}\\,[-3 < ⟨a⟩ < 3]")
    return elementwise(
        "hard_sigmoid", lambda a: np.clip(a + 3, 0, 6) / 6, lambda a, z: step((a > -3) & (a < 3), 1 / 6, 0, a), tex, Image(0, 1)
    )


def _hard_silu() -> Activation:
    return elementwise(
        "hard_silu",
        lambda a: a * np.clip(a + 3, 0, 6) / 6,
        lambda a, z: np.where(a <= -3, 0.0, np.where(a < 3, a / 3 + 0.5, 1.0)).astype(a.dtype, copy=False),
        _tex(
            _op("hard\\_silu"),
            "\\tfrac{1}{6}\\,⟨a⟩\\,\\min(\\max(⟨a⟩ + 3, 0), 6)",
            "[-3 < ⟨a⟩ < 3]\\,(\\tfrac{⟨a⟩}{3} + \\tfrac{1}{2}) + [⟨a⟩ \\ge 3]",
        ),
    )


def _hard_tanh(min_val: float, max_val: float) -> Activation:
    if not min_val < max_val:
        raise ParameterError("activation", "hard_tanh", "max_val", f"must be greater than min_val ({min_val:g})")
    lo, hi = param(min_val), param(max_val)
    tex = _tex(_op("hard\\_tanh"), f"\\min(\\max(⟨a⟩, {lo}), {hi})", f"[{lo} < ⟨a⟩ < {hi}]")
    h, dh = (lambda a: np.clip(a, min_val, max_val)), (lambda a, z: step((a > min_val) & (a < max_val), 1, 0, a))
    return elementwise("hard_tanh", h, dh, tex, Image(min_val, max_val))


def _exponential() -> Activation:
    return Activation("exponential", np.exp, lambda a, z, g: g * z, _tex("\\exp", "e^{⟨a⟩}", "e^{⟨a⟩}"), Image(0, open=True))


def _log_sigmoid() -> Activation:
    tex = _tex(_op("log\\_sigmoid"), "\\log\\sigma(⟨a⟩)", "\\sigma(-⟨a⟩)")
    return elementwise("log_sigmoid", lambda a: -softplus(-a), lambda a, z: sigmoid(-a), tex, Image(high=0, open=True))


F = "torch.nn.functional."
_SLOPE, _ALPHA = Param("negative_slope", absent=0.01), Param("alpha", absent=1.0)  # ONNX's defaults are PyTorch's
_RELU = {"max_value": Fixed(None), "negative_slope": Fixed(0.0), "threshold": Fixed(0.0)}  # Keras's ReLU layer and its defaults


def _two_sides(op: str, low: Value, high: Value) -> tuple[OnnxForm, ...]:
    """Clip(a, low, high), and Clip with min/max attributes as opsets before 11 write it."""
    return (OnnxForm((OnnxNode(op, ("a", low, high)),)), OnnxForm((OnnxNode(op, attrs={"min": low, "max": high}),), writes=False))


def _softplus_onnx() -> tuple[OnnxForm, ...]:
    """As the dynamo exporter writes nn.Softplus(beta, threshold); ONNX's Softplus alone has no threshold (20 taken: < 2e-9 apart)."""
    beta, threshold = Param("beta"), Param("threshold")
    scaled = OnnxNode("Mul", ("a", beta), output="scaled")
    above = OnnxNode("Greater", (0, threshold), output="above")
    return (
        OnnxForm(
            (OnnxNode("Softplus"), OnnxNode("Greater", ("a", threshold), output="above"), OnnxNode("Where", (1, "a", 0))), {"beta": 1.0}
        ),
        OnnxForm((scaled, OnnxNode("Softplus", (0,)), OnnxNode("Div", (1, beta), output="divided"), above, OnnxNode("Where", (3, "a", 2)))),
        OnnxForm((OnnxNode("Softplus"),), {"beta": 1.0, "threshold": 20.0}, writes=False),
        OnnxForm((scaled, OnnxNode("Softplus", (0,)), OnnxNode("Div", (1, beta))), {"threshold": 20.0}, writes=False),
    )


ENTRIES: list[Entry[Activation]] = [
    entry(
        _linear,
        "linear",
        "h(a) = a,  ḣ = 1",
        keras="Keras: same (also the default of a Dense layer).",
        forms=Forms(
            Torch("Identity", NoForm("PyTorch has no identity function; nn.Identity is the module")),
            keras("linear"),
            (OnnxForm(()), OnnxForm((OnnxNode("Identity"),), writes=False)),
        ),
    ),
    entry(_tanh, "tanh", "h(a) = tanh a,  ḣ = 1 − z²", forms=Forms(Torch("Tanh", "torch.tanh"), keras("tanh"), one("Tanh"))),
    entry(
        _sigmoid,
        "sigmoid",
        "h(a) = σ(a) = 1 / (1 + e⁻ᵃ),  ḣ = z (1 − z)",
        forms=Forms(Torch("Sigmoid", "torch.sigmoid"), keras("sigmoid"), one("Sigmoid")),
    ),
    entry(
        _relu,
        "relu",
        "h(a) = max(a, 0),  ḣ = [a > 0]",
        notes=("ḣ(0) = 0, as in PyTorch",),
        forms=Forms(Torch("ReLU", F + "relu"), keras("relu", layers=(KerasLayer("ReLU", _RELU),)), one("Relu")),
    ),
    entry(
        _leaky_relu,
        "leaky_relu",
        "h(a) = a if a > 0 else s·a,  ḣ = 1 if a > 0 else s",
        real("negative_slope", 0.01, "s, the slope for a ≤ 0"),
        keras="Keras's default slope is 0.2 (`negative_slope`); PyTorch's, used here, is 0.01.",
        notes=("ḣ(0) = s, as in PyTorch",),
        forms=Forms(
            Torch("LeakyReLU", F + "leaky_relu"),
            Keras(
                (KerasFunction("leaky_relu", {"negative_slope": 0.2}, writes=False),),
                (
                    KerasLayer("LeakyReLU", {"negative_slope": Param("negative_slope", absent=0.3)}),
                    KerasLayer("ReLU", {**_RELU, "negative_slope": Param("negative_slope", absent=0.0)}),
                ),
            ),
            one("LeakyRelu", alpha=_SLOPE),
        ),
    ),
    entry(
        _elu,
        "elu",
        "h(a) = a if a > 0 else α(eᵃ − 1),  ḣ = 1 if a > 0 else α eᵃ",
        real("alpha", 1.0, "α, the saturation value for a → −∞ is −α"),
        notes=("ḣ(0) = α, as in PyTorch",),
        forms=Forms(Torch("ELU", F + "elu"), keras("elu", layers=(KerasLayer("ELU", {"alpha": _ALPHA}),)), one("Elu", alpha=_ALPHA)),
    ),
    entry(
        _selu,
        "selu",
        "h(a) = λ·(a if a > 0 else α(eᵃ − 1)) with α ≈ 1.6733, λ ≈ 1.0507",
        notes=("ḣ(0) = λα, as in PyTorch",),
        forms=Forms(
            Torch("SELU", F + "selu"),
            keras("selu"),
            one(
                "Selu", alpha=Fixed(SELU_ALPHA, absent=1.67326319217681884765625), gamma=Fixed(SELU_SCALE, absent=1.05070102214813232421875)
            ),
        ),
    ),
    entry(
        _celu,
        "celu",
        "h(a) = max(0, a) + min(0, α(e^(a/α) − 1)),  ḣ = 1 if a > 0 else e^(a/α)",
        real("alpha", 1.0, "α", gt=0),
        keras="Keras 3 has celu with the same default α = 1.",
        notes=("ḣ(0) = 1, as in PyTorch",),
        forms=Forms(Torch("CELU", F + "celu"), keras("celu"), one("Celu", alpha=_ALPHA)),
    ),
    entry(
        _gelu,
        "gelu",
        "h(a) = a Φ(a) (Φ the standard normal CDF); approximate='tanh': ½a(1 + tanh(√(2/π)(a + 0.044715a³)))",
        choice("approximate", "none", ("none", "tanh"), "exact (none) or the tanh approximation"),
        keras="Keras's `approximate` is a boolean: keras.activations.gelu defaults to false (exact, as here), keras.ops.gelu to true.",
        forms=Forms(Torch("GELU", F + "gelu"), keras("gelu"), one("Gelu", approximate=Param("approximate", absent="none"))),
    ),
    entry(
        _silu,
        "silu",
        "h(a) = a σ(a),  ḣ = σ(a)(1 + a(1 − σ(a)))",
        aliases=("swish",),
        keras="Keras calls it silu or swish, as here.",
        forms=Forms(Torch("SiLU", F + "silu"), keras("silu", "swish"), (OnnxForm((OnnxNode("Sigmoid"), OnnxNode("Mul", ("a", 0)))),)),
    ),
    entry(
        _mish,
        "mish",
        "h(a) = a tanh(softplus(a))",
        forms=Forms(
            Torch("Mish", F + "mish"),
            keras("mish"),
            (*one("Mish"), OnnxForm((OnnxNode("Softplus"), OnnxNode("Tanh", (0,)), OnnxNode("Mul", ("a", 1))), writes=False)),
        ),
    ),
    entry(
        _softplus,
        "softplus",
        "h(a) = (1/β) log(1 + e^(βa)), or a where βa > threshold;  ḣ = σ(βa), or 1 there",
        real("beta", 1.0, "β", gt=0),
        real("threshold", 20.0, "above βa = threshold the function is taken as linear"),
        keras="Keras's softplus has no β and no threshold (β = 1, never linear).",
        forms=Forms(Torch("Softplus", F + "softplus"), keras("softplus"), _softplus_onnx()),
    ),
    entry(
        _softsign,
        "softsign",
        "h(a) = a / (1 + |a|),  ḣ = 1 / (1 + |a|)²",
        forms=Forms(
            Torch("Softsign", F + "softsign"),
            keras("softsign"),
            (*one("Softsign"), OnnxForm((OnnxNode("Abs"), OnnxNode("Add", (0, Fixed(1.0))), OnnxNode("Div", ("a", 1))), writes=False)),
        ),
    ),
    entry(
        _relu6,
        "relu6",
        "h(a) = min(max(a, 0), 6),  ḣ = [0 < a < 6]",
        notes=("ḣ(0) = ḣ(6) = 0, as in PyTorch",),
        forms=Forms(
            Torch("ReLU6", F + "relu6"),
            keras("relu6", layers=(KerasLayer("ReLU", {**_RELU, "max_value": Fixed(6.0)}),)),
            _two_sides("Clip", Fixed(0.0, name="min"), Fixed(6.0, name="max")),
        ),
    ),
    entry(
        _hard_sigmoid,
        "hard_sigmoid",
        "h(a) = relu6(a + 3) / 6,  ḣ = 1/6 for −3 < a < 3, else 0",
        keras="tf.keras 2 used 0.2a + 0.5 clipped to [0, 1] (saturating at ±2.5); Keras 3 uses relu6(a + 3)/6, as here.",
        notes=(
            "ḣ(±3) = 0, as in PyTorch",
            "PyTorch's float64 backward multiplies by a float32-rounded 1/6 (relative error 3e-8); here 1/6 is exact",
        ),
        forms=Forms(
            Torch("Hardsigmoid", F + "hardsigmoid"),
            keras("hard_sigmoid"),
            one("HardSigmoid", alpha=Fixed(1 / 6, absent=0.2), beta=Fixed(0.5)),
        ),
    ),
    entry(
        _hard_silu,
        "hard_silu",
        "h(a) = a relu6(a + 3) / 6,  ḣ = 0 for a ≤ −3, a/3 + ½ for −3 < a < 3, 1 for a ≥ 3",
        aliases=("hard_swish",),
        keras="Keras calls it hard_silu or hard_swish; PyTorch calls it hardswish.",
        notes=("ḣ(−3) = 0 and ḣ(3) = 1, as in PyTorch",),
        forms=Forms(Torch("Hardswish", F + "hardswish"), keras("hard_silu", "hard_swish"), one("HardSwish")),
    ),
    entry(
        _hard_tanh,
        "hard_tanh",
        "h(a) = min(max(a, min_val), max_val),  ḣ = [min_val < a < max_val]",
        real("min_val", -1.0, "the lower bound"),
        real("max_val", 1.0, "the upper bound (> min_val)"),
        keras="Keras 3's hard_tanh has fixed bounds [−1, 1].",
        notes=("ḣ = 0 at both bounds, as in PyTorch",),
        forms=Forms(Torch("Hardtanh", F + "hardtanh"), keras("hard_tanh"), _two_sides("Clip", Param("min_val"), Param("max_val"))),
    ),
    entry(
        _exponential,
        "exponential",
        "h(a) = eᵃ,  ḣ = z",
        keras="PyTorch has no exponential activation (torch.exp); the name is Keras's.",
        notes=("overflows for a > 709 (float64) or a > 88 (float32); the service then answers 422 naming the layer",),
        forms=Forms(
            Torch(NoForm("PyTorch has no exponential activation module; torch.exp is the function"), "torch.exp"),
            keras("exponential"),
            one("Exp"),
        ),
    ),
    entry(
        _log_sigmoid,
        "log_sigmoid",
        "h(a) = log σ(a) = −softplus(−a),  ḣ = σ(−a)",
        keras="Keras 3 has log_sigmoid with the same meaning.",
        forms=Forms(
            Torch("LogSigmoid", F + "logsigmoid"),
            keras("log_sigmoid"),
            (
                OnnxForm(
                    (OnnxNode("Neg"), OnnxNode("Softplus", (0,)), OnnxNode("Neg", (1,)))
                ),  # −softplus(−a): finite where log σ underflows
                OnnxForm((OnnxNode("Sigmoid"), OnnxNode("Log", (0,))), writes=False),
            ),
        ),
    ),
]
