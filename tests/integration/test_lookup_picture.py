"""Lookups know the picture (docs/design.md, "Operations and relationships"), on both engines:
each answer lists the visible operations of its value and of what it matched and counts their
visible relationships, under the one TLP rule, alike for one value and a batch; with no
operation member or relationship anywhere the answers say so and nothing more is read, and with
them a batch reads each once; ``operations.show`` tells what the caller's own lookup tells."""

from __future__ import annotations

from registry.domain.times import utcnow
from registry.domain.tlp import AMBER, GREEN, RED, Viewer
from registry.services import operations, relationships
from registry.services.keys import Principal
from registry.services.lookup import lookup
from registry.services.submit import Provenance, Submission, submit
from tests.helpers import add_member_orgs, end_assertions

CCIB = Principal(org="ccib-th", role="contributor", max_tlp=RED, actor="reg_ccib")
PDRM = Principal(org="pdrm-my", role="contributor", max_tlp=RED, actor="reg_pdrm")
PHONE, ACCOUNT, DOMAIN = "+855971234567", "acct:TH:KASI:1234567890", "kbank-verify.example"


def _report(db, org: str, value: str, tlp: str) -> None:
    with db.write() as conn:
        submit(conn, Provenance(org=org, region="TH"), [Submission(value=value, tlp=tlp)])


def _look(db, values, viewer) -> list[dict]:
    with db.read() as conn:
        return lookup(conn, values, viewer, region="TH")


def test_no_operations_anywhere(db):
    add_member_orgs(db)
    _report(db, "ccib-th", DOMAIN, GREEN)
    answers = _look(db, [PHONE, DOMAIN, f"https://{DOMAIN}/x", "191", "not a value"], Viewer("pdrm-my", AMBER))
    assert [(a["operations"], a["related"]) for a in answers[:4]] == [([], 0)] * 4  # "191": allowlisted
    assert "operations" not in answers[4] and answers[4]["error"]


def test_answers_list_visible_operations_and_count_visible_relationships(db):
    add_member_orgs(db)
    amber = operations.create(db, CCIB, name="Compound K7", tlp=AMBER)["id"]
    red = operations.create(db, CCIB, name="ccib only", tlp=RED)["id"]
    green = operations.create(db, PDRM, name="pdrm green", tlp=GREEN)["id"]
    operations.add_values(db, amber, [PHONE, DOMAIN, ACCOUNT], CCIB)
    operations.add_values(db, red, [PHONE], CCIB)
    operations.add_values(db, green, [DOMAIN], PDRM)
    relationships.link(db, CCIB, PHONE, ACCOUNT, "pays-to", tlp=AMBER)
    relationships.link(db, CCIB, PHONE, DOMAIN, "same-operator", tlp=RED)
    relationships.link(db, PDRM, DOMAIN, "203.0.113.7", "resolves-to", tlp=GREEN)
    _report(db, "ccib-th", DOMAIN, GREEN)

    def picture(viewer, values):
        return [([o["id"] for o in a["operations"]], a["related"]) for a in _look(db, values, viewer)]

    values = [PHONE, DOMAIN, f"https://{DOMAIN}/login", ACCOUNT, "1.2.3.4", "203.0.113.7"]
    # The phone is a member with no report: not listed, yet its operations show.
    assert picture(Viewer("ccib-th", RED), values) == [
        ([amber, red], 2), ([amber, green], 2), ([amber, green], 2), ([amber], 1), ([], 0), ([], 1)]
    assert picture(Viewer("pdrm-my", AMBER), values) == [
        ([amber], 1), ([amber, green], 1), ([amber, green], 1), ([amber], 1), ([], 0), ([], 1)]
    assert picture(Viewer("bank-x", GREEN), values) == [
        ([], 0), ([green], 1), ([green], 1), ([], 0), ([], 0), ([], 1)]
    # A member whose reports all ended is matched by nothing, yet its own answer lists its operations.
    end_assertions(db, {DOMAIN: "delisted"}, utcnow())
    assert picture(Viewer("pdrm-my", AMBER), [DOMAIN, f"https://{DOMAIN}/login"]) == [([amber, green], 1), ([], 0)]
    # One value alone answers as in a batch; the operations carry what the API documents.
    one = _look(db, [PHONE], Viewer("pdrm-my", AMBER))[0]
    assert one["operations"] == [{"id": amber, "name": "Compound K7", "org": "ccib-th", "tlp": AMBER}]
    assert one["listed"] is False and one["score"] == 0


def test_show_tells_what_the_callers_lookup_tells(db):
    add_member_orgs(db)
    uid = operations.create(db, CCIB, name="Compound K7", tlp=AMBER)["id"]
    operations.add_values(db, uid, [PHONE, DOMAIN], CCIB)
    _report(db, "pdrm-my", PHONE, RED)
    _report(db, "ccib-th", DOMAIN, AMBER)
    relationships.link(db, PDRM, PHONE, DOMAIN, "contacts", tlp=RED)
    pdrm_reader = Principal(org="pdrm-my", role="reader", max_tlp=RED, actor="reg_pdrm2")
    ccib_reader = Principal(org="ccib-th", role="reader", max_tlp=RED, actor="reg_ccib2")
    for by in (pdrm_reader, ccib_reader):
        shown = operations.show(db, uid, by)
        answers = {a["value"]: a for a in _look(db, [PHONE, DOMAIN], by.viewer)}
        for member in shown["members"]:
            answer = answers[member["value"]]
            assert (member["listed"], member["score"], member["related"]) == (
                answer["listed"], answer["score"], answer["related"])
            assert member["reported_by"] == sorted({a["source"] for m in answer["matches"] for a in m["assertions"]})
    as_ccib = operations.show(db, uid, ccib_reader)
    assert [(m["value"], m["listed"], m["reported_by"]) for m in as_ccib["members"]] == [
        (PHONE, False, []), (DOMAIN, True, ["ccib-th"])]
    assert as_ccib["relationships"] == [] and all(a["org"] == "ccib-th" for a in as_ccib["activity"])
    as_pdrm = operations.show(db, uid, pdrm_reader)
    assert [r["type"] for r in as_pdrm["relationships"]] == ["contacts"]
    assert {(a["type"], a["org"]) for a in as_pdrm["activity"]} >= {("reported", "pdrm-my"), ("linked", "pdrm-my"),
                                                                    ("reported", "ccib-th"), ("added", "ccib-th")}


def test_lookup_reads_the_picture_once_per_batch_and_not_at_all_without_one(sqlite_db):
    """The cost rule (docs/performance.md): statements on operation_member and relationship, as
    SQLite runs them, beyond the one version query every lookup makes."""
    db = add_member_orgs(sqlite_db)
    _report(db, "ccib-th", DOMAIN, GREEN)
    values = [DOMAIN, PHONE, f"https://{DOMAIN}/a", *(f"10.1.{i // 200}.{i % 200}" for i in range(600))]

    def statements() -> list[str]:
        seen: list[str] = []
        with db.read() as conn:
            raw = conn.connection.dbapi_connection
            raw.set_trace_callback(seen.append)
            try:
                lookup(conn, values, Viewer("pdrm-my", AMBER), region="TH")
            finally:
                raw.set_trace_callback(None)
        return [s for s in seen if "operation_member" in s or "relationship" in s]

    def counted(picture: list[str]) -> tuple[int, int, int]:
        versions = [s for s in picture if "LIMIT 1" in s and "allowlist_entry" in s]
        members = [s for s in picture if s not in versions and "operation_member" in s]
        links = [s for s in picture if s not in versions and "relationship" in s]
        return len(versions), len(members), len(links)

    assert counted(statements()) == (1, 0, 0)
    uid = operations.create(db, CCIB, name="Compound K7", tlp=AMBER)["id"]
    operations.add_values(db, uid, [DOMAIN], CCIB)
    assert counted(statements()) == (1, 1, 0)
    relationships.link(db, CCIB, PHONE, DOMAIN, "contacts", tlp=AMBER)
    assert counted(statements()) == (1, 1, 1)
