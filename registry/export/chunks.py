"""Writers hand out output in chunks of about this size: big enough that a million rows are
a few hundred writes, small enough that memory stays flat and a client sees bytes early."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

CHUNK_BYTES = 1 << 16


def joined(parts: Iterable[bytes], size: int = CHUNK_BYTES) -> Iterator[bytes]:
    """``parts`` glued into chunks of at least ``size`` bytes (the last may be shorter)."""
    buffer: list[bytes] = []
    held = 0
    for part in parts:
        buffer.append(part)
        held += len(part)
        if held >= size:
            yield b"".join(buffer)
            buffer.clear()
            held = 0
    if buffer:
        yield b"".join(buffer)
