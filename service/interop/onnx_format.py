"""ONNX: a chain of dense layers, as ``torch.onnx.export`` writes an ``nn.Sequential`` MLP (either exporter).

A layer is ``Gemm`` (transA = 0; transB, alpha and beta honoured: W = alpha·B or alpha·Bᵀ, b = beta·C)
or ``MatMul`` (W = Bᵀ) with an optional ``Add`` of a bias; then the nodes of one activation, in one
of the forms its registry record lists (``forms.onnx``: those the exporters write; see :func:`_activation`). Any other node is
refused by name. Tensors kept outside the file (external data) are refused before anything is read:
they would be files on the server's disk. Attributes are float32 in ONNX: a parameter read from one
is the shortest decimal that rounds to it (0.01, not 0.009999999776).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
from google.protobuf.message import DecodeError
from onnx import TensorProto, helper, numpy_helper

from service.engine.arrays import Array
from service.engine.forms import OnnxForm, OnnxNode, Operand, Param
from service.interop.activation_forms import MISSING, RECORDS, candidates, left_out, onnx_forms, take, write_value, written
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

#: Ops whose two inputs may come in either order.
COMMUTATIVE = {"Add", "Mul"}
#: Every activation's ONNX forms (its record's ``forms.onnx``), those carrying fewest parameters first.
FORMS = candidates(onnx_forms)
#: The ops a one-node activation is written with.
SINGLE = sorted({form.nodes[0].op for _, form in FORMS if len(form.nodes) == 1})


def _attr(value: Any) -> Any:
    """An attribute as the forms compare it: text decoded, a float32 as its shortest decimal."""
    return value.decode() if isinstance(value, bytes) else _nice(value) if isinstance(value, float) else value


def _operand_fits(graph: Graph, operand: Operand, name: str, a: str, outputs: list[str], bound: dict[str, Any], where: str) -> bool:
    """Whether input ``name`` is ``operand``: a, an earlier node's output, or a constant (a Param's is bound)."""
    if isinstance(operand, str | int):
        return name == (a if operand == "a" else outputs[int(operand)])
    what = operand.name or "constant"
    return name in graph.constants and take(operand, graph.scalar(name, where, what), bound)


def _node_fits(graph: Graph, want: OnnxNode, node: Node, a: str, outputs: list[str], bound: dict[str, Any], where: str) -> bool:
    """Whether ``node`` is ``want`` taking a and the outputs of the form's earlier nodes; binds its parameters into ``bound``."""
    if node.op_type != want.op or len(node.input) != len(want.inputs):
        return False
    attrs = _attrs(node)
    inputs = list(node.input)
    for order in [inputs, inputs[::-1]] if want.op in COMMUTATIVE else [inputs]:
        trial = dict(bound)
        if all(_operand_fits(graph, o, n, a, outputs, trial, where) for o, n in zip(want.inputs, order, strict=True)) and all(
            take(v, _attr(attrs[k]) if k in attrs else MISSING, trial) for k, v in want.attrs.items()
        ):
            bound.update(trial)
            return True
    return False


def _form_fits(graph: Graph, form: OnnxForm, nodes: list[Node], a: str, where: str) -> dict[str, Any] | None:
    """The parameters if ``nodes`` compute ``form`` from a, else None."""
    if [n.op_type for n in nodes] != [n.op for n in form.nodes]:
        return None
    bound: dict[str, Any] = {}
    outputs: list[str] = []
    for want, node in zip(form.nodes, nodes, strict=True):
        if not _node_fits(graph, want, node, a, outputs, bound, where):
            return None
        outputs.append(node.output[0])
    return {**form.implies, **bound}


def describe(form: OnnxForm) -> str:
    """A form as text: ``Clip(a, 0, 6)``, ``Sigmoid(a) → Mul(a, Sigmoid)``, ``Softmax(a; axis=-1)``."""

    def text(v: Any) -> str:
        return v if v == "a" else form.nodes[v].op if isinstance(v, int) else v.name if isinstance(v, Param) else f"{v.value:g}"

    nodes = [
        f"{n.op}({', '.join(text(i) for i in n.inputs)}{'; ' if n.attrs else ''}{', '.join(f'{k}={text(v)}' for k, v in n.attrs.items())})"
        for n in form.nodes
    ]
    return " → ".join(nodes) or "no node"


def _activation(graph: Graph, block: list[tuple[int, Node]], a: str) -> tuple[ActivationSpec, str]:
    """The activation computed by the nodes of ``block`` from ``a``, and its output tensor."""
    i, first = block[0] if block else (-1, None)
    where = _where(i, first) if first is not None else ""
    ops = [n.op_type for _, n in block]
    nodes = [n for _, n in block]
    for j, n in block:
        if n.domain not in ("", "ai.onnx"):
            raise UnsupportedLayer(f"{_label(n)} is in the op domain {n.domain!r}; only standard ONNX ops are read", _where(j, n))
    for name, form in FORMS:
        params = _form_fits(graph, form, nodes, a, where)
        if params is not None:
            return activation(name, where, **params), nodes[-1].output[0] if nodes else a
    near = [f"{name} as {describe(form)}" for name, form in FORMS if [n.op for n in form.nodes] == ops]
    if near and first is not None:
        attrs = ", ".join(f"{k}={_attr(v)!r}".replace("'", "") for k, v in _attrs(first).items())
        raise UnsupportedLayer(
            f"{_label(first)}{f' with {attrs}' if attrs else ''} (in the nodes {' → '.join(ops)}) does not have the inputs or "
            f"attributes of an activation the service reads: it reads {'; '.join(near)}",
            where,
        )
    several = [f"{name} ({' → '.join(n.op for n in form.nodes)})" for name, form in FORMS if len(form.nodes) > 1]
    unsupported = next(((j, n) for j, n in block if n.op_type not in SINGLE), block[0])
    raise UnsupportedLayer(
        f"{_label(unsupported[1])} (in the nodes {' → '.join(ops)} after a dense layer) is not an activation the service reads; "
        f"it reads {', '.join(SINGLE)}, and as several nodes {', '.join(dict.fromkeys(several))}",
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
        if name not in {t.name for t in self.initializers}:  # softplus's beta serves its Mul and its Div
            self.initializers.append(numpy_helper.from_array(np.asarray(value, dtype=self.np_dtype), name))
        return name

    def node(self, op: str, inputs: list[str], output: str, name: str, **attrs: Any) -> str:
        self.nodes.append(helper.make_node(op, inputs, [output], name=name, **attrs))
        return output

    def activation(self, h: ActivationSpec, a: str, z: str, l: int) -> str:
        """The nodes computing z = h(a): the first form of h's record that carries its parameters."""
        name, params = name_and_params(h)
        form = written("ONNX", (name, params), RECORDS[name][1].onnx, f"/network/layers/{l}/activation")
        return self.form(form, params, a, z, f"/{l}/{name}")

    def operand(self, x: Operand, a: str, outputs: list[str], params: dict[str, Any], n: str) -> str:
        if isinstance(x, str | int):
            return a if x == "a" else outputs[int(x)]
        return self.const(f"{n}/{x.name}", write_value(x, params))

    def form(self, form: OnnxForm, params: dict[str, Any], a: str, z: str, n: str) -> str:
        """The nodes of ``form`` from a to z, named after ``n`` (one node: ``n``; several: ``n/Op``, ``n/Op_1``)."""
        if not form.nodes:  # the identity: no node, unless z must be the graph's output
            return self.node("Identity", [a], z, n) if z == "y" else a
        outputs: list[str] = []
        seen: dict[str, int] = {}
        for j, want in enumerate(form.nodes):
            count = seen[want.op] = seen.get(want.op, -1) + 1
            name = n if len(form.nodes) == 1 else f"{n}/{want.op}{f'_{count}' if count else ''}"
            output = z if j == len(form.nodes) - 1 else f"{n}/{want.output or want.op.lower()}"
            inputs = [self.operand(x, a, outputs, params, n) for x in want.inputs]
            attrs = {k: write_value(v, params) for k, v in want.attrs.items() if not left_out(v)}
            outputs.append(self.node(want.op, inputs, output, name, **attrs))
        return outputs[-1]


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
