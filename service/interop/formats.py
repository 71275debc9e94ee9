"""The interchange formats, in one list: the routes' enums and docs are derived from it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: Every format name; ``ImportFormat`` takes them all, ``ExportFormat`` those with ``writes``.
FormatName = Literal["keras", "keras_json", "safetensors", "onnx"]
ExportFormatName = Literal["keras", "safetensors", "onnx"]


@dataclass(frozen=True)
class Format:
    """A file format a network can be read from (and, if ``writes``, written to)."""

    name: FormatName
    description: str
    media_type: str
    filename: str  #: the name an exported file gets
    writes: bool


FORMATS: tuple[Format, ...] = (
    Format(
        "keras",
        "Keras 3 `.keras` zip (config.json + model.weights.h5) of a Sequential or Functional chain of `Dense` layers. "
        "Kernels (in × out) are transposed to W (out × in). `InputLayer` is read for the input size; `Dropout` is skipped "
        "(it is the identity at inference, and `source.skipped` says so); an `Activation`, `ReLU`, `LeakyReLU`, `ELU` or "
        "`Softmax` layer folds into the `Dense` before it when that one is linear. Any other layer is refused, by name.",
        "application/zip",
        "network.keras",
        True,
    ),
    Format(
        "keras_json",
        'JSON `{"config": model.to_json() (as a string or the object), "weights": model.get_weights() as nested lists}`: '
        "the same layers as `keras`, the weights in `get_weights()` order (each Dense's kernel, in × out, then its bias).",
        "application/json",
        "network.json",
        False,
    ),
    Format(
        "safetensors",
        "A PyTorch state_dict saved with safetensors: `N.weight` (out × in) and `N.bias` of an `nn.Sequential` of `Linear` "
        "layers, in order of N. A state_dict carries no activations: pass `activations` (one per Linear layer), unless the "
        "file was exported by this service (it keeps them in its metadata). `prefix` strips a key prefix (e.g. `model.`); "
        "`layers` names the key stems in order (e.g. `fc1,fc2`) for keys that are not `N.weight`.",
        "application/octet-stream",
        "network.safetensors",
        True,
    ),
    Format(
        "onnx",
        "ONNX model (as `torch.onnx.export` writes an `nn.Sequential` MLP, either exporter): `Gemm` (transA = 0; transB, "
        "alpha, beta honoured) or `MatMul` + `Add`, each followed by the nodes of one activation. Tensors stored outside "
        "the file (external data) are refused, and so is any op that is not part of a dense layer, by node name.",
        "application/octet-stream",
        "network.onnx",
        True,
    ),
)

BY_NAME: dict[str, Format] = {f.name: f for f in FORMATS}


def describe() -> str:
    """The formats as a Markdown list, for the routes' docs."""
    return "\n".join(f"- `{f.name}`{'' if f.writes else ' (import only)'}: {f.description}" for f in FORMATS)
