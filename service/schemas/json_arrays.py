"""The numeric arrays of a JSON body, read straight into NumPy: no Python float per number.

A request of a large network is mostly numbers. Instead of letting pydantic build a Python
list of Python floats for each matrix (≈ 40 B and 0.3 µs a number), :func:`scan` finds every
array of numbers where the model has a vector or matrix (:func:`tensor_paths`: ``"weights": [[…], …]``,
``"x": […]``) and converts it with simdjson (``Array.as_buffer``: C++ straight into a buffer of doubles, ~8 ns a
one-character number, ~23 ns a 17-digit one), a piece of at most :data:`PIECE_BYTES` at a time.
What is left, the *skeleton*, names the arrays by placeholders and is validated by pydantic as
before (:mod:`service.schemas.tensor` resolves a placeholder to its array), so every rule of the
schemas — names, options, forms, shapes — is still pydantic's.

Every client-visible behaviour is pydantic's own, by construction:

- an array whose structure is not a plain vector or matrix of scalars (nesting, objects, strings
  in a vector, a missing comma between rows …), or that is not where the model has one, stays in
  the skeleton verbatim;
- a placeholder in a field of the other form (a matrix sent as a bias) is replaced by the array's
  first element, which pydantic refuses as it would the whole array; one that no field took was
  never validated (an item after a list's first bad one), as its array would not have been;
- a matrix whose rows differ in length resolves to the same ``ragged_matrix`` error;
- an array with a bad element (a string, a boolean, null, NaN, 1e400 …) is replaced by the
  smallest JSON that gives pydantic the same error: the row (or the piece of a vector) that holds
  it; the error's location is then moved to the element's (:func:`fix_locations`);
- where simdjson and pydantic may differ (numbers beyond 64-bit integers, which simdjson refuses
  and pydantic reads as floats), the piece is validated by pydantic's own vector schema;
- a syntax error anywhere is the first one pydantic's parser would report, with its message and
  its line and column in the body (:func:`syntax_error`).

The scan itself is a loop over the body's brackets, braces and strings (``re`` and
``bytes.count`` in C), never over its numbers, and every C call is short (a piece): the GIL is
released often enough for /livez to answer while a 32 MiB body is read.
"""

from __future__ import annotations

import functools
import re
import secrets
import types
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

import numpy as np
import orjson
import simdjson
from pydantic import BaseModel, ValidationError
from pydantic_core import SchemaValidator, core_schema

from service.engine.arrays import Array
from service.errors import ServiceError
from service.schemas.validation import _not_a_placeholder, from_error_list, from_validation_error

#: Text of one simdjson call: its tape (16 B a number) stays small, and no call holds the GIL for long.
PIECE_BYTES = 256 * 1024
#: Arrays shorter than this stay in the skeleton: pydantic reads them as fast as a placeholder.
MIN_BLOCK_BYTES = 256

#: A placeholder is this, the scan's nonce, ":" and the block's index, as a JSON string.
PLACEHOLDER_PREFIX = "\x00gradient-array:"
#: The key of the :class:`Scan` in the validation context.
SCAN_CONTEXT = "gradient_scan"

_EVENT = re.compile(rb'[\[\]{}"]')
_COLON = re.compile(rb"[ \t\r\n]*:")
_WS_RUN = re.compile(rb"[ \t\r\n]*")
_WS = b" \t\r\n"
_POSITION = re.compile(r" at line (\d+) column (\d+)$")

#: pydantic's schema of a JSON vector (service/schemas/tensor.py builds the same): strict finite floats, at least one.
_ROW = SchemaValidator(core_schema.list_schema(core_schema.float_schema(strict=True, allow_inf_nan=False), min_length=1, fail_fast=True))


class ArrayField:
    """The mark of a field that may hold a placeholder: a vector or matrix (service/schemas/tensor.py's annotation)."""


Path = tuple[str | int, ...]


@functools.cache
def tensor_paths(model: type[BaseModel]) -> frozenset[tuple[str, ...]]:
    """The JSON paths at which ``model`` has a vector or matrix, ``*`` for any list index or object key.

    Only arrays there are read into NumPy: any other array (a tensor's ``shape``, Adam's ``betas``, an unknown field)
    stays for pydantic, so its errors are pydantic's own and nothing of it needs to be read again.
    """
    paths: set[tuple[str, ...]] = set()

    def marked(metadata: Sequence[Any]) -> bool:
        return any(isinstance(m, ArrayField) for m in metadata)

    def walk(annotation: Any, prefix: tuple[str, ...], seen: frozenset[type]) -> None:
        origin = get_origin(annotation)
        if origin is Annotated:
            inner, *metadata = get_args(annotation)
            if marked(metadata):
                paths.add(prefix)
            else:
                walk(inner, prefix, seen)
        elif origin in (Union, types.UnionType):
            for member in get_args(annotation):
                walk(member, prefix, seen)
        elif origin in (list, tuple, Sequence):
            for item in get_args(annotation):
                if item is not Ellipsis:
                    walk(item, (*prefix, "*"), seen)
        elif origin is dict:
            walk(get_args(annotation)[1], (*prefix, "*"), seen)
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel) and annotation not in seen:
            for name, info in annotation.model_fields.items():
                if marked(info.metadata):
                    paths.add((*prefix, name))
                else:
                    walk(info.annotation, (*prefix, name), seen | {annotation})

    walk(model, (), frozenset())
    return frozenset(paths)


def _at(path: Path, patterns: frozenset[tuple[str, ...]]) -> bool:
    return any(len(p) == len(path) and all(q == "*" or q == part for q, part in zip(p, path, strict=True)) for p in patterns)


@dataclass
class Block:
    """An array of numbers that is an object member's value: ``body[start:end]``, at JSON path ``path``."""

    start: int
    end: int
    path: tuple[str | int, ...]
    ndim: int  # 1: a vector; 2: a matrix (rows)
    array: Array | None = field(default=None, repr=False)  # the numbers, when all are good (vector: K; matrix: rows × columns)
    ragged: tuple[int, int, int] | None = None  # (row, found, expected): rows differ in length, every number good
    replay: bytes | None = None  # the smallest JSON with the first bad element, for pydantic to judge
    shift: tuple[int, ...] = ()  # where the replay's first element is in the array: (row, column) or (index,)
    numbers: int = 0


@dataclass(frozen=True)
class SyntaxProblem:
    """The first syntax error pydantic's parser reports, where it is in the body, and its message without the position."""

    offset: int
    message: str


@dataclass
class Scan:
    """A body split into its skeleton (validated by pydantic) and its blocks of numbers."""

    body: bytes | bytearray = field(repr=False)
    nonce: str
    blocks: list[Block] = field(default_factory=list)
    syntax: SyntaxProblem | None = None
    used: set[int] = field(default_factory=set)  # blocks whose placeholder a tensor field took (this validation)
    misfits: set[int] = field(default_factory=set)  # blocks whose placeholder is in a field of the other form

    @property
    def numbers(self) -> int:
        """Numbers read into arrays."""
        return sum(b.numbers for b in self.blocks)

    def placeholder(self, index: int) -> str:
        return f"{PLACEHOLDER_PREFIX}{self.nonce}:{index}"

    def index(self, placeholder: str) -> int | None:
        """The block a placeholder of this scan stands for (None for any other string)."""
        head, _, k = placeholder.rpartition(":")
        if head != f"{PLACEHOLDER_PREFIX}{self.nonce}" or not k.isdigit() or int(k) >= len(self.blocks):
            return None
        return int(k)

    def skeleton(self, verbatim: frozenset[int] = frozenset(), replays: dict[int, bytes] | None = None) -> tuple[bytes, list[int]]:
        """The body with each block a placeholder (its replay if it has a bad element; verbatim if listed), and
        for each block its skeleton offset minus its body offset after it (to map a skeleton position to the body)."""
        parts: list[bytes | bytearray | memoryview] = []
        shifts: list[int] = []
        at = 0
        grown = 0
        view = memoryview(self.body)
        for k, block in enumerate(self.blocks):
            parts.append(view[at : block.start])
            if k in verbatim:
                text: bytes | memoryview = view[block.start : block.end]
            elif replays is not None and k in replays:
                text = replays[k]
            elif block.replay is not None:
                text = block.replay
            else:
                text = b'"\\u0000' + self.placeholder(k)[1:].encode() + b'"'
            parts.append(text)
            grown += len(text) - (block.end - block.start)
            shifts.append(grown)
            at = block.end
        parts.append(view[at:])
        return b"".join(parts), shifts


def scan(body: bytes | bytearray, paths: frozenset[tuple[str, ...]] | None = None) -> Scan:
    """The blocks of numbers of ``body`` (see the module docstring), at ``paths`` only (:func:`tensor_paths`; None: at any
    object member); nothing is raised for any input."""
    result = Scan(body, secrets.token_hex(8))
    parser = simdjson.Parser()
    stack: list[list[Any]] = []  # [kind, path element of the container, index (arrays)]
    key: str | int | None = None
    pos, n = 0, len(body)
    while pos < n:
        m = _EVENT.search(body, pos)
        if m is None:
            break
        i = m.start()
        c = body[i]
        if stack and stack[-1][0] == "[":
            stack[-1][2] += body.count(b",", pos, i)
        if c == 0x22:  # a string: a key when a colon follows
            j = _string_end(body, i)
            if j < 0:
                break
            if stack and stack[-1][0] == "{" and _COLON.match(body, j):
                key = _key(body, i, j)
            pos = j
            continue
        if c in (0x5B, 0x7B):  # [ {
            path = (*_path(stack), key) if c == 0x5B and stack and stack[-1][0] == "{" and key is not None else None
            if path is not None and (paths is None or _at(path, paths)):
                block = _block(body, i, path, parser, result)
                if block is not None:
                    result.blocks.append(block)
                    pos = block.end
                    key = None
                    continue
            element: str | int | None = key if stack and stack[-1][0] == "{" else (stack[-1][2] if stack else None)
            stack.append(["[" if c == 0x5B else "{", element, 0])
            key = None
        elif stack:  # ] }
            stack.pop()
        pos = i + 1
    return result


def _path(stack: list[list[Any]]) -> tuple[str | int, ...]:
    """The JSON path of the innermost container's members (the root has no element)."""
    return tuple(entry[1] for entry in stack[1:]) + ((stack[-1][2],) if stack[-1][0] == "[" else ())


def _string_end(body: bytes | bytearray, i: int) -> int:
    """The position after the string that starts with the quote at ``i`` (-1: unterminated)."""
    j = i
    while True:
        j = body.find(b'"', j + 1)
        if j < 0:
            return -1
        k = j
        while body[k - 1] == 0x5C:  # backslashes before the quote: an odd number escapes it
            k -= 1
        if (j - k) % 2 == 0:
            return j + 1


def _key(body: bytes | bytearray, i: int, j: int) -> str | None:
    """The key that ``body[i:j]`` spells (escapes read as JSON reads them)."""
    try:
        value = orjson.loads(body[i:j])
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, str) else None


def _skip_ws(body: bytes | bytearray, pos: int) -> int:
    """The position of the first byte at or after ``pos`` that is not JSON whitespace."""
    m = _WS_RUN.match(body, pos)
    return pos if m is None else m.end()


def _leaf_end(body: bytes | bytearray, q: int) -> int:
    """The position of the ``]`` that closes the array opened at ``q`` if it holds no array, object or string; else -1.

    ``bytes.find`` (memchr, GB/s) over the array's text: a regular expression would read the numbers at ~150 MB/s."""
    r = body.find(b"]", q + 1)
    if r < 0 or body.find(b"[", q + 1, r) >= 0 or body.find(b'"', q + 1, r) >= 0 or body.find(b"{", q + 1, r) >= 0:
        return -1
    return r


def _block(body: bytes | bytearray, i: int, path: tuple[str | int, ...], parser: simdjson.Parser, scan_: Scan) -> Block | None:
    """The vector or matrix of scalars that starts at ``body[i] == "["``, converted; None for any other structure."""
    j = _leaf_end(body, i)
    if j >= 0:  # a vector of scalars
        if j + 1 - i < MIN_BLOCK_BYTES:
            return None
        block = Block(i, j + 1, path, 1)
        _read_vector(body, block, parser, scan_)
        return block
    q = _skip_ws(body, i + 1)
    if body[q : q + 1] != b"[":  # rows, if nothing but rows of scalars follows
        return None
    rows: list[tuple[int, int]] = []
    while True:
        r = _leaf_end(body, q)
        if r < 0:  # a row holds a string, an array or an object: pydantic reads the matrix
            return None
        rows.append((q, r + 1))
        k = _skip_ws(body, r + 1)
        after = body[k : k + 1]
        if after == b",":
            q = _skip_ws(body, k + 1)
            if body[q : q + 1] == b"[":
                continue
            return None
        if after == b"]":
            end = k + 1
            break
        return None
    if end - i < MIN_BLOCK_BYTES:
        return None
    block = Block(i, end, path, 2)
    _read_matrix(body, block, rows, parser, scan_)
    return block


def _buffer(parser: simdjson.Parser, text: bytes) -> Array | None:
    """``text`` (a JSON array of numbers) as float64, or None if simdjson refuses it or a number is not finite."""
    try:
        doc = parser.parse(text)
        if not isinstance(doc, simdjson.Array):
            return None
        values = np.frombuffer(doc.as_buffer(of_type="d"), dtype=np.float64)
        del doc  # the parser is reused: no proxy may outlive its document
    except (ValueError, TypeError, RuntimeError):
        return None
    return values if np.isfinite(values).all() else None


def _judge(text: bytes, base: int, scan_: Scan) -> Array | str | None:
    """What pydantic makes of the JSON array ``text`` (``text[0]`` is at body offset ``base``): the numbers,
    ``"bad"`` (an element error), or None after noting a syntax error."""
    try:
        return np.array(_ROW.validate_json(text), dtype=np.float64)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        if error["type"] == "json_invalid":
            problem = located(str(error.get("ctx", {}).get("error", "")), text)
            problem = SyntaxProblem(base + problem.offset, problem.message)
            if scan_.syntax is None or problem.offset < scan_.syntax.offset:
                scan_.syntax = problem
            return None
        return "bad"


def _read_vector(body: bytes | bytearray, block: Block, parser: simdjson.Parser, scan_: Scan) -> None:
    """Read the vector ``body[block.start:block.end]`` piece by piece (pieces end at a comma)."""
    a, end = block.start + 1, block.end - 1
    pieces: list[Array] = []
    index = 0
    bad = False
    while a < end:
        b = end if end - a <= PIECE_BYTES else body.find(b",", a + PIECE_BYTES, end)
        b = end if b < 0 else b
        text = b"[" + body[a:b] + b"]"
        values = _buffer(parser, text)
        if values is None:
            judged = _judge(text, a - 1, scan_)
            if isinstance(judged, np.ndarray):
                values = judged
            elif isinstance(judged, str) and not bad:
                bad = True
                block.replay, block.shift = text, (index,)
        if values is not None:
            pieces.append(values)
            index += len(values)
        elif not bad:
            bad = True  # a syntax error: the body is refused as a whole
        a = b + 1
    block.numbers = index
    if not bad:
        block.array = pieces[0] if len(pieces) == 1 else np.concatenate(pieces)


def _read_matrix(body: bytes | bytearray, block: Block, rows: list[tuple[int, int]], parser: simdjson.Parser, scan_: Scan) -> None:
    """Read the rows ``body[q:r]`` of a matrix, several at a time: simdjson reads ``[[…],[…],…]`` and flattens it into one
    buffer; the rows' lengths are its arrays' lengths (a slow row by row look only for a piece it refuses). The numbers
    go straight into the matrix, allocated once its width is known: no second copy of it."""
    widths: list[int] = []
    out: Array | None = None
    bad = False
    k = 0

    def store(first: int, values: Array) -> None:
        nonlocal out
        count = len(widths) - first
        if out is None and not bad:
            out = np.empty((len(rows), widths[0]))
        if out is not None and values.size == count * out.shape[1] and all(w == out.shape[1] for w in widths[first:]):
            out[first : first + count] = values.reshape(count, out.shape[1])

    while k < len(rows):
        first, size = k, 0
        while k < len(rows) and (k == first or size + rows[k][1] - rows[k][0] <= PIECE_BYTES):
            size += rows[k][1] - rows[k][0]
            k += 1
        read = _rows(parser, b"[" + body[rows[first][0] : rows[k - 1][1]] + b"]")
        if read is not None:
            values, lengths = read
            widths += lengths
            store(first, values)
            continue
        for row in range(first, k):  # which row, and what pydantic makes of it
            q, r = rows[row]
            text = bytes(body[q:r])
            one = _buffer(parser, text)
            if one is None or one.size == 0:  # an empty row too: pydantic refuses it before any ragged row
                judged = _judge(text, q, scan_)
                one = judged if isinstance(judged, np.ndarray) else None
                if isinstance(judged, str) and not bad:
                    block.replay, block.shift = b"[" + text + b"]", (row, 0)
                bad = bad or one is None
            widths.append(body.count(b",", q, r) + 1 if one is None else len(one))
            if one is not None:
                store(row, one)
    block.numbers = sum(widths)
    if bad:
        return
    width = widths[0]
    ragged = next(((k, w) for k, w in enumerate(widths) if w != width), None)
    if ragged is not None:
        block.ragged = (ragged[0], ragged[1], width)
    else:
        block.array = out


def _rows(parser: simdjson.Parser, text: bytes) -> tuple[Array, list[int]] | None:
    """``text`` (a JSON array of arrays of numbers) as one float64 buffer and the arrays' lengths; None as :func:`_buffer`."""
    try:
        doc = parser.parse(text)
        if not isinstance(doc, simdjson.Array):
            return None
        lengths = [len(row) if isinstance(row, simdjson.Array) else -1 for row in doc]
        values = np.frombuffer(doc.as_buffer(of_type="d"), dtype=np.float64)
        del doc  # the parser is reused: no proxy may outlive its document
    except (ValueError, TypeError, RuntimeError):
        return None
    good = min(lengths) > 0 and sum(lengths) == values.size and np.isfinite(values).all()
    return (values, lengths) if good else None


def fix_locations(errors: list[dict[str, Any]], blocks: list[Block]) -> list[dict[str, Any]]:
    """Move the errors pydantic found in replayed blocks from the replay's first element to the array's element."""
    shifted = {b.path: b.shift for b in blocks if b.replay is not None}
    if not shifted:
        return errors
    for error in errors:
        loc = list(error["loc"])
        plain = [k for k, part in enumerate(loc) if not _is_label(part)]
        for depth in range(len(plain)):
            path = tuple(loc[k] for k in plain[:depth])
            if path in shifted:
                shift = shifted[path]
                for offset, k in zip(shift, plain[depth : depth + len(shift)], strict=False):
                    if isinstance(loc[k], int):
                        loc[k] += offset
                error["loc"] = tuple(loc)
                break
    return errors


def _is_label(part: Any) -> bool:
    """A union member's label in a location (<tag>, function-after[…]), not a key or an index."""
    return isinstance(part, str) and (part.startswith("<") or "[" in part)


def located(message: str, text: bytes | bytearray) -> SyntaxProblem:
    """pydantic's parser message for ``text`` as an offset into it and the message without " at line L column C"."""
    m = _POSITION.search(message)
    if m is None:
        return SyntaxProblem(len(text), message)
    line, column = int(m.group(1)), int(m.group(2))
    start = 0
    for _ in range(line - 1):
        start = text.find(b"\n", start) + 1
    return SyntaxProblem(start + column - 1, message[: m.start()])


def in_body(scan_: Scan, offset: int, shifts: list[int]) -> int:
    """The body offset of skeleton offset ``offset`` (a position inside a block's placeholder: the block's start)."""
    grown = 0
    for block, after in zip(scan_.blocks, shifts, strict=True):
        if offset < block.start + grown:
            break
        if offset < block.end + after:
            return block.start
        grown = after
    return offset - grown


def with_position(body: bytes | bytearray, problem: SyntaxProblem) -> str:
    """The message with the line and column of its offset in ``body``, counted as pydantic's parser counts them
    (over the bytes up to and including the offset: a newline there is column 0 of the next line)."""
    end = min(problem.offset, max(len(body) - 1, 0)) + 1
    line = body.count(b"\n", 0, end) + 1
    column = end - (body.rfind(b"\n", 0, end) + 1)
    return f"{problem.message} at line {line} column {column}"


M = TypeVar("M", bound=BaseModel)

#: Bodies up to this size are validated by pydantic alone: their arrays are few and short.
SCAN_MIN_BYTES = 16 * 1024


def validate_json(body: bytes | bytearray, model: type[M]) -> M:
    """``body`` validated as ``model``, its numeric arrays read straight into NumPy; any error is the domain
    error pydantic's own validation of the whole body gives (see the module docstring)."""
    if len(body) < SCAN_MIN_BYTES:
        return _pydantic(body, model)
    scan_ = scan(body, tensor_paths(model))
    if not scan_.blocks:
        return _pydantic(body, model)
    verbatim: set[int] = set()
    replays: dict[int, bytes] = {}
    while True:
        skeleton, shifts = scan_.skeleton(frozenset(verbatim), replays)
        scan_.used.clear()
        scan_.misfits.clear()
        try:
            value = model.model_validate_json(skeleton, context={SCAN_CONTEXT: scan_})
        except ValidationError as exc:
            errors: list[dict[str, Any]] = [dict(e) for e in exc.errors(include_url=False)]
            bad_json = next((e for e in errors if e["type"] == "json_invalid"), None)
            if bad_json is not None or scan_.syntax is not None:
                message = None if bad_json is None else str(bad_json.get("ctx", {}).get("error", ""))
                raise _malformed(scan_, message, skeleton, shifts) from None
            if not _judge_again(scan_, verbatim, replays, _placeholders_in(errors, scan_)):
                for error in errors:
                    error.pop("input", None)
                raise from_error_list(fix_locations(errors, scan_.blocks)) from None
            continue
        if scan_.syntax is not None:
            raise _malformed(scan_, None, skeleton, shifts)
        unused = {k for k in _placed(scan_, verbatim, replays) if k not in scan_.used}
        if not _judge_again(scan_, verbatim, replays, unused):
            return value


def _pydantic(body: bytes | bytearray, model: type[M]) -> M:
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        raise from_validation_error(exc) from None


def _placed(scan_: Scan, verbatim: set[int], replays: dict[int, bytes]) -> set[int]:
    """The blocks that are placeholders in the skeleton."""
    return {k for k, b in enumerate(scan_.blocks) if b.replay is None and k not in verbatim and k not in replays}


def _placeholders_in(errors: list[dict[str, Any]], scan_: Scan) -> set[int]:
    """The blocks whose placeholder pydantic refused in a field of another kind (its error's input is the placeholder)."""
    found = set()
    for error in errors:
        value = error.get("input")
        k = scan_.index(value) if isinstance(value, str) and not _not_a_placeholder(error) else None
        if k is not None:
            found.add(k)
    return found


def _judge_again(scan_: Scan, verbatim: set[int], replays: dict[int, bytes], wrong: set[int]) -> bool:
    """Put back, for pydantic to judge, the blocks whose placeholder was in the wrong place: in a field of the other form,
    their first element (where pydantic's error is); ``wrong`` ones (a field that took the placeholder or refused it as no
    array) as they were sent. False if there is none: a placeholder no field took was never validated (an item after a
    list's first bad one, a member given twice), as its array would not have been."""
    misfits = scan_.misfits & _placed(scan_, verbatim, replays)
    for k in misfits:
        replays[k] = _first_element(scan_, scan_.blocks[k])
    again = (wrong - misfits) & _placed(scan_, verbatim, replays)
    verbatim.update(again)
    return bool(misfits or again)


def _first_element(scan_: Scan, block: Block) -> bytes:
    """``[first]``: the block's first element (a row of a matrix, a number of a vector), which pydantic refuses first."""
    body = scan_.body
    if block.ndim == 2:
        q = body.find(b"[", block.start + 1)
        return b"[" + bytes(body[q : body.find(b"]", q) + 1]) + b"]"
    comma = body.find(b",", block.start + 1, block.end)
    return b"[" + bytes(body[block.start + 1 : comma if comma >= 0 else block.end - 1]) + b"]"


def _malformed(scan_: Scan, skeleton_message: str | None, skeleton: bytes, shifts: list[int]) -> ServiceError:
    """The 400 (or 422 for JSON beyond the parser's limits) for the body's first syntax error."""
    candidates = [] if scan_.syntax is None else [scan_.syntax]
    if skeleton_message is not None:
        found = located(skeleton_message, skeleton)
        candidates.append(SyntaxProblem(in_body(scan_, found.offset, shifts), found.message))
    first = min(candidates, key=lambda p: p.offset)
    return from_error_list([{"type": "json_invalid", "loc": (), "msg": "", "ctx": {"error": with_position(scan_.body, first)}}])
