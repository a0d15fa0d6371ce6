"""Signed checkpoints of the audit chain's head (pure: no SQL, no files).

The hash chain (``audit_chain``) shows a row edited or deleted in the middle, but not the newest
rows cut off together with the counter, nor a history rewritten by someone who recomputes every
hash after it. A checkpoint is the registry's Ed25519 signature over the head it had at a time:
the id of the last audit row (``seq``), that row's hash, and the time. A member who keeps
checkpoints can later show that the log no longer holds a head the registry signed (the row is
gone, or its hash differs). What exactly is signed is ``signed_text``, documented in
docs/security.md ("Audit checkpoints") so that any Ed25519 tool can check it.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from registry.domain.audit_chain import GENESIS, canonical_time

ALGORITHM = "Ed25519"
VERSION = "registry-audit-checkpoint-v1"  # the first line of what is signed: never a valid other message
_HEX64 = re.compile(r"[0-9a-f]{64}")
_HEX128 = re.compile(r"[0-9a-f]{128}")
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")  # canonical_time's form
# A scheduled job fires every interval, but the checkpoint's time is read a moment after it
# fires: without some slack a previous checkpoint taken late would make the next one skip.
DUE_SLACK = 0.1


class CheckpointError(ValueError):
    """A checkpoint document that is not one (the message says which field and why)."""


@dataclass(frozen=True)
class Checkpoint:
    seq: int  # the id of the audit row that was the head (0: the log was empty)
    hash: str  # that row's hash (GENESIS for an empty log)
    time: str  # when it was signed, as canonical_time writes it
    public_key: str  # hex of the raw 32-byte Ed25519 public key
    signature: str  # hex of the 64-byte signature over signed_text(seq, hash, time)

    def signed(self) -> str:
        return signed_text(self.seq, self.hash, self.time)

    def to_json(self) -> dict:
        """The checkpoint as served (``GET /-/audit/checkpoint``) and printed."""
        return {"seq": self.seq, "hash": self.hash, "time": self.time, "public_key": self.public_key,
                "signature": self.signature, "algorithm": ALGORITHM, "signed": self.signed()}


def signed_text(seq: int, head_hash: str, time: str) -> str:
    """The exact text signed, ASCII, four lines each ending in a newline:
    ``registry-audit-checkpoint-v1``, ``seq=<decimal>``, ``hash=<64 lowercase hex>``,
    ``time=<YYYY-MM-DDTHH:MM:SS.ffffffZ>``."""
    return f"{VERSION}\nseq={seq}\nhash={head_hash}\ntime={time}\n"


def sign(key: Ed25519PrivateKey, seq: int, head_hash: str, when: datetime) -> Checkpoint:
    time = canonical_time(when)
    signature = key.sign(signed_text(seq, head_hash, time).encode("ascii"))
    return Checkpoint(seq, head_hash, time, public_hex(key.public_key()), signature.hex())


def public_hex(key: Ed25519PublicKey) -> str:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def public_pem(public_key_hex: str) -> str:
    """The public key as a PEM SubjectPublicKeyInfo, what ``openssl pkeyutl -pubin`` reads."""
    key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex))
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def read_public_key(text: str) -> str:
    """A public key written as 64 hex digits or as PEM, as hex; ValueError saying why not."""
    stripped = text.strip()
    if _HEX64.fullmatch(stripped.lower()):
        return stripped.lower()
    if stripped.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_public_key(stripped.encode())
        except ValueError as exc:
            raise ValueError(f"not a readable PEM public key: {exc}") from None
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError(f"a {type(key).__name__.removeprefix('_')} key, not an Ed25519 one")
        return public_hex(key)
    raise ValueError("neither 64 hex digits nor a PEM public key")


def parse(doc: object) -> Checkpoint:
    """A checkpoint document as served, checked field by field (CheckpointError naming the
    field). Its ``signed`` text, when present, must be what its fields say."""
    if not isinstance(doc, Mapping):
        raise CheckpointError(f"a checkpoint is a JSON object, not {type(doc).__name__}")
    seq = doc.get("seq")
    if type(seq) is not int or seq < 0:
        raise CheckpointError(f"seq must be a whole number of at least 0, not {seq!r}")
    fields = {}
    for name, pattern, what in (("hash", _HEX64, "64 lowercase hex digits"), ("time", _TIME, "a time like 2026-11-22T06:00:00.000000Z"),
                                ("public_key", _HEX64, "64 lowercase hex digits"), ("signature", _HEX128, "128 lowercase hex digits")):
        value = doc.get(name)
        if not isinstance(value, str) or not pattern.fullmatch(value):
            raise CheckpointError(f"{name} must be {what}, not {value!r}")
        fields[name] = value
    checkpoint = Checkpoint(seq, fields["hash"], fields["time"], fields["public_key"], fields["signature"])
    if "signed" in doc and doc["signed"] != checkpoint.signed():
        raise CheckpointError("its signed text is not the one its seq, hash and time make")
    if seq == 0 and checkpoint.hash != GENESIS:
        raise CheckpointError("seq 0 (an empty log) goes with the genesis hash")
    return checkpoint


def signature_problem(checkpoint: Checkpoint, trusted: Collection[str]) -> str | None:
    """Why the signature cannot be trusted, or None: its key must be one of ``trusted`` (hex)
    and the signature must verify under it."""
    if checkpoint.public_key not in trusted:
        known = ", ".join(sorted(trusted)) or "none"
        return f"it names public key {checkpoint.public_key}, not a key trusted here ({known})"
    key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(checkpoint.public_key))
    try:
        key.verify(bytes.fromhex(checkpoint.signature), checkpoint.signed().encode("ascii"))
    except InvalidSignature:
        return f"its signature does not verify under public key {checkpoint.public_key}"
    return None


def log_problem(checkpoint: Checkpoint, stored_hash: str | None, last_id: int | None) -> str | None:
    """Why the log no longer holds the head ``checkpoint`` signed, or None: ``stored_hash`` is
    the hash of the row whose id is its ``seq`` (None: no such row), ``last_id`` the newest row's
    id (None: an empty log)."""
    seq = checkpoint.seq
    if seq == 0:
        return None  # an empty log's head is the genesis hash: every log holds it
    if stored_hash is None:
        if last_id is None or last_id < seq:
            ends = "the log is empty" if last_id is None else f"the log ends at row {last_id}"
            return f"the log no longer holds row {seq}, the head it signed: {ends} (rows were cut off)"
        return f"the log no longer holds row {seq}, the head it signed: that row was deleted"
    if stored_hash != checkpoint.hash:
        return (f"row {seq} has hash {stored_hash}, not the {checkpoint.hash} it signed: "
                "the log was rewritten beneath it")
    return None


def is_due(last: datetime | None, now: datetime, minutes: int) -> bool:
    """Whether a scheduled checkpoint is due ``minutes`` after the ``last`` one."""
    if last is None:
        return True
    return now - last >= timedelta(minutes=minutes) * (1 - DUE_SLACK)
