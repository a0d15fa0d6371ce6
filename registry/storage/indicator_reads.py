"""Reads of indicators with their assertions and sightings: the lookup's matches, search pages,
ranges within a network, and the rows the history and search answers show. Writes are in
``indicators``.

Like the writes, every read takes many values at once (``bulk``: one chunked ``IN`` query each).
"""

from __future__ import annotations

import operator
from collections.abc import Sequence

from sqlalchemy import Connection, exists, func, or_, select

from registry.domain.rows import LookupMatch, made
from registry.storage import bulk
from registry.storage import tables as t


def prefix_lengths(conn: Connection) -> list[tuple[str, int]]:
    return conn.exec_driver_sql("SELECT kind, length FROM prefix_length").fetchall()


# Which prefixes (``acct:TH:TRUEMONEY:``, ``whatsapp:``) some indicator's value continues with
# a phone number: one range probe of the value index each (an E.164 number has at most 15
# digits, so every such value lies between PREFIX+ and PREFIX+9999999999999999, in any
# collation), the prefix itself checked exactly.
_NUMBER_KEYED = {
    "sqlite": "SELECT p.value FROM json_each(?) AS p WHERE EXISTS (SELECT 1 FROM indicator "
              "WHERE value > p.value || '+' AND value <= p.value || '+9999999999999999' "
              "AND substr(value, 1, length(p.value) + 1) = p.value || '+')",
    "postgresql": "SELECT p FROM unnest(%s::text[]) AS p WHERE EXISTS (SELECT 1 FROM indicator "
                  "WHERE value > p || '+' AND value <= p || '+9999999999999999' "
                  "AND left(value, length(p) + 1) = p || '+')",
}


def number_keyed(conn: Connection, prefixes: Sequence[str]) -> set[str]:
    """Those of ``prefixes`` under which some listed value names a phone number (``PREFIX+…``)."""
    if not prefixes:
        return set()
    sql = _NUMBER_KEYED["sqlite" if bulk.is_sqlite(conn) else "postgresql"]
    rows, _ = bulk.driver_rows(conn, sql, (bulk.values_param(conn, prefixes),))
    return {row[0] for row in rows}


def find_by_values(conn: Connection, values: Sequence[str]) -> list:
    """Indicator rows whose canonical value is one of ``values``."""
    return bulk.select_in(
        conn, "SELECT id, kind, value, display, prefix_len, allowlisted, detail FROM indicator", "value", values
    )


def values_of(conn: Connection, indicator_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """Indicator id → (kind, canonical value)."""
    rows = bulk.tuples_in(conn, "SELECT id, kind, value FROM indicator", "id", sorted(set(indicator_ids)))
    return {row[0]: (row[1], row[2]) for row in rows}


def assertions_for(conn: Connection, indicator_ids: Sequence[int]) -> list:
    """Assertions of these indicators with their source org's slug, by indicator then id."""
    rows = bulk.select_in(
        conn,
        "SELECT a.id, a.indicator_id, a.org_id, o.slug AS source, a.feed, a.confidence, a.tlp, a.labels, "
        "a.description, a.valid_until, a.first_seen, a.last_seen, a.times_reported, a.stix_id, a.external_ref, a.seq, "
        "a.review_at, a.end_reason, a.reliability, a.credibility "
        "FROM assertion a JOIN organization o ON o.id = a.org_id",
        "a.indicator_id", indicator_ids, times=("valid_until", "first_seen", "last_seen", "review_at"),
    )
    rows.sort(key=lambda r: (r.indicator_id, r.id))
    return rows


def assertions_by_id(conn: Connection, assertion_ids: Sequence[int]) -> list:
    """Assertions by row id with their source org's id and slug and their indicator's kind and
    value (the events announcing their end: ``services.announce``), by id."""
    rows = bulk.select_in(
        conn,
        "SELECT a.id, a.indicator_id, a.org_id, o.slug AS source, i.kind, i.value, a.feed, a.confidence, a.tlp, "
        "a.labels, a.description, a.valid_until, a.first_seen, a.last_seen, a.times_reported, a.review_at, "
        "a.end_reason, a.reliability, a.credibility "
        "FROM assertion a JOIN organization o ON o.id = a.org_id JOIN indicator i ON i.id = a.indicator_id",
        "a.id", assertion_ids, times=("valid_until", "first_seen", "last_seen", "review_at"),
    )
    rows.sort(key=operator.attrgetter("id"))
    return rows


def lookup_matches(conn: Connection, values: Sequence[str]) -> list[LookupMatch]:
    """The lookup's read: the indicators whose value is one of ``values``, each with each of its
    assertions (``LookupMatch``: the assertion's fields None for an indicator without any), by
    indicator then assertion id. Driver tuples made named tuples in one step, times as the
    driver gives them (see ``domain.rows.as_time``): a batch reads a hundred thousand, and
    SQLAlchemy's rows or per-row time parsing cost as much as the query. (One statement where
    there were two, one over the values and one over the ids found: measured, the same time;
    one read fewer to keep.)"""
    rows = bulk.tuples_in(
        conn,
        "SELECT i.id, i.kind, i.value, i.display, i.prefix_len, a.id, o.slug, a.feed, a.confidence, a.tlp, "
        "a.labels, a.description, a.valid_until, a.first_seen, a.last_seen, a.times_reported, a.review_at, "
        "a.end_reason, a.reliability, a.credibility "
        "FROM indicator i LEFT JOIN assertion a ON a.indicator_id = i.id LEFT JOIN organization o ON o.id = a.org_id",
        "i.value", values,
    )
    matches = list(made(LookupMatch, rows))
    matches.sort(key=_by_indicator_then_id)  # an indicator without assertions has one row: no None compared
    return matches


_by_indicator_then_id = operator.attrgetter("id", "assertion_id")


def sightings_for(conn: Connection, indicator_ids: Sequence[int]) -> list:
    """Sightings of these indicators with their org's slug, by indicator then id."""
    rows = bulk.select_in(
        conn,
        "SELECT s.id, s.indicator_id, o.slug AS source, s.case_ref, s.count, s.tlp, s.description, "
        "s.first_seen, s.last_seen, s.stix_id FROM sighting s JOIN organization o ON o.id = s.org_id",
        "s.indicator_id", indicator_ids, times=("first_seen", "last_seen"),
    )
    rows.sort(key=lambda r: (r.indicator_id, r.id))
    return rows


def within(conn: Connection, start: bytes, end: bytes, *, limit: int, visible_clause) -> list:
    """Indicators whose IP range lies inside ``[start, end]`` (an index range scan) and that have
    an assertion matching ``visible_clause``, by range: the limit and the order count only rows
    the caller sees (a tie broken by row id would tell which was reported first)."""
    col, a, o = t.indicator.c, t.assertion.c, t.organization.c
    seen = select(a.id).join_from(t.assertion, t.organization, a.org_id == o.id).where(
        a.indicator_id == col.id, visible_clause)
    return list(
        conn.execute(
            select(col.id, col.kind, col.value, col.display, col.prefix_len, col.allowlisted, col.detail)
            .where(col.range_start >= start, col.range_start <= end, col.range_end <= end, seen.exists())
            .order_by(col.range_start, col.range_end)
            .limit(limit)
        )
    )


def _like(text: str) -> str:
    """``text`` as a LIKE pattern's literal part (with ``escape="\\"``)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_page(conn: Connection, *, visible_clause, kind: str | None = None, label: str | None = None,
                source: str | None = None, since=None, since_seq: int | None = None,
                within: tuple[bytes, bytes] | None = None, after_value: str | None = None, limit: int = 100,
                contains: Sequence[str] = (), prefixes: Sequence[str] = ()) -> list:
    """Indicators with at least one assertion matching the filters (and visible), by value.

    ``contains`` (lowercase texts) and ``prefixes``: an indicator whose value or display holds one
    of the texts, ignoring case, or whose value starts with one of the prefixes (a scan: the text
    search of ``services.search``).

    By value, not id: ids are handed out to every org's indicators in turn, so their order would
    tell a caller that a value it sees was first reported (by someone it cannot see) before
    another; the order of values tells nothing. The unique value index serves it."""
    a, o, i = t.assertion.c, t.organization.c, t.indicator.c
    conditions = [a.indicator_id == i.id, visible_clause]
    if label:
        conditions.append(a.labels.like(f"%,{_like(label)},%", escape="\\"))  # a label, not a pattern
    if source:
        conditions.append(o.slug == source)
    if since is not None:
        conditions.append(a.modified >= since)
    if since_seq is not None:
        conditions.append(a.seq > since_seq)
    has_assertion = exists(select(a.id).join_from(t.assertion, t.organization, a.org_id == o.id).where(*conditions))
    query = (
        select(i.id, i.kind, i.value, i.display, i.prefix_len, i.allowlisted, i.detail)
        .where(has_assertion)
        .order_by(i.value)
        .limit(limit)
    )
    if after_value is not None:
        query = query.where(i.value > after_value)
    if kind:
        query = query.where(i.kind == kind)
    if within:
        query = query.where(i.range_start >= within[0], i.range_start <= within[1], i.range_end <= within[1])
    if contains or prefixes:
        value, display = func.lower(i.value), func.lower(i.display)
        query = query.where(or_(
            *(value.like(f"%{_like(text)}%", escape="\\") for text in contains),
            *(display.like(f"%{_like(text)}%", escape="\\") for text in contains),
            *(i.value.like(f"{_like(prefix)}%", escape="\\") for prefix in prefixes),
        ))
    return list(conn.execute(query))
