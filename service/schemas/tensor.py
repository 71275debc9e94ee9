"""Wire types for vectors and matrices: JSON arrays or binary tensors in, NumPy arrays out.

Every vector or matrix the service reads comes in one of two forms:

- a JSON array (of numbers, or of equal-length rows of numbers), validated in
  pydantic-core (strict floats, no NaN/Infinity, no booleans or strings) and
  made a float64 array in the same pass: no second walk over Python lists;
- in a large body, a placeholder string that :mod:`service.schemas.json_arrays` put where such an
  array was, after reading it straight into NumPy (never sent by a client, never in the OpenAPI document);
- a binary tensor ``{"dtype": "float32"|"float64", "shape": [...], "b64": "..."}``,
  the base64 (RFC 4648, padded, no line breaks) of the little-endian row-major
  bytes, read with ``np.frombuffer``: no copy, and float32 stays float32.

:func:`to_wire` writes an array in the binary form, for ``"response_encoding": "base64"``.
The JSON Schema of each type is a ``oneOf`` of its two forms.
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
import pybase64
from pydantic import AfterValidator, Field, GetCoreSchemaHandler, GetJsonSchemaHandler, ValidationInfo
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from service.engine.arrays import Array
from service.schemas.base import WireModel
from service.schemas.json_arrays import PLACEHOLDER_PREFIX, SCAN_CONTEXT, ArrayField, Scan
from service.schemas.names import Dtype
from service.schemas.validation import NOT_A_PLACEHOLDER, PLACEHOLDER

#: Labels of a choice between wire forms are written <like-this>; they appear in
#: pydantic's error locations and are dropped when those become JSON Pointers.
VECTOR, MATRIX, POINTS, TENSOR = "<vector>", "<matrix>", "<points>", "<tensor>"


#: The dtypes a binary tensor may have, with their little-endian NumPy types.
DTYPES: dict[str, np.dtype[Any]] = {"float32": np.dtype("<f4"), "float64": np.dtype("<f8")}

_FLOAT = core_schema.float_schema(strict=True, allow_inf_nan=False)


# fail_fast: a list stops at its first bad item, so a body of 100k bad rows costs one error, not 100k.
def _vector_schema() -> core_schema.CoreSchema:
    return core_schema.list_schema(_FLOAT, min_length=1, fail_fast=True)


def _matrix_schema() -> core_schema.CoreSchema:
    return core_schema.list_schema(_vector_schema(), min_length=1, fail_fast=True)


def _to_vector(value: list[float]) -> Array:
    return np.array(value, dtype=np.float64)


def _ragged(row: int, found: int, expected: int) -> PydanticCustomError:
    return PydanticCustomError(
        "ragged_matrix",
        "row {row} has {found} entries but row 0 has {expected}; every row must have the same length",
        {"row": row, "found": found, "expected": expected},
    )


def _to_matrix(value: list[list[float]]) -> Array:
    width = len(value[0])
    for i, row in enumerate(value):
        if len(row) != width:
            raise _ragged(i, len(row), width)
    return np.array(value, dtype=np.float64)


def _placeholder_schema(ndims: tuple[int, ...]) -> core_schema.CoreSchema:
    """A placeholder string, resolved to the array it stands for (ndim one of ``ndims``) by the scan in the context."""

    def resolve(value: str, info: ValidationInfo) -> Array:
        scan = info.context.get(SCAN_CONTEXT) if isinstance(info.context, dict) else None
        k = scan.index(value) if isinstance(scan, Scan) and value.startswith(PLACEHOLDER_PREFIX) else None
        if k is None or not isinstance(scan, Scan):
            raise PydanticCustomError(NOT_A_PLACEHOLDER, "is not an array")
        block = scan.blocks[k]
        if block.ndim not in ndims:
            scan.misfits.add(k)
            raise PydanticCustomError(NOT_A_PLACEHOLDER, "is not an array of this form")
        scan.used.add(k)
        if block.ragged is not None:
            raise _ragged(*block.ragged)
        array: Array | None = block.array
        assert array is not None
        return array

    return core_schema.with_info_after_validator_function(resolve, core_schema.str_schema(strict=True))


def _decode(value: str, info: ValidationInfo) -> Array | None:
    """The array that ``b64`` holds, given the ``dtype`` and ``shape`` validated before it."""
    try:
        raw = pybase64.b64decode_as_bytearray(value, validate=True)  # SIMD, ~40× the stdlib; a bytearray: the array is writable
    except ValueError as exc:  # binascii.Error: outside the alphabet (line breaks, non-ASCII …) or bad padding
        raise PydanticCustomError(
            "base64", "is not valid base64 ({error}); send RFC 4648 base64 with padding and no line breaks", {"error": str(exc)}
        ) from exc
    dtype, shape = info.data.get("dtype"), info.data.get("shape")
    if dtype is None or shape is None:  # their own errors are reported; nothing to check against
        return None
    itemsize = DTYPES[dtype].itemsize
    count = int(np.prod(shape, dtype=object))
    if len(raw) != count * itemsize:
        raise PydanticCustomError(
            "tensor_size",
            "decodes to {found} bytes but shape {shape} of {dtype} needs {expected} ({count} numbers of {itemsize} bytes)",
            {"found": len(raw), "shape": shape, "dtype": dtype, "expected": count * itemsize, "count": count, "itemsize": itemsize},
        )
    array: Array = np.frombuffer(raw, dtype=DTYPES[dtype]).reshape(shape)
    finite = np.isfinite(array)
    if not finite.all():
        where = [int(i) for i in np.unravel_index(int(np.argmin(finite)), array.shape)]
        raise PydanticCustomError("tensor_finite", "holds NaN or Infinity at index {index}; every number must be finite", {"index": where})
    return array


class _Base64:
    """Annotation of the ``b64`` field: a string on the wire, the decoded array after validation."""

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.with_info_after_validator_function(_decode, core_schema.str_schema(strict=True))


Dim = Annotated[int, Field(ge=1)]
_DTYPE_DOC = "the element type; float32 is kept as float32 (no copy) when the request's dtype is float32"
_B64_DOC = "base64 (RFC 4648, padded, no line breaks) of the little-endian bytes in row-major (C) order"


def _shape(ranks: tuple[int, ...], doc: str) -> Any:
    """The ``shape`` field: as many positive sizes as one of ``ranks`` (one message that names the form)."""

    def check(shape: list[int]) -> list[int]:
        if len(shape) not in ranks:
            raise PydanticCustomError("tensor_rank", "has {found} entries but must be {doc}", {"found": len(shape), "doc": doc})
        return shape

    return Field(description=doc, json_schema_extra={"minItems": min(ranks), "maxItems": max(ranks)}), AfterValidator(check)


class _TensorIn(WireModel):
    dtype: Dtype = Field(description=_DTYPE_DOC)
    shape: list[Dim]
    b64: Annotated[Array, _Base64()] = Field(description=_B64_DOC, json_schema_extra={"contentEncoding": "base64"})


class Base64Vector(_TensorIn):
    """A vector as a binary tensor: ``shape`` is ``[K]``."""

    shape: Annotated[list[Dim], *_shape((1,), "[K]")]


class Base64Matrix(_TensorIn):
    """A matrix as a binary tensor: ``shape`` is ``[rows, columns]``."""

    shape: Annotated[list[Dim], *_shape((2,), "[rows, columns]")]


class Base64Points(_TensorIn):
    """One data point (``shape`` ``[M]``) or a batch (``shape`` ``[N, M]``, one row per point) as a binary tensor."""

    shape: Annotated[list[Dim], *_shape((1, 2), "[M] for one point or [N, M] for a batch")]


def _tensor_array(value: _TensorIn) -> Array:
    return value.b64


def wire_form(value: Any) -> str | None:
    """The tag of the form ``value`` is sent in: a binary tensor, a matrix (rows), a vector; None if none."""
    if isinstance(value, dict):
        return TENSOR
    if isinstance(value, list):
        return MATRIX if value and isinstance(value[0], list) else VECTOR
    return None


def _list_form(value: Any) -> str:
    return MATRIX if isinstance(value, list) and value and isinstance(value[0], list) else VECTOR


_MODELS = {"vector": Base64Vector, "matrix": Base64Matrix, "points": Base64Points}


class _Tensor(ArrayField):
    """Annotation that makes a field an ndarray of the given form, sent as JSON arrays or as a binary tensor."""

    def __init__(self, form: str) -> None:
        self.form = form

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        vector = core_schema.no_info_after_validator_function(_to_vector, _vector_schema())
        matrix = core_schema.no_info_after_validator_function(_to_matrix, _matrix_schema())
        tensor = core_schema.no_info_after_validator_function(_tensor_array, handler.generate_schema(_MODELS[self.form]))
        lists: tuple[core_schema.CoreSchema, str]
        ndims: tuple[int, ...]
        if self.form == "vector":
            lists, ndims = (vector, VECTOR), (1,)
        elif self.form == "matrix":
            lists, ndims = (matrix, MATRIX), (2,)
        else:  # a Python discriminator sees the value as Python objects: only x and t pay for that copy
            lists, ndims = (core_schema.tagged_union_schema({VECTOR: vector, MATRIX: matrix}, discriminator=_list_form), POINTS), (1, 2)
        # An array and an object fail each other's schema at once, so trying the forms in turn costs nothing;
        # service.errors reports only the errors of the form the value was sent in. The placeholder is tried last:
        # a small body's arrays never pay for it.
        return core_schema.union_schema([lists, (tensor, TENSOR), (_placeholder_schema(ndims), PLACEHOLDER)], mode="left_to_right")

    def __get_pydantic_json_schema__(self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        """``oneOf`` the wire forms (an array is never an object), nested choices flattened; the placeholder is no wire form."""
        assert schema["type"] == "union"
        public = core_schema.union_schema([c for c in schema["choices"] if not (isinstance(c, tuple) and c[1] == PLACEHOLDER)])
        forms = []
        for choice in handler(public).pop("anyOf"):
            forms.extend(choice.get("oneOf", [choice]))
        return {"oneOf": forms}


#: A list of numbers (K,), or a :class:`Base64Vector`.
Vector = Annotated[Array, _Tensor("vector")]
#: A list of equal-length rows (rows × columns), or a :class:`Base64Matrix`.
Matrix = Annotated[Array, _Tensor("matrix")]
#: One data point (a vector) or a batch (a matrix, one row per point), or a :class:`Base64Points`.
Points = Annotated[Array, _Tensor("points")]


def to_wire(array: Array) -> dict[str, Any]:
    """``array`` as a binary tensor object, the inverse of reading one."""
    little = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))
    return {"dtype": array.dtype.name, "shape": list(array.shape), "b64": pybase64.b64encode_as_string(little.data)}
