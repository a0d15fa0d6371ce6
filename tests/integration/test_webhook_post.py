"""One delivery over real sockets on 127.0.0.1 (registry.services.webhook_http.post): TLS verifies
the receiver's certificate, a receiver that never answers or trickles its answer is cut at the
deadline, a refused connection and a 3xx are failures with their reason, the answer's start is kept."""

from __future__ import annotations

import datetime
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from registry.services.webhook_http import ANSWER_CHARS, post
from tests.webhook_receiver import Receiver


def _self_signed(folder) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


@pytest.fixture
def receiver():
    got = Receiver()
    got.secret = "whsec_test"
    yield got
    got.close()


def test_tls_verifies_the_receivers_certificate(tmp_path):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*_self_signed(tmp_path))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        outcome = post(f"https://localhost:{server.server_address[1]}/hook", b"{}", {}, allow_loopback=True, timeout=5)
    finally:
        server.shutdown()
        server.server_close()
    assert outcome.status is None and not outcome.acknowledged
    assert outcome.error.startswith("TLS: CERTIFICATE_VERIFY_FAILED")


def test_a_silent_or_trickling_receiver_is_cut_at_the_deadline():
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def accept():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            held.append(conn)
            if len(held) == 2:  # the second trickles: a status line, then a byte at a time
                conn.sendall(b"HTTP/1.1 200 OK\r\n")
                threading.Thread(target=_trickle, args=(conn,), daemon=True).start()
            elif len(held) == 3:  # the third answers, then trickles the body: answered all the same
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
                threading.Thread(target=_trickle, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/hook"
    try:
        for _ in range(2):
            started = time.monotonic()
            outcome = post(url, b"{}", {}, allow_loopback=True, timeout=0.5)
            assert time.monotonic() - started < 3
            assert (outcome.status, outcome.error) == (None, "no answer within 0.5 s")
        started = time.monotonic()
        answered = post(url, b"{}", {}, allow_loopback=True, timeout=0.5)
        assert time.monotonic() - started < 3
        assert answered.acknowledged and answered.error is None and set(answered.answer) <= {"X"}
    finally:
        listener.close()
        for conn in held:
            conn.close()


def _trickle(conn: socket.socket) -> None:
    try:
        for _ in range(100):
            conn.sendall(b"X")
            time.sleep(0.1)
    except OSError:
        pass


def test_failures_say_why_and_an_answer_is_kept_short(receiver):
    receiver.answer = lambda r: (200, ("é" * 2000).encode(), {}) if r.path == "/long" else (
        307, b"", {"Location": "https://elsewhere.example/"})
    long = post(receiver.url("/long"), b"{}", {"X-Registry-Signature": _sig(b"{}")}, allow_loopback=True, timeout=5)
    assert long.acknowledged and long.answer == "é" * ANSWER_CHARS
    moved = post(receiver.url("/moved"), b"{}", {"X-Registry-Signature": _sig(b"{}")}, allow_loopback=True, timeout=5)
    assert (moved.status, moved.acknowledged, moved.error) == (
        307, False, "redirect to https://elsewhere.example/ not followed")
    port = receiver.port
    receiver.down()
    refused = post(f"http://127.0.0.1:{port}/hook", b"{}", {}, allow_loopback=True, timeout=5)
    assert (refused.status, refused.error) == (None, f"connection refused by 127.0.0.1 port {port}")
    private = post("https://10.0.0.1/hook", b"{}", {}, allow_loopback=False, timeout=5)
    assert private.error == "not sent: url's host 10.0.0.1 is a private address"


def _sig(body: bytes) -> str:
    from registry.domain.webhooks import signature

    return signature("whsec_test", body)
