"""Sealed numbers and keyed tags: what the API hands out in place of internal counters.

Change sequence numbers and audit row ids count every org's rows, hidden ones included: a
caller given two of them would learn how many hidden changes fell between, and a caller who may
send one back as a filter could probe where its own rows fall. So where a client needs to come
back to a position (TAXII ``next``, ``since``, the audit listing's ``cursor``) it gets the number
sealed: AES-GCM under a key derived from the server's secret, a fresh nonce each time (two tokens
for one position differ, so equal tokens tell nothing either), the token's purpose as associated
data (a token of one kind is refused as another). A token cannot be read or made without the key.
``tag`` is a keyed digest (HMAC-SHA256) for ETags built from such numbers: without the key it
cannot be recomputed by guessing its inputs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

POSITION = "position"  # a change sequence number: TAXII next, since
AUDIT = "audit"  # an audit row id: the audit listing's cursor
FEED_RUN = "feed-run"  # a feed run's row id: the runs listing's cursor, and (tagged) a run's id
ASSERTION = "assertion"  # an assertion's row id: what a review listing names and a confirmation takes
_NONCE = 12
_TOKEN_LENGTH = 48  # base64 of nonce (12) + number (8) + GCM tag (16)


class Sealer:
    def __init__(self, secret: str | bytes) -> None:
        secret = secret.encode() if isinstance(secret, str) else secret
        self._aead = AESGCM(_derive(secret, b"sealed numbers"))
        self._tag_key = _derive(secret, b"tags")

    def seal(self, number: int, purpose: str) -> str:
        nonce = os.urandom(_NONCE)
        sealed = self._aead.encrypt(nonce, number.to_bytes(8, "big"), purpose.encode())
        return base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, token: str, purpose: str) -> int | None:
        """The number sealed in ``token`` for ``purpose``; None for anything this server did not seal."""
        if not isinstance(token, str) or len(token) != _TOKEN_LENGTH:
            return None
        try:
            raw = base64.urlsafe_b64decode(token.encode("ascii"))
            return int.from_bytes(self._aead.decrypt(raw[:_NONCE], raw[_NONCE:], purpose.encode()), "big")
        except (ValueError, UnicodeEncodeError, InvalidTag):
            return None

    def tag(self, *parts: str) -> str:
        message = "\x1f".join(parts).encode()
        return hmac.new(self._tag_key, message, hashlib.sha256).hexdigest()[:32]


def _derive(secret: bytes, label: bytes) -> bytes:
    return hmac.new(secret, b"registry opaque v1: " + label, hashlib.sha256).digest()
