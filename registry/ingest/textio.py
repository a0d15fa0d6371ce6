"""Reading physical lines safely from a binary stream.

``iter_lines`` is the only way parsers read a feed: it reads in bounded chunks, so memory
stays flat whatever the file holds (a multi-million-line feed, or one 2 GB line, which is
refused once it passes ``max_line_bytes``). Line ends may be LF, CRLF, CR alone or any mix;
a UTF-8 byte order mark is dropped; the last line needs no newline. Each line is decoded as
UTF-8 on its own, so one bad line does not spoil the rest of the file (there is
deliberately no cp1252/latin-1 fallback: guessing would turn bytes into wrong values).

Before yielding anything it looks at the start of the stream and refuses what is not a
text feed at all: NUL bytes in the first 8 KiB (binary data, or UTF-16), an HTML page
(a login or error page served instead of the list).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

from registry.ingest.records import FeedFormatError

MAX_LINE_BYTES = 1 << 20
CHUNK_BYTES = 1 << 16
SNIFF_BYTES = 8192
#: How much of a file's start tells its format, a CSV's delimiter or a JSON body's shape.
HEAD_BYTES = 1 << 16

#: The reason given for a line ``iter_lines`` could not decode.
NOT_UTF8 = "not valid UTF-8"

UTF8_BOM = b"\xef\xbb\xbf"

_HTML_START = re.compile(
    rb"\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)[\s>]",
    re.IGNORECASE | re.DOTALL,
)


def check_head(head: bytes, *, name: str = "<input>") -> None:
    """Raise ``FeedFormatError`` when the start of a file shows it is not a text feed."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FeedFormatError("UTF-16 text, not UTF-8 (save the file as UTF-8)", name=name)
    if b"\x00" in head[:SNIFF_BYTES]:
        raise FeedFormatError("binary data, not a text feed", name=name)
    if head.startswith(UTF8_BOM):
        head = head[len(UTF8_BOM) :]
    if _HTML_START.match(head[:SNIFF_BYTES]):
        raise FeedFormatError("an HTML page, not a feed", name=name)


def _read(stream: BinaryIO, size: int) -> bytes:
    data = stream.read(size)
    if data is None:  # a non-blocking raw stream with nothing ready: treat as the end
        return b""
    if isinstance(data, str):
        raise TypeError("iter_lines needs a binary stream (open the file with 'rb')")
    return data


def _head(stream: BinaryIO, *, name: str, check: bool) -> bytes:
    """The first SNIFF_BYTES or more, read before anything is yielded; with ``check``, refused
    as ``check_head`` says and without the BOM."""
    head = b""
    while len(head) < SNIFF_BYTES:
        data = _read(stream, CHUNK_BYTES)
        if not data:
            break
        head += data
    if check:
        check_head(head, name=name)
        if head.startswith(UTF8_BOM):
            head = head[len(UTF8_BOM) :]
    return head


def iter_lines(
    stream: BinaryIO, *, name: str = "<input>", max_line_bytes: int = MAX_LINE_BYTES, first_line: int = 1,
    whole: bool = True,
) -> Iterator[tuple[int, str | None, bytes]]:
    """Yield ``(line_no, text, raw_bytes)`` for each physical line.

    ``line_no`` is 1-based; ``raw_bytes`` is the line without its line end (and without the
    BOM on line 1); ``text`` is ``raw_bytes`` decoded as UTF-8, or ``None`` when the line is
    not valid UTF-8 (callers report it as ``Skipped`` with reason ``NOT_UTF8``).

    Raises ``FeedFormatError`` for binary data or an HTML page (see ``check_head``) and, as
    soon as a line passes ``max_line_bytes``, "line N: line longer than ... bytes" (having
    read about ``max_line_bytes`` of it, never the whole line).

    ``whole=False`` reads a piece of a file cut at a line end (``line_chunks``): no head
    checks, no BOM, lines numbered from ``first_line``.
    """
    head = _head(stream, name=name, check=whole)

    line_no = first_line - 1
    pending = bytearray()  # the start of a line whose end has not been read yet
    skip_lf = False  # the previous chunk ended with CR: an LF starting this one is its pair
    data = head
    while data:
        if skip_lf and data[:1] == b"\n":
            data = data[1:]
        skip_lf = False
        # bytes.splitlines splits on LF, CRLF and CR only (unlike str.splitlines).
        pieces = data.splitlines(keepends=True)
        for piece in pieces:
            if piece[-1] not in (10, 13):  # the chunk's last piece: its line end not read yet
                if len(pending) + len(piece) > max_line_bytes:
                    raise FeedFormatError(
                        f"line longer than {max_line_bytes} bytes", name=name, line_no=line_no + 1
                    )
                pending += piece
                break
            body = piece.rstrip(b"\r\n")  # one line end: a piece holds no other CR or LF
            line_no += 1
            if pending:
                body = bytes(pending) + body
                pending.clear()
            if len(body) > max_line_bytes:
                raise FeedFormatError(
                    f"line longer than {max_line_bytes} bytes", name=name, line_no=line_no
                )
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                text = None
            yield line_no, text, body
        else:
            # A CR ending the chunk may be the first half of a CRLF split between reads.
            skip_lf = bool(pieces) and pieces[-1][-1] == 13
        data = _read(stream, CHUNK_BYTES)
    if pending:
        line_no += 1
        body = bytes(pending)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        yield line_no, text, body


def line_chunks(stream: BinaryIO, *, name: str = "<input>", size: int = 1 << 17,
                max_line_bytes: int = MAX_LINE_BYTES) -> Iterator[tuple[int, bytes]]:
    """Cut a stream into ``(first line number, bytes)`` pieces of about ``size`` bytes, each
    ending at a line end, for ``iter_lines(..., whole=False)`` in worker processes. The head
    checks, the BOM and the line limit apply as in ``iter_lines``; counting LF, CR and CRLF
    ends in C keeps this cheap beside parsing."""
    head = _head(stream, name=name, check=True)
    line_no, pending, eof, want = 1, head, False, size
    while True:
        while not eof and len(pending) < want:
            data = _read(stream, size)
            if data:
                pending += data
            else:
                eof = True
        if not pending:
            return
        if eof:
            cut = len(pending)  # whole lines, the last one perhaps without a line end
            last_end = max(pending.rfind(b"\n"), pending.rfind(b"\r"))
            if cut - last_end - 1 > max_line_bytes:
                head = pending[: last_end + 1]
                raise FeedFormatError(f"line longer than {max_line_bytes} bytes", name=name,
                                      line_no=line_no + head.count(b"\n") + head.count(b"\r") - head.count(b"\r\n"))
        else:
            # After the last LF, or after a CR that is not the last byte read (an LF may follow).
            cut = (pending.rfind(b"\n") + 1) or (pending.rfind(b"\r", 0, len(pending) - 1) + 1)
            if not cut:
                if len(pending) > max_line_bytes:
                    raise FeedFormatError(f"line longer than {max_line_bytes} bytes", name=name, line_no=line_no)
                want = len(pending) + size
                continue
        want = size
        piece, pending = pending[:cut], pending[cut:]
        yield line_no, piece
        line_no += piece.count(b"\n") + piece.count(b"\r") - piece.count(b"\r\n")
