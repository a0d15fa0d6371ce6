"""Fetching a feed body: ``https://``, ``http://`` or ``file://``, to a spool file on disk.

The body is written to a temporary file as it arrives (memory stays flat), decoded there
(gzip, by ``Content-Encoding`` or by its magic bytes, and zip archives), and checked whole
before a single row is parsed: a truncated gzip, a body over the size limit or a download
cut short fails the run before it changes any data.

- Conditional requests: the last ETag and Last-Modified go out as ``If-None-Match`` and
  ``If-Modified-Since``; a 304 is ``Fetched.not_modified``. For ``file://`` the validator is
  the file's modification time and size.
- Limits: connect and read timeouts (requests'), a total time for the whole download (a
  server dribbling bytes forever), a maximum size, on the wire and decoded (a gzip bomb).
- Retries with exponential back-off on 5xx, 429, timeouts and dropped connections;
  ``Retry-After`` is honoured up to ``MAX_WAIT``. Other 4xx fail at once.
- Credentials come in ``headers`` from the caller (read from an environment variable it
  names); they are never logged or put in an error message.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import shutil
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from registry.ingest.catalogue import resolve_url

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
CHUNK = 1 << 16
MAX_WAIT = 60.0  # seconds: the longest back-off or Retry-After honoured


@dataclass(frozen=True)
class Limits:
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    total_timeout: float = 900.0
    max_bytes: int = 512 << 20
    retries: int = 3
    backoff: float = 2.0  # seconds before the first retry; doubled each time


class FetchError(Exception):
    """The body could not be fetched or decoded; ``str()`` says why in one line."""

    def __init__(self, message: str, *, http_status: int | None = None, wire_bytes: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.http_status = http_status
        self.wire_bytes = wire_bytes


class _Retry(Exception):
    def __init__(self, message: str, *, http_status: int | None = None, wait: float | None = None) -> None:
        super().__init__(message)
        self.message, self.http_status, self.wait = message, http_status, wait


@dataclass
class Fetched:
    """A fetched body. ``path`` is the decoded body (None when not modified); it lives until
    the ``fetch`` block ends."""

    url: str
    not_modified: bool
    http_status: int | None
    wire_bytes: int
    path: Path | None = None
    size: int = 0
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None
    attempts: int = 1
    _files: list[Path] = field(default_factory=list, repr=False)

    def open(self):
        return self.path.open("rb")

    def head(self, size: int = 1 << 16) -> bytes:
        with self.path.open("rb") as fh:
            return fh.read(size)


@contextlib.contextmanager
def fetch(url: str, *, etag: str | None = None, last_modified: str | None = None, headers: dict | None = None,
          limits: Limits = Limits(), member: str | None = None, spool_dir: Path | None = None,
          sleep: Callable[[float], None] = time.sleep, session=None) -> Iterator[Fetched]:
    """Fetch ``url`` into a spool file; the file is removed when the block ends."""
    url = resolve_url(url)
    files: list[Path] = []
    try:
        if url.startswith("file://"):
            fetched = _fetch_file(url, last_modified, limits, files, spool_dir)
        elif url.startswith(("http://", "https://")):
            fetched = _fetch_http(url, etag, last_modified, headers or {}, limits, files, spool_dir, sleep, session)
        else:
            raise FetchError(f"cannot fetch {url!r}: only https://, http:// and file:// URLs")
        if fetched.path is not None:
            fetched.path, fetched.size = _decode(fetched, limits, member, files, spool_dir)
        fetched._files = files
        yield fetched
    finally:
        for path in files:
            with contextlib.suppress(OSError):
                path.unlink()


def _spool(files: list[Path], spool_dir: Path | None, suffix: str) -> tuple[int, Path]:
    fd, name = tempfile.mkstemp(prefix="registry-feed-", suffix=suffix, dir=spool_dir)
    path = Path(name)
    files.append(path)
    return fd, path


# -- file:// ---------------------------------------------------------------------------------
def _fetch_file(url: str, last_modified: str | None, limits: Limits, files, spool_dir) -> Fetched:
    path = Path(unquote(urlsplit(url).path))
    try:
        stat = path.stat()
    except OSError as exc:
        raise FetchError(f"{path}: {exc.strerror or exc}") from None
    if not path.is_file():
        raise FetchError(f"{path}: not a file")
    validator = f"{stat.st_mtime_ns}:{stat.st_size}"
    if last_modified == validator:
        return Fetched(url, True, None, 0, last_modified=validator)
    if stat.st_size > limits.max_bytes:
        raise FetchError(f"{path}: {stat.st_size:,} bytes, over the limit of {limits.max_bytes:,}")
    # Copied, so a file rewritten while the run reads it cannot mix two versions.
    fd, spool = _spool(files, spool_dir, ".raw")
    with os.fdopen(fd, "wb") as out, path.open("rb") as src:
        shutil.copyfileobj(src, out, CHUNK)
    return Fetched(url, False, None, stat.st_size, path=spool, last_modified=validator)


# -- http(s):// ------------------------------------------------------------------------------
def _fetch_http(url, etag, last_modified, headers, limits: Limits, files, spool_dir, sleep, session) -> Fetched:
    import requests

    from registry import __version__

    own = session is None
    session = session or requests.Session()
    request_headers = {"User-Agent": f"registry/{__version__} (feed fetcher)", "Accept-Encoding": "gzip", **headers}
    if etag:
        request_headers["If-None-Match"] = etag
    if last_modified:
        request_headers["If-Modified-Since"] = last_modified
    attempt = 0
    try:
        while True:
            attempt += 1
            try:
                fetched = _attempt(session, url, request_headers, limits, files, spool_dir)
                fetched.attempts = attempt
                return fetched
            except _Retry as retry:
                if attempt > limits.retries:
                    tries = f" (after {attempt} attempts)" if attempt > 1 else ""
                    raise FetchError(f"{retry.message}{tries}", http_status=retry.http_status) from None
                wait = retry.wait if retry.wait is not None else limits.backoff * 2 ** (attempt - 1)
                sleep(min(wait, MAX_WAIT))
    finally:
        if own:
            session.close()


def _attempt(session, url, headers, limits: Limits, files, spool_dir) -> Fetched:
    import requests
    import urllib3

    started = time.monotonic()
    try:
        response = session.get(url, headers=headers, stream=True, allow_redirects=True,
                               timeout=(limits.connect_timeout, limits.read_timeout))
    except requests.Timeout:
        raise _Retry(f"no answer from {_where(url)} within {limits.connect_timeout:g}/{limits.read_timeout:g} s "
                     "(connect/read timeout)") from None
    except requests.ConnectionError as exc:
        raise _Retry(f"cannot connect to {_where(url)}: {_reason(exc)}") from None
    except requests.RequestException as exc:
        raise FetchError(f"{_where(url)}: {_reason(exc)}") from None
    with response:
        status = response.status_code
        if status == 304:
            return Fetched(url, True, 304, 0, etag=response.headers.get("ETag") or headers.get("If-None-Match"),
                           last_modified=response.headers.get("Last-Modified") or headers.get("If-Modified-Since"))
        if status >= 500 or status == 429:
            raise _Retry(f"HTTP {status} {response.reason or ''} from {_where(url)}".replace("  ", " "),
                         http_status=status, wait=_retry_after(response.headers.get("Retry-After")))
        if status != 200:
            raise FetchError(f"HTTP {status} {response.reason or ''} from {_where(url)}".replace("  ", " ").strip(),
                             http_status=status)
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > limits.max_bytes:
            raise FetchError(f"the body is {int(declared):,} bytes, over the limit of {limits.max_bytes:,} bytes "
                             "(max_mb)", http_status=status)
        fd, path = _spool(files, spool_dir, ".raw")
        wire = 0
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in response.raw.stream(CHUNK, decode_content=False):
                    wire += len(chunk)
                    if wire > limits.max_bytes:
                        raise FetchError(f"the body passed the limit of {limits.max_bytes:,} bytes (max_mb)",
                                         http_status=status, wire_bytes=wire)
                    if time.monotonic() - started > limits.total_timeout:
                        raise FetchError(f"the download took longer than {limits.total_timeout:g} s "
                                         "(total_timeout)", http_status=status, wire_bytes=wire)
                    out.write(chunk)
        except (urllib3.exceptions.ReadTimeoutError, requests.Timeout):
            raise _Retry(f"{_where(url)} stopped sending for {limits.read_timeout:g} s (read timeout) "
                         f"after {wire:,} bytes", http_status=status) from None
        except (urllib3.exceptions.HTTPError, requests.RequestException, OSError) as exc:
            raise _Retry(f"the download from {_where(url)} was cut short after {wire:,} bytes: {_reason(exc)}",
                         http_status=status) from None
        return Fetched(url, False, status, wire, path=path, etag=response.headers.get("ETag"),
                       last_modified=response.headers.get("Last-Modified"),
                       content_type=response.headers.get("Content-Type"))


def _where(url: str) -> str:
    """The URL without its query string (a partner may put a key there)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"


def _reason(exc: Exception) -> str:
    text = str(exc.__context__ or exc) if not str(exc) else str(exc)
    return " ".join(text.split())[:300]


def _retry_after(value: str | None) -> float | None:
    if value and value.strip().isdigit():
        return float(value.strip())
    return None


# -- decoding --------------------------------------------------------------------------------
def _magic(path: Path) -> bytes:
    with path.open("rb") as fh:
        return fh.read(4)


def _decode(fetched: Fetched, limits: Limits, member: str | None, files, spool_dir) -> tuple[Path, int]:
    path = fetched.path
    for _ in range(2):  # a .gz file may also travel with Content-Encoding: gzip
        if _magic(path)[:2] != GZIP_MAGIC:
            break
        path = _gunzip(path, limits, files, spool_dir, fetched.wire_bytes)
    if _magic(path) == ZIP_MAGIC:
        path = _unzip(path, member, limits, files, spool_dir, fetched.wire_bytes)
    return path, path.stat().st_size


def _copy_limited(src, fd: int, limits: Limits, what: str, wire: int) -> None:
    written = 0
    with os.fdopen(fd, "wb") as out:
        while True:
            chunk = src.read(CHUNK)
            if not chunk:
                return
            written += len(chunk)
            if written > limits.max_bytes:
                raise FetchError(f"the {what} passes the limit of {limits.max_bytes:,} bytes once decompressed "
                                 "(max_mb)", wire_bytes=wire)
            out.write(chunk)


def _gunzip(path: Path, limits: Limits, files, spool_dir, wire: int) -> Path:
    fd, out = _spool(files, spool_dir, ".body")
    try:
        with gzip.open(path, "rb") as src:
            _copy_limited(src, fd, limits, "gzip body", wire)
    except EOFError:
        raise FetchError("the gzip body is truncated (it ends before gzip's end marker): the download was cut "
                         "short or the file is damaged", wire_bytes=wire) from None
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise FetchError(f"the body is not valid gzip: {exc}", wire_bytes=wire) from None
    return out


def _unzip(path: Path, member: str | None, limits: Limits, files, spool_dir, wire: int) -> Path:
    try:
        with zipfile.ZipFile(path) as archive:
            names = [i.filename for i in archive.infolist() if not i.is_dir()]
            if member is not None:
                if member not in names:
                    raise FetchError(f"the zip archive has no member {member!r}; it holds: {', '.join(names[:10])}",
                                     wire_bytes=wire)
                chosen = member
            elif names:
                chosen = names[0]
            else:
                raise FetchError("the zip archive is empty", wire_bytes=wire)
            fd, out = _spool(files, spool_dir, ".body")
            with archive.open(chosen) as src:
                _copy_limited(src, fd, limits, f"zip member {chosen}", wire)
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise FetchError(f"the body is not a readable zip archive: {exc}", wire_bytes=wire) from None
    return out
