"""``search_within`` (``registry search --within``) counts and orders only what its viewer sees,
on SQLite and PostgreSQL: its limit, ``truncated`` and order never tell of hidden rows."""

from __future__ import annotations

from registry.domain.tlp import Viewer
from registry.services.lookup import search_within
from registry.services.orgs import add_org
from registry.services.submit import Provenance, Submission, submit


def test_limit_truncated_and_order_count_only_visible_rows(db):
    add_org(db, "ccib-th", "Royal Thai Police CCIB", "TH")
    add_org(db, "pdrm-my", "Royal Malaysia Police", "MY")
    with db.write() as conn:  # A's red rows first, in the same range: lower ids, the same start
        submit(conn, Provenance(org="ccib-th"), [Submission(v, tlp="red") for v in
                                                 ("45.90.0.0/24", "45.90.0.0/25", "45.90.0.1", "45.90.0.2")])
    with db.write() as conn:
        submit(conn, Provenance(org="pdrm-my"), [Submission(v, tlp="green") for v in ("45.90.0.0/26", "45.90.0.0/24")])
    reader = Viewer("pdrm-my", "amber+strict")
    with db.read() as conn:
        one = search_within(conn, "45.90.0.0/24", reader, limit=2)
        everything = search_within(conn, "45.90.0.0/24", Viewer.operator())
    assert [r["value"] for r in one["results"]] == ["45.90.0.0/26", "45.90.0.0/24"]  # by range, not row id
    assert (one["count"], one["truncated"]) == (2, False)
    assert all([a["source"] for a in r["assertions"]] == ["pdrm-my"] for r in one["results"])
    assert everything["count"] == 5
