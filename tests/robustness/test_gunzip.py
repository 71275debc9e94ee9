"""The streaming gunzip of request bodies: the exact bytes back, in bounded steps, whatever the chunking."""

from __future__ import annotations

import asyncio
import gzip

import numpy as np
import pytest
from starlette.types import Message

from service.errors import ServiceError
from service.middleware.content_encoding import STEP_BYTES, _GunzipReceive
from tests.helpers.problems import answer


def _decode(compressed: bytes, chunk: int, max_bytes: int) -> tuple[bytes, int]:
    """Feed ``compressed`` in chunks of ``chunk`` bytes; the decoded body and the largest step."""
    pieces = [compressed[i : i + chunk] for i in range(0, len(compressed), chunk)] or [b""]
    messages = iter([{"type": "http.request", "body": p, "more_body": i < len(pieces) - 1} for i, p in enumerate(pieces)])

    async def receive() -> Message:
        return next(messages)

    async def run() -> tuple[bytes, int]:
        gunzip, out, largest = _GunzipReceive(receive, max_bytes), b"", 0
        while True:
            message = await gunzip()
            out += message["body"]
            largest = max(largest, len(message["body"]))
            if not message["more_body"]:
                return out, largest

    return asyncio.run(run())


SIZES = [0, 1, STEP_BYTES - 1, STEP_BYTES, STEP_BYTES + 1, 3 * STEP_BYTES + 5]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("chunk", [1000, 1 << 16, 1 << 30])
@pytest.mark.parametrize("kind", ["zeros", "random"])
def test_decodes_exactly_in_bounded_steps(size: int, chunk: int, kind: str) -> None:
    data = bytes(size) if kind == "zeros" else np.random.default_rng(size).bytes(size)
    out, largest = _decode(gzip.compress(data), chunk, max_bytes=4 * STEP_BYTES)
    assert out == data
    assert largest <= STEP_BYTES


@pytest.mark.parametrize(("size", "status"), [(4 * STEP_BYTES, None), (4 * STEP_BYTES + 1, 413)])
def test_the_limit_is_on_decoded_bytes_and_inclusive(size: int, status: int | None) -> None:
    compressed = gzip.compress(bytes(size))
    if status is None:
        assert len(_decode(compressed, 1 << 16, max_bytes=4 * STEP_BYTES)[0]) == size
    else:
        with pytest.raises(ServiceError) as caught:
            _decode(compressed, 1 << 16, max_bytes=4 * STEP_BYTES)
        assert answer(caught.value)[0] == status


def test_a_truncated_stream_is_400_even_when_a_step_ends_exactly_full() -> None:
    compressed = gzip.compress(np.random.default_rng(1).bytes(2 * STEP_BYTES))
    with pytest.raises(ServiceError) as caught:
        _decode(compressed[:-8], 1 << 16, max_bytes=4 * STEP_BYTES)  # the trailer (CRC, size) is missing
    assert answer(caught.value)[0] == 400
