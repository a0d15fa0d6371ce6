"""One webhook delivery over HTTP (docs/security.md, "Webhooks").

The host name is resolved here and every address checked (``domain.webhooks.refusal``) at each
delivery, not only at registration, and the connection goes to the address checked: a name that
resolves elsewhere between the check and the connection (DNS rebinding) reaches nothing else.
TLS still verifies the certificate for the host name. Redirects are never followed (a 3xx is a
failure); the whole attempt, connection to the end of the answer's first bytes, has one deadline.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import socket
import ssl
import threading
import time
from dataclasses import dataclass

from registry import __version__
from registry.domain import webhooks as rules

ANSWER_CHARS = 500  # of a receiver's answer kept with the attempt (webhook_delivery.answer)
ANSWER_BYTES = 4 * ANSWER_CHARS  # read of it at most
ERROR_CHARS = 500
USER_AGENT = f"registry-webhook/{__version__}"


@dataclass(frozen=True, slots=True)
class Outcome:
    """An attempt's result: the receiver's status and the start of its answer, or why none came."""

    status: int | None
    answer: str | None
    error: str | None
    duration: float

    @property
    def acknowledged(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@functools.cache
def _tls() -> ssl.SSLContext:
    """The system's trusted certificates, loaded once: verifying the host name, TLS 1.2 or later."""
    return ssl.create_default_context()


def resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to (an IP literal: itself); [] when it does not resolve."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return []
    return list(dict.fromkeys(info[4][0] for info in infos))


class _Pinned:
    """Connects to the checked ``address`` while speaking to ``host`` (Host header, SNI, the
    certificate's name)."""

    def pin(self, address: str) -> None:
        def connect(where, timeout, source_address=None):
            return socket.create_connection((address, where[1]), timeout, source_address)

        self._create_connection = connect


class _HTTP(_Pinned, http.client.HTTPConnection):
    pass


class _HTTPS(_Pinned, http.client.HTTPSConnection):
    pass


def post(url: str, body: bytes, headers: dict[str, str], *, allow_loopback: bool, timeout: float) -> Outcome:
    """POST ``body`` to ``url`` once; never raises for what the network or receiver does."""
    started = time.monotonic()

    def done(status=None, answer=None, error=None) -> Outcome:
        return Outcome(status, answer, error[:ERROR_CHARS] if error else None, round(time.monotonic() - started, 3))

    try:
        target = rules.parse_url(url, allow_loopback=allow_loopback)
    except rules.UrlRefused as exc:
        return done(error=f"not sent: {exc}")
    addresses = resolve(target.host, target.port)
    why = rules.refusal(target, addresses, allow_loopback=allow_loopback)
    if why is not None:
        return done(error=f"not sent: {why}")
    if target.scheme == "https":
        conn: _HTTP | _HTTPS = _HTTPS(target.host, target.port, timeout=timeout, context=_tls())
    else:
        conn = _HTTP(target.host, target.port, timeout=timeout)
    conn.pin(addresses[0])
    # The socket timeout bounds each read; this bounds the whole attempt (a receiver trickling
    # its answer a byte at a time would otherwise hold the delivery for as long as it likes).
    cut = threading.Event()
    watchdog = threading.Timer(timeout, _cut, args=(conn, cut))
    watchdog.daemon = True
    watchdog.start()
    try:
        conn.request("POST", target.path, body=body, headers={
            "Content-Type": "application/json", "User-Agent": USER_AGENT, "Connection": "close", **headers})
        response = conn.getresponse()
        if cut.is_set():  # what was read before the cut may parse, half a header as a whole one
            return done(error=f"no answer within {timeout:g} s")
        status = response.status
        try:
            raw = response.read(ANSWER_BYTES)
        except (OSError, http.client.HTTPException):  # the status is the answer; the body only a courtesy
            raw = b""
        answer = raw.decode("utf-8", "replace")[:ANSWER_CHARS]
        if 300 <= status < 400:
            where = response.getheader("Location") or "nowhere"
            return done(status, answer, f"redirect to {where} not followed")
        return done(status, answer)
    except TimeoutError:
        return done(error=f"no answer within {timeout:g} s")
    except ConnectionRefusedError:
        return done(error=f"connection refused by {addresses[0]} port {target.port}")
    except ssl.SSLError as exc:
        return done(error=f"TLS: {exc.reason or exc}")
    except (OSError, http.client.HTTPException) as exc:
        if cut.is_set():
            return done(error=f"no answer within {timeout:g} s")
        return done(error=f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
    finally:
        watchdog.cancel()
        conn.close()


def _cut(conn: http.client.HTTPConnection, cut: threading.Event) -> None:
    cut.set()
    sock = conn.sock
    if sock is not None:
        with contextlib.suppress(OSError):  # closed meanwhile
            sock.shutdown(socket.SHUT_RDWR)
