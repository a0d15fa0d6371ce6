"""Real HTTP clients downloading a streamed export in two steps: made, each reads the first bytes
and leaves the rest unread (the server blocks writing once the sockets' buffers are full), so a
test can break the stream midway; ``finish`` reads the rest and says whether the client took
the body as complete or raised. ``start_all`` has one of each in flight at once: the first
bytes must come within FIRST_BYTES_SECONDS, so one worker must serve them together (a sync
worker served one and left the others waiting until its timeout killed it). ``steady`` reads a
whole body at a set rate."""

from __future__ import annotations

import http.client
import subprocess
import threading
import time
import urllib.request
import zlib
from dataclasses import dataclass

import requests
import urllib3

FIRST = 1 << 16
FIRST_BYTES_SECONDS = 45  # generous: a loaded CI machine is slow to start a PostgreSQL export


@dataclass
class Outcome:
    body: bytes  # what arrived, as the client hands it over (gzip left as is: see RequestsGzip)
    error: str | None  # the client's error; None when it returned the body as complete


class RequestsPlain:
    """requests' own API (iter_content): a broken stream raises ChunkedEncodingError."""

    name = "requests"

    def __init__(self, url: str, key: str) -> None:
        self.response = requests.get(url, headers={"Authorization": f"Bearer {key}", "Accept-Encoding": "identity"},
                                     stream=True, timeout=FIRST_BYTES_SECONDS)
        assert self.response.status_code == 200, self.response.text
        self.chunks = self.response.iter_content(FIRST)
        self.parts = [next(self.chunks)]

    def finish(self) -> Outcome:
        try:
            self.parts.extend(self.chunks)
        except requests.RequestException as exc:
            return Outcome(b"".join(self.parts), repr(exc))
        return Outcome(b"".join(self.parts), None)


class RequestsGzip:
    """gzip asked for, the compressed bytes kept as they came, to check the gzip trailer."""

    name = "requests-gzip"

    def __init__(self, url: str, key: str) -> None:
        self.response = requests.get(url, headers={"Authorization": f"Bearer {key}", "Accept-Encoding": "gzip"},
                                     stream=True, timeout=FIRST_BYTES_SECONDS)
        assert self.response.status_code == 200 and self.response.headers["Content-Encoding"] == "gzip"
        self.chunks = self.response.raw.stream(FIRST, decode_content=False)
        self.parts = [next(self.chunks)]

    def finish(self) -> Outcome:
        try:
            self.parts.extend(self.chunks)
        except urllib3.exceptions.HTTPError as exc:
            return Outcome(b"".join(self.parts), repr(exc))
        return Outcome(b"".join(self.parts), None)


class Urllib:
    name = "urllib"

    def __init__(self, url: str, key: str) -> None:
        self.response = urllib.request.urlopen(  # noqa: S310 - a 127.0.0.1 test server
            urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"}), timeout=FIRST_BYTES_SECONDS)
        self.parts = [self.response.read(FIRST)]

    def finish(self) -> Outcome:
        try:
            self.parts.append(self.response.read())
        except http.client.HTTPException as exc:  # IncompleteRead
            return Outcome(b"".join(self.parts), repr(exc))
        finally:
            self.response.close()
        return Outcome(b"".join(self.parts), None)


class Curl:
    """curl --compressed writing to a pipe: while the test does not read the pipe, curl waits."""

    name = "curl"

    def __init__(self, url: str, key: str) -> None:
        self.process = subprocess.Popen(
            ["curl", "--silent", "--show-error", "--compressed", "-H", f"Authorization: Bearer {key}", url],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.parts = [self.process.stdout.read(FIRST)]

    def finish(self) -> Outcome:
        rest, error = self.process.communicate(timeout=60)
        self.parts.append(rest)
        status = self.process.returncode
        return Outcome(b"".join(self.parts), f"curl exit {status}: {error.decode().strip()}" if status else None)


CLIENTS = (RequestsPlain, RequestsGzip, Urllib, Curl)


def start_all(url: str, key: str) -> list:
    return [client(url, key) for client in CLIENTS]


def gzip_complete(data: bytes) -> bool:
    """Whether ``data`` is a gzip stream with its trailer (a truncated one has none)."""
    decompressor = zlib.decompressobj(31)
    decompressor.decompress(data)
    return decompressor.eof


def assert_every_client_failed(downloads: list, whole_size: int) -> None:
    """Each client raised (curl: a non-zero exit) and none holds a body as long as the whole."""
    for download in downloads:
        outcome = download.finish()
        assert outcome.error, f"{download.name} took a cut-short body as complete ({len(outcome.body)} bytes)"
        if isinstance(download, RequestsGzip):
            assert not gzip_complete(outcome.body), "a cut-short gzip body ended with its trailer"
        else:
            assert len(outcome.body) < whole_size, download.name


def steady(url: str, key: str, *, bytes_per_second: float, until: float | None = None,
           reading: threading.Event | None = None) -> Outcome:
    """requests reading a whole body at about ``bytes_per_second`` (giving up at ``until``, a
    time.monotonic() deadline, with the error "deadline"); sets ``reading`` once the first
    bytes are in."""
    response = requests.get(url, headers={"Authorization": f"Bearer {key}", "Accept-Encoding": "identity"},
                            stream=True, timeout=60)
    assert response.status_code == 200, response.text
    parts, received, started = [], 0, time.monotonic()
    try:
        for part in response.iter_content(FIRST):
            parts.append(part)
            received += len(part)
            if reading is not None:
                reading.set()
            if until is not None and time.monotonic() > until:
                return Outcome(b"".join(parts), "deadline")
            ahead = received / bytes_per_second - (time.monotonic() - started)
            if ahead > 0:
                time.sleep(ahead)
    except requests.RequestException as exc:
        return Outcome(b"".join(parts), repr(exc))
    finally:
        response.close()
    return Outcome(b"".join(parts), None)
