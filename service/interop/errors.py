"""What can be wrong with a file read as a network, or a network written to a format: what, and where.

Every error carries ``detail`` (what is wrong and what would be right) and ``pointer`` (where in the
file: a JSON Pointer into the file's structure, e.g. ``/config.json/config/layers/3``,
``/model.weights.h5/layers/dense/vars/0``, ``/graph/node/2`` or ``/2.weight``; for an export,
into the network, e.g. ``/network/layers/1/activation``). ``kind`` names the class of problem
(the problem type when the service answers with it). Nothing here knows about HTTP.
"""

from __future__ import annotations

from typing import ClassVar


class InteropError(ValueError):
    """A file that cannot be read as a dense network, or a network a format cannot carry."""

    kind: ClassVar[str] = "unreadable-file"
    title: ClassVar[str] = "File cannot be read as a network"

    def __init__(self, detail: str, pointer: str = "") -> None:
        self.detail = detail
        self.pointer = pointer
        super().__init__(f"{pointer or '/'}: {detail}")


class CorruptFile(InteropError):
    """Not a file of the format: truncated, not a zip / HDF5 / protobuf / safetensors, or malformed inside."""

    kind = "corrupt-file"
    title = "Corrupt or truncated file"


class UnsafeFile(InteropError):
    """A file whose reading could run code or read the server's disk: a pickle, external data or links."""

    kind = "unsafe-file"
    title = "File refused as unsafe"


class TooLarge(InteropError):
    """An archive or tensor that unpacks past the uncompressed-size limit (a zip bomb, say)."""

    kind = "file-too-large"
    title = "File unpacks past the limit"


class UnsupportedLayer(InteropError):
    """A Keras layer, an ONNX op or an activation the service cannot run as a dense layer."""

    kind = "unsupported-layer"
    title = "Layer or op not supported"


class ShapeMismatch(InteropError):
    """Weights that are not matrices, a bias of the wrong length, or layers whose sizes do not chain."""

    kind = "shape-mismatch"
    title = "Shapes do not fit"


class UnsupportedDtype(InteropError):
    """A tensor that is not floating point (float16 and bfloat16 are widened to float32, exactly)."""

    kind = "unsupported-dtype"
    title = "Tensor dtype not supported"


class KeyMismatch(InteropError):
    """A tensor or entry that should be there and is not, or one that is there and should not be."""

    kind = "key-mismatch"
    title = "Missing or unexpected entry"


class NonFiniteWeight(InteropError):
    """A weight or bias that is NaN or ±Infinity."""

    kind = "non-finite-weight"
    title = "Weight is not finite"


class BadArgument(InteropError):
    """An argument of the import that does not fit the file (e.g. one activation per layer)."""

    kind = "bad-import-argument"
    title = "Import argument does not fit"


class NotExpressible(InteropError):
    """A network that the target format cannot carry exactly (e.g. an activation it does not have)."""

    kind = "not-expressible"
    title = "Format cannot carry this network"
