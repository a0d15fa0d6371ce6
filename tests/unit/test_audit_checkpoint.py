"""Audit checkpoints without a database: documents read field by field, public keys in hex or
PEM, when the scheduler's checkpoint is due, and the instance folder's signing key (made once,
0600, whoever races to make it; a broken one named)."""

from __future__ import annotations

import stat
import threading
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from registry.domain.audit_checkpoint import (
    CheckpointError,
    is_due,
    parse,
    public_hex,
    read_public_key,
    sign,
)
from registry.services.audit_checkpoints import SigningKeyError, public_key, signing_key

T0 = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
KEY = Ed25519PrivateKey.generate()
GOOD = sign(KEY, 42, "ab" * 32, T0).to_json()


@pytest.mark.parametrize(("change", "words"), [
    ({"seq": -1}, "seq must be a whole number of at least 0, not -1"),
    ({"seq": True}, "seq must be a whole number"),
    ({"hash": "AB" * 32}, "hash must be 64 lowercase hex digits, not 'ABAB"),
    ({"time": "2026-11-22T06:00:00Z"}, "time must be a time like 2026-11-22T06:00:00.000000Z"),
    ({"public_key": None}, "public_key must be 64 lowercase hex digits, not None"),
    ({"signature": "00"}, "signature must be 128 lowercase hex digits, not '00'"),
    ({"seq": 43}, "its signed text is not the one its seq, hash and time make"),
    ({"seq": 0, "signed": None}, "seq 0 (an empty log) goes with the genesis hash"),
])
def test_a_bad_document_is_named_by_its_field(change, words):
    doc = GOOD | change
    if doc.get("signed") is None:
        doc.pop("signed", None)
    with pytest.raises(CheckpointError) as caught:
        parse(doc)
    assert words in str(caught.value)
    with pytest.raises(CheckpointError, match="a checkpoint is a JSON object, not list"):
        parse([GOOD])


def test_a_good_document_reads_back_as_signed():
    checkpoint = parse(GOOD)
    assert (checkpoint.seq, checkpoint.time) == (42, "2026-11-22T06:00:00.000000Z")
    assert checkpoint.to_json() == GOOD


def test_public_keys_read_as_hex_or_pem():
    hex_key = public_hex(KEY.public_key())
    pem = KEY.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert read_public_key(hex_key.upper() + "\n") == hex_key
    assert read_public_key(pem.decode()) == hex_key
    rsa_pem = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    with pytest.raises(ValueError, match="RSAPublicKey key, not an Ed25519 one"):
        read_public_key(rsa_pem)
    with pytest.raises(ValueError, match="neither 64 hex digits nor a PEM public key"):
        read_public_key("abc")


def test_a_checkpoint_is_due_an_interval_after_the_last_give_or_take_a_tenth():
    assert is_due(None, T0, 60)
    assert not is_due(T0, T0 + timedelta(minutes=30), 60)
    assert not is_due(T0, T0 + timedelta(minutes=53), 60)
    assert is_due(T0, T0 + timedelta(minutes=54), 60)  # a job that fired a moment early still signs
    assert is_due(T0, T0 + timedelta(minutes=61), 60)


def test_the_signing_key_is_made_once_whoever_races_to_make_it(tmp_path):
    instance = tmp_path / "instance"
    assert signing_key(instance, create=False) is None and public_key(instance, create=False) is None
    found: list[str] = []
    threads = [threading.Thread(target=lambda: found.append(public_key(instance)["public_key"])) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(found) == 8 and len(set(found)) == 1
    key_file = instance / "audit_signing_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert sorted(p.name for p in instance.iterdir()) == ["audit_signing_key"]  # no temporary left behind
    assert public_key(instance)["public_key_pem"].startswith("-----BEGIN PUBLIC KEY-----")


def test_a_broken_key_file_is_named(tmp_path):
    (tmp_path / "audit_signing_key").write_text("not a key")
    with pytest.raises(SigningKeyError, match=f"the audit signing key {tmp_path / 'audit_signing_key'} is not an unencrypted PEM"):
        signing_key(tmp_path)
