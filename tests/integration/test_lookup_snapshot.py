"""A batch lookup's several reads see one database state: a write committed while the batch
runs is seen whole by the next batch and not at all by this one, on both engines
(``Database.read()``: docs/design.md, "Data flow of a lookup")."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from registry.domain.tlp import Viewer
from registry.services.lookup import lookup
from registry.services.orgs import add_org
from registry.services.submit import Provenance, Submission, submit
from registry.storage import bulk
from registry.storage import sightings as sighting_store
from registry.storage import tables as t

NOW = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
PHONE = "+66812345678"
QUERIES = ["081-234-5678", "evil.example", "1.10.16.77", "9.9.9.9"] * 5


def _load(db) -> None:
    add_org(db, "ccib-th", "Royal Thai Police CCIB", "TH")
    add_org(db, "pdrm-my", "Royal Malaysia Police", "MY")
    with db.write() as conn:
        submit(conn, Provenance(org="ccib-th", confidence=80, tlp="amber"),
               [Submission(v) for v in ("1.10.16.0/20", PHONE, "evil.example")], now=NOW)


def _pdrm_asserts_and_sights_the_number(db) -> None:
    """One transaction: PDRM's assertion on the number, and its sighting of it."""
    with db.write() as conn:
        submit(conn, Provenance(org="pdrm-my", confidence=60, tlp="green"), [Submission(PHONE)], now=NOW)
        indicator_id = conn.execute(select(t.indicator.c.id).where(t.indicator.c.value == PHONE)).scalar_one()
        org_id = conn.execute(select(t.organization.c.id).where(t.organization.c.slug == "pdrm-my")).scalar_one()
        sighting_store.upsert(conn, indicator_id=indicator_id, org_id=org_id, case_ref="PDRM-1", count=2, tlp="green",
                              description=None, seen=NOW, now=NOW)


def _batch(db) -> list[dict]:
    with db.read() as conn:
        return lookup(conn, QUERIES, Viewer.operator(), now=NOW, region="TH")


def _sources(answer: dict) -> tuple[set, set]:
    (match,) = answer["matches"]
    return {a["source"] for a in match["assertions"]}, {s["source"] for s in match["sightings"]}


def test_a_write_committed_mid_batch_is_not_half_seen(db, monkeypatch):
    _load(db)
    before = _batch(db)
    assert _sources(before[0]) == ({"ccib-th"}, set())
    reads = []
    real = bulk.driver_rows

    def write_before_the_sightings_read(conn, sql, params=()):
        # The batch has read its matches (the assertions); the sightings are its last read.
        if "sighting s" in sql and not reads:
            reads.append(sql)
            _pdrm_asserts_and_sights_the_number(db)
        return real(conn, sql, params)

    monkeypatch.setattr(bulk, "driver_rows", write_before_the_sightings_read)
    during = _batch(db)
    assert reads, "the batch read no sightings: the write never ran mid-batch"
    assert during == before  # neither PDRM's assertion nor its sighting
    monkeypatch.undo()
    after = _batch(db)
    assert _sources(after[0]) == ({"ccib-th", "pdrm-my"}, {"pdrm-my"})  # the next batch sees it whole
