"""ONNX: a chain of dense layers, as ``torch.onnx.export`` writes an ``nn.Sequential`` MLP (either exporter).

A layer is ``Gemm`` (transA = 0; transB, alpha and beta honoured: W = alpha·B or alpha·Bᵀ, b = beta·C)
or ``MatMul`` (W = Bᵀ) with an optional ``Add`` of a bias; then the nodes of one activation, in one
of the forms the exporters write (see :data:`SINGLE` and :func:`_activation`). Any other node is
refused by name. Tensors kept outside the file (external data) are refused before anything is read:
they would be files on the server's disk. Attributes are float32 in ONNX: a parameter read from one
is the shortest decimal that rounds to it (0.01, not 0.009999999776).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import onnx
from google.protobuf.message import DecodeError
from onnx import TensorProto, helper, numpy_helper

from service.engine.activations_elementwise import SELU_ALPHA, SELU_SCALE
from service.engine.arrays import Array
from service.interop.errors import CorruptFile, KeyMismatch, ShapeMismatch, UnsafeFile, UnsupportedLayer
from service.interop.network import (
    ActivationSpec,
    WireLayer,
    WireNetwork,
    activation,
    check_chain,
    matrix,
    name_and_params,
    tensor,
    tensor_source,
)

OPSET = 20  # Gelu needs 20; torch 2.13's exporters write 20 too
IR_VERSION = 9  # the oldest IR that opset 20 allows: readable by older runtimes
Node = onnx.NodeProto


def _nice(value: float) -> float:
    """A float32 attribute as the shortest decimal that rounds to it: 0.2 stays 0.2."""
    return float(str(np.float32(value)))


def _attrs(node: Node) -> dict[str, Any]:
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _where(index: int, node: Node) -> str:
    return f"/graph/node/{index}"


def _label(node: Node) -> str:
    return f"node {node.name!r} ({node.op_type})" if node.name else f"a {node.op_type} node"


def _refuse_external(model: onnx.ModelProto) -> None:
    def check(t: TensorProto, where: str) -> None:
        if t.data_location == TensorProto.EXTERNAL or t.external_data:
            raise UnsafeFile(
                f"tensor {t.name!r} is stored outside the file (external data); refused, it would read the server's disk: "
                "save the model with its weights inside (onnx.save(model, path, save_as_external_data=False))",
                where,
            )

    for i, t in enumerate(model.graph.initializer):
        check(t, f"/graph/initializer/{i}")
    if model.graph.sparse_initializer:
        raise UnsupportedLayer("the graph has sparse initializers; dense layers have dense weights", "/graph/sparse_initializer")
    for i, node in enumerate(model.graph.node):
        for a in node.attribute:
            if a.type == onnx.AttributeProto.TENSOR:
                check(a.t, f"/graph/node/{i}")
            if a.type == onnx.AttributeProto.GRAPH or a.type == onnx.AttributeProto.GRAPHS:
                raise UnsupportedLayer(f"{_label(node)} has a subgraph; the service reads a chain of dense layers", f"/graph/node/{i}")


class Graph:
    """The model's nodes (Constant nodes taken out as constants) and its stored tensors."""

    def __init__(self, model: onnx.ModelProto) -> None:
        g = model.graph
        self.constants: dict[str, TensorProto] = {t.name: t for t in g.initializer}
        self.nodes: list[tuple[int, Node]] = []
        for i, node in enumerate(g.node):
            if node.op_type == "Constant" and node.domain in ("", "ai.onnx"):
                value = _attrs(node)
                if "value" not in value:
                    raise UnsupportedLayer(f"{_label(node)} is not a tensor constant", _where(i, node))
                self.constants[node.output[0]] = value["value"]
            else:
                self.nodes.append((i, node))
        inputs = [v.name for v in g.input if v.name not in self.constants]
        if len(inputs) != 1 or len(g.output) != 1:
            raise UnsupportedLayer(
                f"the graph has inputs {inputs} and outputs {[v.name for v in g.output]}; a network has one of each", "/graph"
            )
        self.input, self.output = inputs[0], g.output[0].name

    def array(self, name: str, where: str, what: str) -> tuple[Array, str]:
        if name not in self.constants:
            raise UnsupportedLayer(f"its {what} {name!r} is not a stored tensor (an initializer or a Constant)", where)
        t = self.constants[name]
        try:
            raw = numpy_helper.to_array(t)
        except (ValueError, TypeError) as exc:
            raise CorruptFile(f"tensor {name!r} cannot be read ({exc})", where) from None
        return tensor(raw, where + f" ({name})"), raw.dtype.name

    def scalar(self, name: str, where: str, what: str) -> float:
        value, dtype = self.array(name, where, what)
        if value.size != 1:
            raise ShapeMismatch(f"its {what} {name!r} has shape {list(value.shape)}; a scalar is expected", where)
        number = float(value.reshape(()))
        return _nice(number) if dtype == "float32" else number


# --- reading: the linear part --------------------------------------------------------------------------------


def _linear(graph: Graph, at: int, t: str) -> tuple[WireLayer, dict[str, Any], str, int]:
    """The layer starting at node ``at``, taking tensor ``t``: its W and b, source, output tensor and the next node."""
    i, node = graph.nodes[at]
    where = _where(i, node)
    if node.op_type not in ("Gemm", "MatMul") or node.domain not in ("", "ai.onnx"):
        raise UnsupportedLayer(f"{_label(node)} is not supported here: a dense layer starts with Gemm or MatMul", where)
    if list(node.input[:1]) != [t]:
        raise UnsupportedLayer(f"{_label(node)} does not take the previous layer's output {t!r} as its first input", where)
    attrs = _attrs(node)
    weights_key, layer_name = node.input[1], node.name
    B, B_dtype = graph.array(weights_key, where, "weight")
    if node.op_type == "Gemm":
        if attrs.get("transA", 0):
            raise UnsupportedLayer(f"{_label(node)} has transA=1 (the data would be features × batch); a dense layer has transA=0", where)
        alpha, beta = float(attrs.get("alpha", 1.0)), float(attrs.get("beta", 1.0))
        transposed = not attrs.get("transB", 0)
        W = matrix(B, where)
        W = np.ascontiguousarray(W.T) if transposed else W
        W = W * W.dtype.type(alpha) if alpha != 1 else W
        bias = node.input[2] if len(node.input) > 2 and node.input[2] else None
        kind, notes = "Gemm", ([f"alpha={_nice(alpha)} folded into W"] if alpha != 1 else [])
    else:
        W, transposed, beta, bias = np.ascontiguousarray(matrix(B, where).T), True, 1.0, None
        kind, notes = "MatMul", []
        if at + 1 < len(graph.nodes):
            _, add = graph.nodes[at + 1]
            if add.op_type == "Add" and node.output[0] in add.input:
                others = [n for n in add.input if n != node.output[0]]
                if len(others) == 1 and others[0] in graph.constants:
                    bias, node, kind, at = others[0], add, "MatMul+Add", at + 1
                    layer_name = f"{layer_name}+{add.name}"
    b, b_source = None, None
    if bias is not None:
        C, C_dtype = graph.array(bias, where, "bias")
        K = W.shape[0]
        if C.size not in (1, K) or (C.ndim == 2 and C.shape[0] != 1) or C.ndim > 2:
            raise ShapeMismatch(f"its bias {bias!r} has shape {list(C.shape)}; a layer with {K} outputs takes [{K}]", where)
        b = np.broadcast_to(C.reshape(-1), (K,)).copy()
        b = b * b.dtype.type(beta) if beta != 1 else b
        notes += [f"beta={_nice(beta)} folded into b"] if beta != 1 else []
        b_source = tensor_source(bias, b, C_dtype)
    source = {
        "name": layer_name,
        "type": kind,
        "weights": tensor_source(weights_key, W, B_dtype, transposed),
        "bias": b_source,
        "notes": notes,
    }
    return {"weights": W, "bias": b, "activation": "linear"}, source, node.output[0], at + 1


# --- reading: the activation ---------------------------------------------------------------------------------

#: One-node activations: ONNX op → how its attributes give the engine's spec.
SINGLE: dict[str, Callable[[dict[str, Any], str], ActivationSpec]] = {
    "Identity": lambda a, w: "linear",
    "Tanh": lambda a, w: "tanh",
    "Sigmoid": lambda a, w: "sigmoid",
    "Relu": lambda a, w: "relu",
    "Softsign": lambda a, w: "softsign",
    "HardSwish": lambda a, w: "hard_silu",
    "Mish": lambda a, w: "mish",
    "Exp": lambda a, w: "exponential",
    "LeakyRelu": lambda a, w: activation("leaky_relu", w, negative_slope=_nice(a.get("alpha", 0.01))),
    "Elu": lambda a, w: activation("elu", w, alpha=_nice(a.get("alpha", 1.0))),
    "Celu": lambda a, w: activation("celu", w, alpha=_nice(a.get("alpha", 1.0))),
    "Gelu": lambda a, w: activation("gelu", w, approximate=a.get("approximate", b"none").decode()),
}


def _selu(attrs: dict[str, Any], where: str) -> ActivationSpec:
    alpha, gamma = attrs.get("alpha", SELU_ALPHA), attrs.get("gamma", SELU_SCALE)
    if not (math.isclose(alpha, SELU_ALPHA, rel_tol=1e-6) and math.isclose(gamma, SELU_SCALE, rel_tol=1e-6)):
        raise UnsupportedLayer(f"Selu with alpha={alpha}, gamma={gamma}; the service's selu has alpha≈1.67326, gamma≈1.05070", where)
    return "selu"


def _hard_sigmoid(attrs: dict[str, Any], where: str) -> ActivationSpec:
    alpha, beta = attrs.get("alpha", 0.2), attrs.get("beta", 0.5)
    if not (math.isclose(alpha, 1 / 6, rel_tol=1e-6) and math.isclose(beta, 0.5, rel_tol=1e-6)):
        raise UnsupportedLayer(
            f"HardSigmoid with alpha={_nice(alpha)}, beta={_nice(beta)}; the service's hard_sigmoid is PyTorch's and Keras 3's, "
            "clip(a/6 + 1/2, 0, 1): alpha=1/6, beta=0.5 (tf.keras 2's 0.2a + 0.5 is not available)",
            where,
        )
    return "hard_sigmoid"


def _softmax(name: str) -> Callable[[dict[str, Any], str], ActivationSpec]:
    def read(attrs: dict[str, Any], where: str) -> ActivationSpec:
        if attrs.get("axis", -1) not in (-1, 1):  # the data is batch × units: axis 1 is the last
            raise UnsupportedLayer(f"{name} over axis {attrs['axis']}; the service's is over the units (the last axis)", where)
        return name

    return read


SINGLE |= {"Selu": _selu, "HardSigmoid": _hard_sigmoid, "Softmax": _softmax("softmax"), "LogSoftmax": _softmax("log_softmax")}


def _clip(graph: Graph, node: Node, where: str) -> ActivationSpec:
    attrs = _attrs(node)
    low = graph.scalar(node.input[1], where, "min") if len(node.input) > 1 and node.input[1] else attrs.get("min")
    high = graph.scalar(node.input[2], where, "max") if len(node.input) > 2 and node.input[2] else attrs.get("max")
    if low is None or high is None:
        raise UnsupportedLayer(f"{_label(node)} is bounded on one side only; the service has relu6 and hard_tanh (two bounds)", where)
    if (low, high) == (0.0, 6.0):
        return "relu6"
    return activation("hard_tanh", where, min_val=_nice(low), max_val=_nice(high))


def _uses(node: Node, *names: str) -> bool:
    return sorted(n for n in node.input) == sorted(names)


def _softplus(graph: Graph, block: list[tuple[int, Node]], a: str, where: str) -> ActivationSpec | None:
    """[Mul(a, β)] → Softplus → [Div(·, β)] → [Greater(βa, threshold), Where(…, a, ·)]: softplus(beta, threshold), or None."""
    ops = [n.op_type for _, n in block]
    nodes = [n for _, n in block]
    beta, scaled, k = 1.0, a, 0
    if ops[:1] == ["Mul"]:
        other = [n for n in nodes[0].input if n != a]
        if len(other) != 1 or a not in nodes[0].input:
            return None
        beta, scaled, k = graph.scalar(other[0], where, "beta"), nodes[0].output[0], 1
    if ops[k : k + 1] != ["Softplus"] or list(nodes[k].input) != [scaled]:
        return None
    out, k = nodes[k].output[0], k + 1
    if beta != 1.0:
        if ops[k : k + 1] != ["Div"] or list(nodes[k].input[:1]) != [out] or graph.scalar(nodes[k].input[1], where, "beta") != beta:
            return None
        out, k = nodes[k].output[0], k + 1
    threshold = None
    if ops[k:] == ["Greater", "Where"]:
        greater, where_node = nodes[k], nodes[k + 1]
        if list(greater.input[:1]) != [scaled] or list(where_node.input) != [greater.output[0], a, out]:
            return None
        threshold, out, k = graph.scalar(greater.input[1], where, "threshold"), where_node.output[0], k + 2
    if k != len(nodes):
        return None
    if threshold is None:  # ONNX's Softplus is log(1 + e^(βa)) everywhere; the engine's turns linear above 20 (a difference < 2e-9)
        threshold = 20.0
    return activation("softplus", where, beta=beta, threshold=threshold)


def _activation(graph: Graph, block: list[tuple[int, Node]], a: str) -> tuple[ActivationSpec, str]:
    """The activation computed by the nodes of ``block`` from ``a``, and its output tensor."""
    if not block:
        return "linear", a
    i, first = block[0]
    where = _where(i, first)
    ops = tuple(n.op_type for _, n in block)
    nodes = [n for _, n in block]
    out = nodes[-1].output[0]
    for j, n in block:
        if n.domain not in ("", "ai.onnx"):
            raise UnsupportedLayer(f"{_label(n)} is in the op domain {n.domain!r}; only standard ONNX ops are read", _where(j, n))
    if len(block) == 1 and list(first.input[:1]) == [a]:
        if first.op_type in SINGLE:
            return SINGLE[first.op_type](_attrs(first), where), out
        if first.op_type == "Clip":
            return _clip(graph, first, where), out

    def sequence(*k: int) -> bool:  # each of these nodes takes exactly the previous one's output (the first: a)
        return all(list(nodes[j].input) == [nodes[j - 1].output[0] if j else a] for j in k)

    if ops == ("Sigmoid", "Mul") and sequence(0) and _uses(nodes[1], a, nodes[0].output[0]):
        return "silu", out
    if ops in (("Sigmoid", "Log"), ("Neg", "Softplus", "Neg")) and sequence(*range(len(nodes))):
        return "log_sigmoid", out
    if ops == ("Softplus", "Tanh", "Mul") and sequence(0, 1) and _uses(nodes[2], a, nodes[1].output[0]):
        return "mish", out
    if ops == ("Abs", "Add", "Div") and sequence(0) and list(nodes[2].input) == [a, nodes[1].output[0]]:
        one = [n for n in nodes[1].input if n != nodes[0].output[0]]
        if len(one) == 1 and nodes[0].output[0] in nodes[1].input and graph.scalar(one[0], where, "constant") == 1.0:
            return "softsign", out
    if "Softplus" in ops:
        found = _softplus(graph, block, a, where)
        if found is not None:
            return found, out
    known = [*SINGLE, "Clip"]
    unsupported = next(((j, n) for j, n in block if n.op_type not in SINGLE and n.op_type != "Clip"), block[0])
    raise UnsupportedLayer(
        f"{_label(unsupported[1])} (in the nodes {' → '.join(ops)} after a dense layer) is not an activation the service reads; "
        f"it reads {', '.join(sorted(known))}, and SiLU, Mish, LogSigmoid, Softsign and Softplus as torch.onnx.export writes them",
        _where(*unsupported),
    )


def read_onnx(data: bytes) -> dict[str, Any]:
    """The network of an ONNX model of dense layers, and its source."""
    try:
        model = onnx.load_model_from_string(data)
    except (DecodeError, ValueError, RuntimeError) as exc:
        raise CorruptFile(f"is not an ONNX model ({exc})", "") from None
    _refuse_external(model)
    try:
        onnx.checker.check_model(model)
    except (onnx.checker.ValidationError, ValueError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CorruptFile(f"is not a valid ONNX model: {first_line}", "/graph") from None
    graph = Graph(model)
    if not graph.nodes:
        raise KeyMismatch("the graph has no nodes", "/graph/node")
    layers: list[WireLayer] = []
    sources: list[dict[str, Any]] = []
    wheres: list[str] = []
    t, at = graph.input, 0
    while at < len(graph.nodes):
        wheres.append(_where(*graph.nodes[at]))
        layer, source, a, at = _linear(graph, at, t)
        end = next((k for k in range(at, len(graph.nodes)) if graph.nodes[k][1].op_type in ("Gemm", "MatMul")), len(graph.nodes))
        block = graph.nodes[at:end]
        layer["activation"], t = _activation(graph, block, a)
        source["activation_nodes"] = [n.name for _, n in block]
        layers.append(layer)
        sources.append(source)
        at = end
    if t != graph.output:
        raise UnsupportedLayer(f"the chain of layers ends at {t!r}, not at the graph's output {graph.output!r}", "/graph/output")
    check_chain(layers, wheres)
    opsets = {o.domain or "ai.onnx": o.version for o in model.opset_import}
    network: WireNetwork = {"layers": layers}
    source_info = {"layers": sources, "skipped": [], "opset": opsets.get("ai.onnx"), "producer": model.producer_name or None}
    return {"network": network, "source": source_info}


# --- writing -------------------------------------------------------------------------------------------------


class _Writer:
    def __init__(self, dtype: str) -> None:
        self.np_dtype = np.dtype(dtype)
        self.elem = TensorProto.FLOAT if dtype == "float32" else TensorProto.DOUBLE
        self.nodes: list[Node] = []
        self.initializers: list[TensorProto] = []

    def const(self, name: str, value: Any) -> str:
        self.initializers.append(numpy_helper.from_array(np.asarray(value, dtype=self.np_dtype), name))
        return name

    def node(self, op: str, inputs: list[str], output: str, name: str, **attrs: Any) -> str:
        self.nodes.append(helper.make_node(op, inputs, [output], name=name, **attrs))
        return output

    def activation(self, h: ActivationSpec, a: str, z: str, l: int) -> str:
        """The nodes computing z = h(a) (the forms the reader takes back)."""
        name, p = name_and_params(h)
        n = f"/{l}/{name}"
        one = {"tanh": "Tanh", "sigmoid": "Sigmoid", "relu": "Relu", "selu": "Selu", "mish": "Mish", "softsign": "Softsign"}
        one |= {"hard_silu": "HardSwish", "exponential": "Exp"}
        if name in one:
            return self.node(one[name], [a], z, n)
        if name == "linear":
            return self.node("Identity", [a], z, n) if z == "y" else a
        if name in ("softmax", "log_softmax"):
            return self.node("Softmax" if name == "softmax" else "LogSoftmax", [a], z, n, axis=-1)
        if name in ("leaky_relu", "elu", "celu"):
            op = {"leaky_relu": "LeakyRelu", "elu": "Elu", "celu": "Celu"}[name]
            return self.node(op, [a], z, n, alpha=float(p["negative_slope" if name == "leaky_relu" else "alpha"]))
        if name == "gelu":
            return self.node("Gelu", [a], z, n, approximate=p["approximate"])
        if name == "hard_sigmoid":
            return self.node("HardSigmoid", [a], z, n, alpha=1 / 6, beta=0.5)
        if name in ("relu6", "hard_tanh"):
            low, high = (0.0, 6.0) if name == "relu6" else (p["min_val"], p["max_val"])
            return self.node("Clip", [a, self.const(f"{n}/min", low), self.const(f"{n}/max", high)], z, n)
        if name == "silu":
            return self.node("Mul", [a, self.node("Sigmoid", [a], f"{n}/sigmoid", f"{n}/Sigmoid")], z, f"{n}/Mul")
        if name == "log_sigmoid":  # −softplus(−a): finite where log(sigmoid(a)) underflows
            minus = self.node("Neg", [a], f"{n}/neg", f"{n}/Neg")
            return self.node("Neg", [self.node("Softplus", [minus], f"{n}/softplus", f"{n}/Softplus")], z, f"{n}/Neg_1")
        if name == "softplus":  # as the dynamo exporter writes nn.Softplus(beta, threshold)
            scaled = a if p["beta"] == 1 else self.node("Mul", [a, self.const(f"{n}/beta", p["beta"])], f"{n}/scaled", f"{n}/Mul")
            soft = self.node("Softplus", [scaled], f"{n}/softplus", f"{n}/Softplus")
            if p["beta"] != 1:
                soft = self.node("Div", [soft, f"{n}/beta"], f"{n}/divided", f"{n}/Div")
            above = self.node("Greater", [scaled, self.const(f"{n}/threshold", p["threshold"])], f"{n}/above", f"{n}/Greater")
            return self.node("Where", [above, a, soft], z, f"{n}/Where")
        raise AssertionError(f"no ONNX form for {name}")  # every engine activation has one above


def write_onnx(network: WireNetwork, dtype: str) -> bytes:
    """A model of Gemm (W out × in, transB = 1) and activation nodes, opset 20, that onnxruntime runs; input x, output y."""
    w = _Writer(dtype)
    layers = network["layers"]
    t = "x"
    for l, layer in enumerate(layers):
        inputs = [t, w.const(f"{l}.weight", layer["weights"])]
        if layer["bias"] is not None:
            inputs.append(w.const(f"{l}.bias", layer["bias"]))
        a = w.node("Gemm", inputs, f"/{l}/a", f"/{l}/Gemm", transB=1)
        t = w.activation(layer["activation"], a, "y" if l == len(layers) - 1 else f"/{l}/z", l)
    M, K = int(layers[0]["weights"].shape[1]), int(layers[-1]["weights"].shape[0])
    graph = helper.make_graph(
        w.nodes,
        "network",
        [helper.make_tensor_value_info("x", w.elem, ["N", M])],
        [helper.make_tensor_value_info("y", w.elem, ["N", K])],
        w.initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="gradient-service")
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    return bytes(model.SerializeToString())
