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

    def __init_subclass__(cls, *, kind: str, title: str, **rest: object) -> None:
        """Each kind of problem is a subclass declared with its problem type and title: ``class X(InteropError, kind=…, title=…)``."""
        super().__init_subclass__(**rest)
        cls.kind, cls.title = kind, title

    def __init__(self, detail: str, pointer: str = "") -> None:
        self.detail = detail
        self.pointer = pointer
        super().__init__(f"{pointer or '/'}: {detail}")


class CorruptFile(InteropError, kind="corrupt-file", title="Corrupt or truncated file"):
    """Not a file of the format: truncated, not a zip / HDF5 / protobuf / safetensors, or malformed inside."""


class UnsafeFile(InteropError, kind="unsafe-file", title="File refused as unsafe"):
    """A file whose reading could run code or read the server's disk: a pickle, external data or links."""


class TooLarge(InteropError, kind="file-too-large", title="File unpacks past the limit"):
    """An archive or tensor that unpacks past the uncompressed-size limit (a zip bomb, say)."""


class UnsupportedLayer(InteropError, kind="unsupported-layer", title="Layer or op not supported"):
    """A Keras layer, an ONNX op or an activation the service cannot run as a dense layer."""


class ShapeMismatch(InteropError, kind="shape-mismatch", title="Shapes do not fit"):
    """Weights that are not matrices, a bias of the wrong length, or layers whose sizes do not chain."""


class UnsupportedDtype(InteropError, kind="unsupported-dtype", title="Tensor dtype not supported"):
    """A tensor that is not floating point (float16 and bfloat16 are widened to float32, exactly)."""


class KeyMismatch(InteropError, kind="key-mismatch", title="Missing or unexpected entry"):
    """A tensor or entry that should be there and is not, or one that is there and should not be."""


class NonFiniteWeight(InteropError, kind="non-finite-weight", title="Weight is not finite"):
    """A weight or bias that is NaN or ±Infinity."""


class BadArgument(InteropError, kind="bad-import-argument", title="Import argument does not fit"):
    """An argument of the import that does not fit the file (e.g. one activation per layer)."""


class NotExpressible(InteropError, kind="not-expressible", title="Format cannot carry this network"):
    """A network that the target format cannot carry exactly (e.g. an activation it does not have)."""
