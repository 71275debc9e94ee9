"""The base of every request model: strict types, no unknown fields, no NaN."""

from pydantic import BaseModel, ConfigDict


class WireModel(BaseModel):
    """Strict: numbers must be JSON numbers, names must be known, extra fields are refused."""

    model_config = ConfigDict(strict=True, extra="forbid", allow_inf_nan=False, arbitrary_types_allowed=True)
