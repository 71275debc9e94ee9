"""Pydantic's validation errors as the service's domain errors, in the request's terms.

A ValidationError becomes an :class:`~service.errors.InvalidRequest` whose errors are
JSON Pointers into the body with a detail a client can act on (never echoing input),
a :class:`~service.errors.MalformedBody` when the body is not JSON, or a
:class:`~service.errors.LimitExceeded` for valid JSON beyond what the parser takes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from pydantic import ValidationError

from service.errors import MAX_LISTED_ERRORS, LimitExceeded, MalformedBody, ServiceError, invalid, pointer


def _loc_pointer(loc: Iterable[Any]) -> str:
    """Pydantic's location as a pointer, without the labels of union members (<tag>, type[…])."""
    return pointer(*(p for p in loc if not (isinstance(p, str) and (p.startswith("<") or "[" in p))))


_MESSAGES = {
    "missing": "required field is missing",
    "extra_forbidden": "unknown field; remove it or check its spelling",
    "finite_number": "must be a finite number (NaN, Infinity and overflowing numbers like 1e400 are refused)",
    "float_type": "must be a number (not a string or boolean)",
    "int_type": "must be an integer",
    "list_type": "must be a JSON array",
    "model_type": "must be a JSON object",
    "dict_type": "must be a JSON object",
    "too_short": "must not be empty",
}


#: The JSON parser's messages for valid JSON that it will not take, and what they mean to a client.
_PARSER_LIMITS = {
    "recursion limit exceeded": "arrays and objects are nested deeper than the parser allows (a request needs 5 levels)",
    "number out of range": "a number has more digits than a float64 can hold",
}


#: The label of the placeholder form of an array (service/schemas/tensor.py), and its error for a value that is none:
#: the client never sends that form, so those errors are not the client's.
PLACEHOLDER = "<array>"
NOT_A_PLACEHOLDER = "array_placeholder"


def _not_a_placeholder(error: dict[str, Any]) -> bool:
    """An error of the placeholder form for a value that is none (the client's value: a list, or another string)."""
    return error["type"] in (NOT_A_PLACEHOLDER, "string_type") and PLACEHOLDER in error["loc"]


def from_validation_error(exc: ValidationError) -> ServiceError:
    """The domain error for pydantic's errors on a request body; never echoes input."""
    # through JSON: ten times faster than .errors() for 200k errors
    return from_error_list(orjson.loads(exc.json(include_url=False, include_input=False)))


def from_error_list(raw: list[dict[str, Any]], strip: str | None = None) -> ServiceError:
    """The domain error for pydantic's error dicts (``strip``: a location prefix to drop, e.g. FastAPI's "body").

    Invalid JSON is a :class:`MalformedBody`; JSON beyond what the parser takes a :class:`LimitExceeded`;
    anything else an :class:`InvalidRequest` listing the first MAX_LISTED_ERRORS (200k errors are counted, not described).
    """
    raw = [e for e in raw if not _not_a_placeholder(e)]
    bad_json = next((e for e in raw if e["type"] == "json_invalid"), None)
    if bad_json is not None:
        msg = bad_json.get("ctx", {}).get("error", "")
        for symptom, meaning in _PARSER_LIMITS.items():  # valid JSON beyond what the parser takes: a 422, not a 400
            if symptom in msg:
                return invalid([("", f"{meaning} ({msg})")], kind=LimitExceeded)
        return MalformedBody(f"the body is not valid JSON: {msg}", [("", f"not valid JSON: {msg}")])
    items = []
    for e in raw[:MAX_LISTED_ERRORS]:
        loc = tuple(e["loc"])
        if strip is not None and loc[:1] == (strip,):
            loc = loc[1:]
        items.append((loc, e["type"], _MESSAGES.get(e["type"], e["msg"])))
    return invalid(_in_the_form_sent(items), omitted=len(raw) - len(items))


_WRONG_FORM = {"list_type", "dict_type", "model_type", "model_attributes_type"}


def _is_tag(part: Any) -> bool:
    return isinstance(part, str) and part.startswith("<")


def _in_the_form_sent(items: list[tuple[tuple[Any, ...], str, str]]) -> list[tuple[str, str]]:
    """(pointer, detail) pairs, where a value that may come in several forms (``<tag>`` in its location, e.g.
    a JSON array or a binary tensor object) is judged only as the form it was sent in: the other forms'
    "must be a JSON array/object" go, unless the value fits no form, which then gets one error naming them all."""

    def field(loc: tuple[Any, ...]) -> tuple[Any, ...]:
        first_tag = next((i for i, part in enumerate(loc) if _is_tag(part)), len(loc))
        return loc[:first_tag]

    def wrong_form(loc: tuple[Any, ...], kind: str) -> bool:
        return kind in _WRONG_FORM and len(loc) > len(field(loc)) and all(_is_tag(p) for p in loc[len(field(loc)) :])

    sent_as_a_form = {field(loc) for loc, kind, _ in items if len(loc) > len(field(loc)) and not wrong_form(loc, kind)}
    result: list[tuple[str, str]] = []
    fits_none: dict[str, list[str]] = {}
    for loc, kind, detail in items:
        if not wrong_form(loc, kind):
            result.append((_loc_pointer(loc), detail))
        elif field(loc) not in sent_as_a_form:
            fits_none.setdefault(_loc_pointer(loc), []).append(detail.removeprefix("must be "))
    return result + [(ptr, "must be " + " or ".join(dict.fromkeys(forms))) for ptr, forms in fits_none.items()]
