"""The audit log: who looked up, searched, submitted, exported, changed a key or logged in.

``AuditLog.record()`` only appends a tuple to an in-memory deque, so a lookup pays next to
nothing for it (``bench/audit.py``, docs/performance.md); a daemon thread writes the buffer every ``flush_interval`` seconds (sooner
when ``max_buffer`` events wait) in one write transaction per flush. Turning events into rows
(JSON of the subject, trimming) also happens on that thread, off the request's path. The
buffer, its thread, its retries after a failed flush and what it drops when the database stays
unavailable are ``services.buffered``'s.

``AuditLog(db, synchronous=True)`` writes in ``record()`` itself: for the CLI, which has no
long-lived process. ``close()`` (also run at exit) flushes what is left.

``verify(db)`` checks the chain (``registry audit verify``); ``events(db, ...)`` pages through the
log, and ``events_for(db, args, by=...)`` is that listing as an admin or operator may read it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from json.encoder import encode_basestring_ascii
from time import time as _clock

from sqlalchemy import Connection

from registry.domain import roles
from registry.domain.audit_chain import VerifyResult, canonical_time, verify_chain
from registry.domain.opaque import AUDIT, Sealer
from registry.domain.times import parse_time
from registry.services.buffered import Buffered
from registry.services.errors import Forbidden, Invalid
from registry.storage import audit as store
from registry.storage.db import Database

log = logging.getLogger("registry.audit")

MAX_VALUES = 100_000  # values kept per event: far above the API's batch of 10,000
MAX_TEXT = 2048  # characters kept per value (the longest canonical URL stored)
DEFAULT_PAGE, MAX_PAGE = 100, 1000  # rows per page of the admin listing

_ENCODER = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), default=str)


class AuditLog(Buffered):
    """The audit log's buffer (``services.buffered``): ``record()`` appends a tuple, the flusher
    turns tuples into chained rows."""

    what = "audit"
    log = log

    def record(
        self,
        action: str,
        *,
        org: str | None = None,
        actor: str | None = None,
        subject: Iterable | Mapping | str | None = None,
        result_count: int | None = None,
        client: str | None = None,
        status: int | None = None,
        time: datetime | None = None,
    ) -> None:
        """Buffer one event; never does I/O (unless synchronous) and never raises."""
        if isinstance(subject, (list, dict, set)):
            # The caller may reuse its list; a shallow copy is a memcpy, cheap beside the lookup.
            subject = subject.copy()
        # time.time() is several times cheaper than datetime.now(); the flusher converts it.
        self._add((time or _clock(), action, org, actor, subject, result_count, client, status))

    def _write(self, batch: list) -> None:
        rows = [_row(event) for event in batch]
        with self.db.write() as conn:
            store.append(conn, rows)


def verify(db: Database) -> VerifyResult:
    """Check the whole chain against the row counter, in one consistent snapshot."""
    with _snapshot(db) as conn:
        return verify_chain(store.iter_rows(conn), store.expected_count(conn))


def events(db: Database, args: Mapping[str, str] | None = None, *, scoped: bool = False,
           sealer: Sealer | None = None, **filters) -> dict:
    """One page of the audit log: ``{"events": [...], "next": cursor or None}``.

    ``scoped``: the listing of an admin who reads one org's rows only (``args`` name that org).
    Row ids and hashes count and chain every org's rows, so such a listing shows neither, and
    its ``next`` is the id sealed by ``sealer`` (``domain.opaque``), which ``cursor`` must be.

    ``args`` are the API's query parameters as given (strings: org, action, actor, since,
    until, cursor, limit 1-1000; a bad one raises ``Invalid``); that listing is newest first and
    ``next`` is passed back as ``cursor``. Keyword ``filters`` are ``storage.audit.query``'s own,
    typed (oldest first unless ``newest_first``/``before_id``; ``next`` is the last id returned).
    Times are exact (``canonical_time``) and rows carry both hashes, so an auditor can recheck
    the chain from the listing alone.
    """
    if scoped and sealer is None:
        raise ValueError("a scoped listing needs the sealer for its cursors")
    filters = {**_parse_args(args, sealer, scoped), **filters} if args is not None else dict(filters)
    limit = filters.pop("limit", DEFAULT_PAGE)
    with db.read() as conn:
        rows = store.query(conn, **filters, limit=limit + 1)  # one extra: is there a next page?
    page = rows[:limit]
    last = page[-1]["id"] if len(rows) > limit and page else None
    if not scoped:
        return {"events": [dict(row, time=canonical_time(row["time"])) for row in page],
                "next": str(last) if last is not None else None}
    return {
        "events": [{k: v for k, v in row.items() if k not in _CHAINED} | {"time": canonical_time(row["time"])}
                   for row in page],
        "next": sealer.seal(last, AUDIT) if last is not None else None,
    }


def events_for(db: Database, args: Mapping[str, str], *, by: roles.Access, sealer: Sealer) -> tuple[dict, dict]:
    """``events`` as ``by`` may read them: an operator every org's rows, an admin its own org's
    only, whatever org it asks for (rows name the values others looked up); such a scoped listing
    shows no row ids or hashes and seals its cursors (see ``events``). Returns the page and the
    parameters applied, for the caller's own audit row and display."""
    if not roles.allows(by.role, roles.ADMIN):
        raise Forbidden(f"the audit log needs the admin role; you have {by.role}",
                        details={"needed_role": roles.ADMIN, "role": by.role})
    applied = dict(args)
    own = roles.audit_scope(by)
    if own is not None:
        applied["org"] = own
    return events(db, applied, scoped=own is not None, sealer=sealer), applied


_CHAINED = frozenset({"id", "prev_hash", "hash"})  # what counts or links every org's rows


def _parse_args(args: Mapping[str, str], sealer: Sealer | None = None, scoped: bool = False) -> dict:
    unknown = sorted(set(args) - {"org", "action", "actor", "since", "until", "cursor", "limit"})
    if unknown:
        raise Invalid(f"unknown parameter {unknown[0]!r}: use org, action, actor, since, until, cursor, limit", field=unknown[0])
    filters: dict = {name: args[name] for name in ("org", "action", "actor") if args.get(name)}
    for name in ("since", "until"):
        if args.get(name):
            try:
                filters[name] = parse_time(args[name])
            except ValueError as exc:
                raise Invalid(str(exc), field=name) from None
    filters["newest_first"] = True
    if args.get("cursor"):
        before = sealer.open(args["cursor"], AUDIT) if sealer is not None else None
        if before is None and scoped:
            raise Invalid("cursor must be the next of an earlier page, as given", field="cursor")
        filters["before_id"] = before if before is not None else _whole(args["cursor"], "cursor", 0, None)
    if args.get("limit"):
        filters["limit"] = _whole(args["limit"], "limit", 1, MAX_PAGE)
    return filters


def _whole(text: str, field: str, low: int, high: int | None) -> int:
    try:
        number = int(text)
    except ValueError:
        number = None
    if number is None or number < low or (high is not None and number > high):
        bounds = f"from {low} to {high}" if high is not None else f"{low} or more"
        raise Invalid(f"{field} must be a whole number {bounds} (got {text!r})", field=field)
    return number


@contextmanager
def _snapshot(db: Database) -> Iterator[Connection]:
    if db.is_sqlite:  # a SQLite read transaction is already one snapshot
        with db.read() as conn:
            yield conn
        return
    # PostgreSQL's default READ COMMITTED takes a new snapshot per statement: rows appended
    # between reading the counter and the last page would look like forged rows.
    with db.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            yield conn


def _row(event: tuple) -> dict:
    when, action, org, actor, subject, result_count, client, status = event
    return {
        "time": datetime.fromtimestamp(when, UTC) if isinstance(when, float) else when,
        "action": action,
        "org": org,
        "actor": actor,
        "subject": subject_json(subject),
        "result_count": result_count,
        "client": client,
        "status": status,
    }


def subject_json(subject) -> str | None:
    """The subject as compact JSON: every value of a batch is kept (up to ``MAX_VALUES``, then
    ``{"values": [...], "omitted": N}``), each value clipped to ``MAX_TEXT`` characters."""
    if subject is None:
        return None
    if type(subject) is list and _short_strings(subject):
        # The usual case (the values looked up), the same text json.dumps writes, written faster by hand.
        return _strings_json(subject)
    try:
        if type(subject) is dict and type(subject.get("values")) is list:
            return _with_values(subject)
        return _ENCODER.encode(_subject(subject))
    except Exception:  # an odd object must not cost the whole batch its audit rows
        log.exception("audit subject could not be serialised; its repr is stored instead")
        return json.dumps(_plain(_safe_repr(subject), 0))


def _short_strings(values: list) -> bool:
    return len(values) <= MAX_VALUES and all(type(v) is str and len(v) <= MAX_TEXT for v in values)


def _strings_json(values: list) -> str:
    return "[" + ",".join(map(encode_basestring_ascii, values)) + "]"


def _with_values(subject: dict) -> str:
    """A subject holding the values looked up beside other fields (a lookup's purpose and case
    reference: ``services.purpose``): the values kept as a list's are, after the other fields."""
    rest = _plain({k: v for k, v in subject.items() if k != "values"}, 0)
    values = subject["values"]
    if _short_strings(values):
        head = _ENCODER.encode(rest)[:-1]
        return head + ("," if rest else "") + '"values":' + _strings_json(values) + "}"
    kept = _subject(values)  # a list, or {"values": [...], "omitted": N} past MAX_VALUES
    return _ENCODER.encode({**rest, **(kept if isinstance(kept, dict) else {"values": kept})})


def _subject(subject):
    if isinstance(subject, (str, bytes, Mapping)):
        return _plain(subject, 0)
    values = subject if isinstance(subject, list) else list(subject)
    if len(values) > MAX_VALUES:
        return {"values": [_plain(v, 1) for v in values[:MAX_VALUES]], "omitted": len(values) - MAX_VALUES}
    return [_plain(v, 1) for v in values]


def _plain(value, depth: int):
    """A JSON-ready copy: strings clipped, containers kept a few levels deep, the rest str()."""
    if isinstance(value, str):
        return value if len(value) <= MAX_TEXT else value[:MAX_TEXT] + "\u2026"
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, bytes):
        return _plain(value.decode("utf-8", "replace"), depth)
    if depth < 3:
        if isinstance(value, Mapping):
            return {str(k): _plain(v, depth + 1) for k, v in value.items()}
        if isinstance(value, (list, tuple, set, frozenset)):
            return [_plain(v, depth + 1) for v in list(value)[:MAX_VALUES]]
    return _plain(str(value), depth)


def _safe_repr(value) -> str:
    try:
        return repr(value)
    except Exception:
        return f"<unprintable {type(value).__name__}>"
