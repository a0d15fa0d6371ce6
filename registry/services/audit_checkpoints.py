"""Signed checkpoints of the audit chain: take one (on demand, or when due for the scheduler),
serve the newest, check kept ones against the log (``registry audit verify --checkpoint``).

The signing key is a PEM (PKCS #8) Ed25519 private key in the instance folder, ``KEY_FILE``,
made 0600 on first use. Every process that signs (the scheduler, ``registry audit checkpoint``)
and serves the public key (the web workers) must read the same file: a shared instance folder,
or the same file provisioned on each host (docs/deployment.md). What is signed and how members
check it: docs/security.md, "Audit checkpoints".
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Collection, Iterable
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from registry.domain.audit_chain import canonical_time
from registry.domain.audit_checkpoint import (
    ALGORITHM,
    Checkpoint,
    CheckpointError,
    is_due,
    log_problem,
    parse,
    public_hex,
    public_pem,
    sign,
    signature_problem,
)
from registry.domain.rows import as_time
from registry.domain.times import utcnow
from registry.services.errors import RegistryError
from registry.storage import audit as audit_store
from registry.storage import audit_checkpoints as store
from registry.storage.db import Database

log = logging.getLogger("registry.audit")

KEY_FILE = "audit_signing_key"


class SigningKeyError(RegistryError):
    """The instance folder's signing key cannot be read or is not an Ed25519 private key."""

    status = 500
    code = "signing_key"


def key_path(instance_path: Path) -> Path:
    return Path(instance_path) / KEY_FILE


def signing_key(instance_path: Path, *, create: bool = True) -> Ed25519PrivateKey | None:
    """The instance's signing key, made on first use unless ``create`` is False (then None
    when there is none)."""
    path = key_path(instance_path)
    if not path.exists():
        if not create:
            return None
        _create(path)
    return _load(path)


def public_key(instance_path: Path, *, create: bool = True) -> dict | None:
    """The public half as published (``GET /-/audit/public-key``): hex and PEM."""
    key = signing_key(instance_path, create=create)
    if key is None:
        return None
    hex_key = public_hex(key.public_key())
    return {"public_key": hex_key, "public_key_pem": public_pem(hex_key), "algorithm": ALGORITHM}


def take(db: Database, instance_path: Path, *, now: datetime | None = None) -> dict:
    """Sign the chain's head now and store it; the checkpoint as served."""
    taken = _take(db, instance_path, now or utcnow(), None)
    assert taken is not None  # only a due check skips
    return taken


def take_if_due(db: Database, instance_path: Path, minutes: int, *, now: datetime | None = None) -> dict | None:
    """The scheduler's job: a checkpoint unless one was taken less than ``minutes`` ago (by this
    or another scheduler sharing the database); None when none was due."""
    return _take(db, instance_path, now or utcnow(), minutes)


def _take(db: Database, instance_path: Path, now: datetime, due_minutes: int | None) -> dict | None:
    key = signing_key(instance_path)
    with db.write() as conn:
        store.lock(conn)
        last = store.latest(conn)
        if due_minutes is not None and last is not None and not is_due(_aware(last["time"]), now, due_minutes):
            return None
        seq, head_hash = audit_store.head(conn)
        checkpoint = sign(key, seq, head_hash, now)
        store.add(conn, seq=seq, hash=head_hash, time=now, public_key=checkpoint.public_key,
                  signature=checkpoint.signature)
    if last is not None and last["public_key"] != checkpoint.public_key:
        # Two hosts with keys of their own, or a replaced key file: members holding older
        # checkpoints need the old public key to check them (docs/deployment.md).
        log.warning("audit checkpoint signed with public key %s, the previous one with %s: the signing key changed",
                    checkpoint.public_key, last["public_key"])
    return checkpoint.to_json()


def latest(db: Database) -> dict | None:
    """The newest checkpoint as served, None before the first."""
    with db.read() as conn:
        row = store.latest(conn)
    if row is None:
        return None
    return Checkpoint(row["seq"], row["hash"], canonical_time(_aware(row["time"])), row["public_key"],
                      row["signature"]).to_json()


def documents(name: str, text: str) -> list[tuple[str, object]]:
    """The checkpoints a kept file holds, each named for messages: one JSON object (as served),
    a JSON array of them, or JSON lines (one per line, as ``curl … >> FILE`` collects them).
    A line that is not JSON is kept as a CheckpointError, so it is reported, not skipped."""
    try:
        doc = json.loads(text)
    except ValueError:
        pass
    else:
        if isinstance(doc, list):
            return [(f"{name} (item {i})", item) for i, item in enumerate(doc, 1)] or [(name, doc)]
        return [(name, doc)]
    found: list[tuple[str, object]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            found.append((f"{name} (line {number})", json.loads(line)))
        except ValueError as exc:
            found.append((f"{name} (line {number})", CheckpointError(f"not JSON: {exc}")))
    return found or [(name, CheckpointError("the file holds no checkpoint"))]


def check(db: Database, kept: Iterable[tuple[str, object]], trusted: Collection[str]) -> list[dict]:
    """Each kept checkpoint (name, document) checked: its form, its signature under one of the
    ``trusted`` public keys (hex), and that the log still holds the head it signed."""
    results = []
    with db.read() as conn:
        last_id = audit_store.head(conn)[0] or None
        for name, doc in kept:
            result = {"checkpoint": name, "seq": None, "time": None, "ok": False, "problem": None}
            try:
                if isinstance(doc, CheckpointError):
                    raise doc
                checkpoint = parse(doc)
            except CheckpointError as exc:
                result["problem"] = f"not a checkpoint: {exc}"
                results.append(result)
                continue
            result.update(seq=checkpoint.seq, time=checkpoint.time)
            problem = signature_problem(checkpoint, trusted) or log_problem(
                checkpoint, audit_store.hash_of(conn, checkpoint.seq), last_id)
            result.update(ok=problem is None, problem=problem)
            results.append(result)
    return results


def _aware(value) -> datetime:
    when = as_time(value)
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _create(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    # Written whole under a temporary name (mkstemp makes it 0600), then linked into place: a
    # process racing to make the key either wins or reads the winner's, never a half-written file.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return
        log.warning("made a new audit signing key %s: publish its public half (GET /-/audit/public-key)", path)
    finally:
        os.unlink(tmp)


def _load(path: Path) -> Ed25519PrivateKey:
    try:
        data = path.read_bytes()
        mode = path.stat().st_mode
    except OSError as exc:
        raise SigningKeyError(f"cannot read the audit signing key {path}: {exc.strerror}") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise SigningKeyError(f"the audit signing key {path} is not an unencrypted PEM private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"the audit signing key {path} is a {type(key).__name__.lstrip('_')}, not an Ed25519 key")
    if mode & 0o077:
        log.warning("the audit signing key %s can be read by others than its owner: chmod 600 it", path)
    return key
