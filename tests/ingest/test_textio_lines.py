"""textio.iter_lines: line ends, BOM, bad bytes, refusals, and bounded memory."""

from __future__ import annotations

import io
import time
import tracemalloc

import pytest

from registry.ingest.csvrows import parse_csv
from registry.ingest.plainlist import parse_text
from registry.ingest.records import FeedFormatError, Record, Skipped
from registry.ingest.textio import CHUNK_BYTES, MAX_LINE_BYTES, iter_lines


def lines_of(data: bytes, **kwargs) -> list[tuple[int, str | None, bytes]]:
    return list(iter_lines(io.BytesIO(data), **kwargs))


class OneByteAtATime(io.RawIOBase):
    """A raw stream that returns at most ``step`` bytes per read (pipes, sockets)."""

    def __init__(self, data: bytes, step: int = 1):
        self._data = data
        self._pos = 0
        self._step = step

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = min(self._step, len(buffer), len(self._data) - self._pos)
        buffer[:n] = self._data[self._pos : self._pos + n]
        self._pos += n
        return n


class Endless(io.RawIOBase):
    """``size`` bytes of ``fill`` (no newline) produced lazily; counts what was read."""

    def __init__(self, size: int, fill: bytes = b"a", prefix: bytes = b""):
        self.size = size
        self.served = 0
        self._prefix = prefix
        self._block = fill * CHUNK_BYTES

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._prefix:
            n = min(len(buffer), len(self._prefix))
            buffer[:n] = self._prefix[:n]
            self._prefix = self._prefix[n:]
            return n
        n = min(len(buffer), len(self._block), self.size - self.served)
        buffer[:n] = self._block[:n]
        self.served += n
        return n


def test_bom_and_crlf():
    data = b"\xef\xbb\xbf1.2.3.4\r\nexample.com\r\n\r\nlast\r\n"
    assert lines_of(data) == [
        (1, "1.2.3.4", b"1.2.3.4"),
        (2, "example.com", b"example.com"),
        (3, "", b""),
        (4, "last", b"last"),
    ]


def test_cr_only_mixed_and_no_final_newline():
    assert lines_of(b"a\rb\rc") == [(1, "a", b"a"), (2, "b", b"b"), (3, "c", b"c")]
    data = b"one\r\ntwo\nthree\rfour\r\n\nsix"
    assert [(n, t) for n, t, _ in lines_of(data)] == [
        (1, "one"),
        (2, "two"),
        (3, "three"),
        (4, "four"),
        (5, ""),
        (6, "six"),
    ]


def test_empty_and_only_newlines():
    assert lines_of(b"") == []
    assert lines_of(b"\n") == [(1, "", b"")]
    assert lines_of(b"\r\n\r\n") == [(1, "", b""), (2, "", b"")]
    assert lines_of(b"\xef\xbb\xbf") == []


@pytest.mark.parametrize("step", [1, 2, 3, 7])
def test_line_ends_split_across_reads(step):
    # CRLF pairs, BOM and multi-byte characters cut between reads.
    data = b"\xef\xbb\xbfa\r\nb\r\rc\n\r\nd\xc3\xa9\r"
    got = list(iter_lines(OneByteAtATime(data, step)))
    assert [(n, t) for n, t, _ in got] == [
        (1, "a"),
        (2, "b"),
        (3, ""),
        (4, "c"),
        (5, ""),
        (6, "d\u00e9"),
    ]


def test_crlf_across_chunk_boundary():
    first = b"x" * (CHUNK_BYTES - 1) + b"\r"
    data = first + b"\nnext\n"
    got = lines_of(data)
    assert [n for n, _, _ in got] == [1, 2]
    assert got[0][2] == b"x" * (CHUNK_BYTES - 1)
    assert got[1][1] == "next"


def test_invalid_utf8_line_is_none_and_the_rest_comes_through():
    data = b"good.example\nbad\xff\xfe.example\ncaf\xc3\xa9.example\n\xe9t\xe9\nlast\n"
    got = lines_of(data)
    assert got[0] == (1, "good.example", b"good.example")
    assert got[1] == (2, None, b"bad\xff\xfe.example")
    assert got[2] == (3, "caf\u00e9.example", b"caf\xc3\xa9.example")
    assert got[3] == (4, None, b"\xe9t\xe9")  # latin-1: no fallback guessing
    assert got[4] == (5, "last", b"last")


def test_invalid_utf8_in_parsers_is_skipped():
    data = b"1.2.3.4\nbad\xff.example\n5.6.7.8\n"
    items = list(parse_text(io.BytesIO(data)))
    assert items == [
        Record(1, "1.2.3.4", "1.2.3.4"),
        Skipped(2, "bad\ufffd.example", "not valid UTF-8"),
        Record(3, "5.6.7.8", "5.6.7.8"),
    ]
    data = b"url,tag\nhttp://a.example/,x\nhttp://b\xff.example/,y\nhttp://c.example/,z\n"
    items = list(parse_csv(io.BytesIO(data)))
    assert [type(i).__name__ for i in items] == ["Record", "Skipped", "Record"]
    assert items[1] == Skipped(3, "http://b\ufffd.example/,y", "not valid UTF-8")


def test_long_line_in_a_file_names_the_line(tmp_path):
    path = tmp_path / "drop.txt"
    with path.open("wb") as f:
        f.write(b"1.2.3.4\n5.6.7.8\n")
        f.write(b"9" * (3 << 20))
        f.write(b"\n10.0.0.1\n")
    with path.open("rb") as stream, pytest.raises(FeedFormatError) as info:
        list(parse_text(stream, name="drop.txt"))
    assert str(info.value) == "drop.txt: line 3: line longer than 1048576 bytes"
    assert info.value.line_no == 3


def test_line_exactly_at_the_limit_is_fine():
    got = lines_of(b"x" * 1000 + b"\ny\n", max_line_bytes=1000)
    assert [len(raw) for _, _, raw in got] == [1000, 1]
    with pytest.raises(FeedFormatError, match="line 1: line longer than 1000 bytes"):
        lines_of(b"x" * 1001 + b"\n", max_line_bytes=1000)
    with pytest.raises(FeedFormatError, match="line 2: line longer than 1000 bytes"):
        lines_of(b"ok\n" + b"x" * 1001, max_line_bytes=1000)  # no final newline


def test_two_gigabyte_line_fails_fast_with_flat_memory():
    stream = Endless(2 << 30, prefix=b"1.2.3.4\n")
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(FeedFormatError) as info:
            for _ in parse_text(stream, name="huge.txt"):
                pass
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    elapsed = time.perf_counter() - started
    assert str(info.value) == f"huge.txt: line 2: line longer than {MAX_LINE_BYTES} bytes"
    assert stream.served <= MAX_LINE_BYTES + 2 * CHUNK_BYTES
    assert peak < 8 * MAX_LINE_BYTES
    assert elapsed < 2.0


def test_many_lines_keep_memory_flat():
    count = 60_000  # kept, these records would take ~15 MB

    class Lines(io.RawIOBase):
        def __init__(self):
            self._gen = (
                f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}\n".encode() for i in range(count)
            )
            self._left = b""

        def readable(self):
            return True

        def readinto(self, buffer):
            while len(self._left) < len(buffer):
                more = b"".join(line for _, line in zip(range(4096), self._gen, strict=False))
                if not more:
                    break
                self._left += more
            n = min(len(buffer), len(self._left))
            buffer[:n] = self._left[:n]
            self._left = self._left[n:]
            return n

    tracemalloc.start()
    try:
        seen = 0
        for item in parse_text(io.BufferedReader(Lines()), name="big.txt"):
            seen += 1
            last = item
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seen == count
    assert last.value == "10.0.234.95"
    assert peak < 2 << 20


def test_nul_bytes_are_binary():
    with pytest.raises(FeedFormatError) as info:
        lines_of(b"1.2.3.4\n\x00\x01\x02binary", name="blob.bin")
    assert str(info.value) == "blob.bin: binary data, not a text feed"
    with pytest.raises(FeedFormatError, match="binary data"):
        list(parse_csv(io.BytesIO(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), name="x.csv"))


def test_nul_after_the_first_8_kib_is_not_checked():
    data = b"a\n" * 5000 + b"b\x00c\n"
    got = lines_of(data)
    assert got[-1] == (5001, "b\x00c", b"b\x00c")


def test_utf16_is_refused():
    with pytest.raises(FeedFormatError, match="UTF-16"):
        lines_of("1.2.3.4\n".encode("utf-16"))


@pytest.mark.parametrize(
    "page",
    [
        b"<!DOCTYPE html>\n<html><head><title>Login</title></head></html>\n",
        b"\xef\xbb\xbf\n  <!doctype HTML>\n<html>",
        b"<html>\n<body>403 Forbidden</body></html>",
        b'<?xml version="1.0"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0//EN">\n<html>',
        b"<!-- cached -->\n<html lang=en>",
    ],
)
def test_html_page_is_refused(page):
    with pytest.raises(FeedFormatError) as info:
        lines_of(page, name="feed.txt")
    assert str(info.value) == "feed.txt: an HTML page, not a feed"


def test_text_stream_is_a_usage_error():
    with pytest.raises(TypeError, match="binary stream"):
        list(iter_lines(io.StringIO("1.2.3.4\n")))


# -- line_chunks: a file cut at line ends for the worker processes ---------------------------
TRICKY = (b"\xef\xbb\xbfa\r\nb\r\rc\n\r\nd\xc3\xa9\r" + b"bad \xff\xfe byte\n" + b"x" * 300 + b"\r\n"
          + b"\n".join(b"line %d" % i for i in range(50)) + b"\rlast, no line end")


@pytest.mark.parametrize("size", [1, 2, 3, 5, 16, 64, 1 << 17])
@pytest.mark.parametrize("step", [1, 7, None])
def test_line_chunks_read_back_as_the_whole_file(size, step):
    from registry.ingest.textio import line_chunks

    stream = io.BytesIO(TRICKY) if step is None else OneByteAtATime(TRICKY, step)
    pieces = list(line_chunks(stream, size=size))
    assert b"".join(p for _, p in pieces) == TRICKY[3:]  # the BOM dropped, nothing else
    got = [line for first, piece in pieces for line in iter_lines(io.BytesIO(piece), first_line=first, whole=False)]
    assert got == lines_of(TRICKY)
    assert all(p[-1:] in (b"\n", b"\r") for _, p in pieces[:-1])  # every cut at a line end


def test_line_chunks_refuse_what_iter_lines_refuses():
    from registry.ingest.textio import line_chunks

    with pytest.raises(FeedFormatError, match="binary data"):
        list(line_chunks(io.BytesIO(b"1.2.3.4\n\x00\x01")))
    data = b"1.2.3.4\n5.6.7.8\n" + b"y" * (MAX_LINE_BYTES + 10)
    with pytest.raises(FeedFormatError, match="line 3: line longer"):
        list(line_chunks(io.BytesIO(data), size=4096))
