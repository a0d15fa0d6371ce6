"""The audit log's hash chain (pure: no SQL).

Each row's ``hash`` is SHA-256 over the previous row's hash and a canonical JSON of the row's
own fields, so editing a row breaks its own hash and deleting one breaks the link of the row
after it. A chain cannot see its own tail cut off, so the caller also passes how many rows were
ever written (the ``audit`` counter, bumped in the same transaction as each append).

The row id is deliberately not hashed: ids are assigned by the database on insert, after the
hash is computed, and PostgreSQL may skip ids after a rolled-back append. Order is carried by
the links instead.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from json.encoder import encode_basestring_ascii

GENESIS = "0" * 64

# The columns a row's hash covers (everything but id, prev_hash and hash itself).
HASHED_FIELDS = ("time", "org", "actor", "action", "subject", "result_count", "client", "status")
_SORTED_KEYS = [(name, f'"{name}":') for name in sorted(HASHED_FIELDS)]
_json_string = encode_basestring_ascii  # json's own (C) string encoder, as ensure_ascii uses


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int  # rows read before stopping (all of them when ok)
    problem: str | None = None
    row_id: int | None = None  # the row where the problem shows, when there is one


def canonical_time(value: datetime) -> str:
    """``2026-11-22T06:00:00.000000Z``: fixed width, UTC; a naive time is taken as UTC
    (that is what SQLite hands back without the column type's help)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    elif value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(timespec="microseconds")[:-6] + "Z"  # drop "+00:00"


def canonical_json(fields: Mapping) -> str:
    """The hashed fields of ``fields`` as
    ``json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True)`` would write
    them (times as ``canonical_time`` strings, a missing field as null), built by hand: it is
    several times faster, and the flusher and ``verify`` run it once per row."""
    parts = [key + _json_value(fields.get(name)) for name, key in _SORTED_KEYS]
    return "{" + ",".join(parts) + "}"


def event_hash(prev_hash: str, fields: Mapping) -> str:
    """SHA-256 hex of ``prev_hash`` + ``canonical_json(fields)`` (keys other than the hashed
    fields, such as id or hash, are ignored)."""
    return hashlib.sha256((prev_hash + canonical_json(fields)).encode("ascii")).hexdigest()


def _json_value(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return _json_string(value)
    if type(value) is int:
        return int.__repr__(value)  # what json.dumps writes for an int
    if isinstance(value, datetime):
        return '"' + canonical_time(value) + '"'
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def verify_chain(rows: Iterable[Mapping], expected_count: int) -> VerifyResult:
    """Check ``rows`` (ordered by id, each with id, prev_hash, hash and the hashed fields)
    against each other and against ``expected_count``; stops at the first problem.

    Streams: only the previous row is kept.
    """
    checked = 0
    prev_id: int | None = None
    prev_hash = GENESIS
    for row in rows:
        row_id = row["id"]
        if row["prev_hash"] != prev_hash:
            return VerifyResult(False, checked, _broken_link(row_id, prev_id), row_id)
        if event_hash(row["prev_hash"], row) != row["hash"]:
            return VerifyResult(False, checked, f"row {row_id} was altered: its hash does not match its contents", row_id)
        checked += 1
        prev_id, prev_hash = row_id, row["hash"]
    if checked < expected_count:
        missing = expected_count - checked
        problem = f"the newest {missing} rows are missing: expected {expected_count} rows, found {checked}"
        return VerifyResult(False, checked, problem, prev_id)
    if checked > expected_count:
        # A consistent chain longer than the counter: rows written around the audit log.
        problem = f"{checked - expected_count} rows were added outside the audit log: expected {expected_count} rows, found {checked}"
        return VerifyResult(False, checked, problem, prev_id)
    return VerifyResult(True, checked)


def _broken_link(row_id: int, prev_id: int | None) -> str:
    if prev_id is None:
        return f"row {row_id} does not start from the genesis hash: a row before it is missing or it was altered"
    if row_id != prev_id + 1:
        return f"row {row_id} does not follow row {prev_id}: a row is missing between them"
    # Consecutive ids, so nothing was deleted here: row prev_id was rewritten with a fresh
    # (self-consistent) hash, or this row's prev_hash was changed.
    return f"row {row_id} does not follow row {prev_id}: row {prev_id} was altered (rewritten with a new hash) or row {row_id}'s link was changed"
