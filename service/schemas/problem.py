"""The problem+json document (RFC 9457) on the wire, for the OpenAPI docs; service/api/problems.py writes it."""

from __future__ import annotations

from pydantic import BaseModel, Field

from service.errors import MAX_LISTED_ERRORS


class ErrorItem(BaseModel):
    """One thing wrong with the request, and where."""

    pointer: str = Field(description="JSON Pointer (RFC 6901) into the request body", examples=["/network/layers/1/weights"])
    detail: str = Field(description="what is wrong there and what would be right")


class Problem(BaseModel):
    """An error response (RFC 9457 problem details); every member is always sent."""

    type: str = Field(description="the kind of problem, a URN", examples=["urn:gradient-service:problem:invalid-request"])
    title: str = Field(description="a short summary of the kind of problem", examples=["Invalid request"])
    status: int = Field(description="the HTTP status code of the response", examples=[422])
    detail: str = Field(
        description="what went wrong with this request and how to fix it",
        examples=["network.layers[1]: weights have 2 columns but layer 0 has 3 outputs"],
    )
    errors: list[ErrorItem] = Field(
        description=f"each thing wrong and where (empty if none is pointed at); at most {MAX_LISTED_ERRORS} items"
    )
    errors_omitted: int = Field(description="how many further errors were not listed")
