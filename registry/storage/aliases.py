"""A file's other hashes (``indicator_alias``): what a submission of them writes, what a lookup
of them reads, and every hash of the files an answer or export shows. Which indicator the hashes
land on is the domain's rule (``domain.same_file``); here it meets the stored facts.

Each read takes many hashes at once (``bulk``: one chunked ``IN`` query), and callers ask only
when they hold a file hash, so other kinds never pay for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Connection

from registry.domain import same_file
from registry.domain.kinds import Value
from registry.storage import bulk


def aliased(conn: Connection, hashes: Iterable[str]) -> dict[str, str]:
    """Each of ``hashes`` that is an alias, with the value of the indicator it names."""
    return dict(bulk.tuples_in(
        conn, "SELECT a.alias, i.value FROM indicator_alias a JOIN indicator i ON i.id = a.indicator_id",
        "a.alias", sorted(set(hashes)),
    ))


def resolve(conn: Connection, values: Sequence[Value]) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """``same_file.plan`` over what is stored: (the value of the indicator each file-hash value
    lands on, by value; the ``(alias, indicator value)`` pairs to add). Reads only: a write
    transaction's caller writes the pairs with ``add`` once the indicators exist."""
    hashes = sorted({h for value in values for h in same_file.hashes_of(value)})
    linked = aliased(conn, hashes)
    members: dict[str, list[str]] = {}
    if linked:  # the other hashes of the files some of these are already known by
        for value, alias in bulk.tuples_in(
                conn, "SELECT i.value, a.alias FROM indicator i JOIN indicator_alias a ON a.indicator_id = i.id",
                "i.value", sorted(set(linked.values()))):
            members.setdefault(value, []).append(alias)
    return same_file.plan(values, linked, members)


def add(conn: Connection, pairs: Sequence[tuple[str, str]]) -> None:
    """Store ``(alias, indicator value)`` pairs (the indicators exist by now). An alias already
    stored keeps its indicator: one another writer stored meanwhile is left as it is."""
    sql = "INSERT INTO indicator_alias (alias, indicator_id) SELECT {m}, id FROM indicator WHERE value = {m}"
    bulk.executemany(conn, sql.format(m="?" if bulk.is_sqlite(conn) else "%s") + " ON CONFLICT DO NOTHING", pairs)


def aliases_of(conn: Connection, indicator_ids: Iterable[int]) -> dict[int, list[str]]:
    """The other hashes of these indicators, strongest first (indicators without any left out):
    for the lookup answers, the indicator page, search, and the exports that list a file's
    hashes (JSON lines here; STIX ``file:hashes`` and MISP file objects can read the same)."""
    out: dict[int, list[str]] = {}
    for alias, indicator_id in bulk.tuples_in(
            conn, "SELECT alias, indicator_id FROM indicator_alias", "indicator_id", sorted(set(indicator_ids))):
        out.setdefault(indicator_id, []).append(alias)
    return {indicator_id: same_file.ordered(hashes) for indicator_id, hashes in out.items()}
