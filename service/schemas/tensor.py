"""Wire types for numbers, vectors and matrices: JSON arrays in, NumPy arrays out.

The JSON is validated in pydantic-core (strict floats, no NaN/Infinity, no
booleans or strings) and becomes a float64 array in the same pass; there is no
second walk over Python lists. The JSON Schema stays that of plain arrays.
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from numpy.typing import NDArray
from pydantic import GetCoreSchemaHandler
from pydantic_core import PydanticCustomError, core_schema

#: Labels of a choice between wire forms are written <like-this>; they appear in
#: pydantic's error locations and are dropped when those become JSON Pointers.
VECTOR, MATRIX = "<vector>", "<matrix>"

_FLOAT = core_schema.float_schema(strict=True, allow_inf_nan=False)


def _vector_schema() -> core_schema.CoreSchema:
    return core_schema.list_schema(_FLOAT, min_length=1)


def _matrix_schema() -> core_schema.CoreSchema:
    return core_schema.list_schema(_vector_schema(), min_length=1)


def _to_vector(value: list[float]) -> NDArray[np.float64]:
    return np.array(value, dtype=np.float64)


def _to_matrix(value: list[list[float]]) -> NDArray[np.float64]:
    width = len(value[0])
    for i, row in enumerate(value):
        if len(row) != width:
            raise PydanticCustomError(
                "ragged_matrix",
                "row {row} has {found} entries but row 0 has {expected}; every row must have the same length",
                {"row": i, "found": len(row), "expected": width},
            )
    return np.array(value, dtype=np.float64)


def _form(value: Any) -> str:
    return MATRIX if isinstance(value, list) and value and isinstance(value[0], list) else VECTOR


class _Tensor:
    """Annotation that makes a field a float64 ndarray of the given form."""

    def __init__(self, form: str) -> None:
        self.form = form

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        vector = core_schema.no_info_after_validator_function(_to_vector, _vector_schema())
        matrix = core_schema.no_info_after_validator_function(_to_matrix, _matrix_schema())
        if self.form == "vector":
            return vector
        if self.form == "matrix":
            return matrix
        return core_schema.tagged_union_schema({VECTOR: vector, MATRIX: matrix}, discriminator=_form)


#: A list of numbers (K,).
Vector = Annotated[NDArray[np.float64], _Tensor("vector")]
#: A list of equal-length rows (rows × columns).
Matrix = Annotated[NDArray[np.float64], _Tensor("matrix")]
#: One data point (a vector) or a batch (a matrix, one row per point).
Points = Annotated[NDArray[np.float64], _Tensor("points")]
