"""Several hashes of one file are one indicator found by any of them (indicator_alias), on SQLite
and PostgreSQL: submit, import batches, sightings, lookup, the indicator page, search, JSON lines."""

from __future__ import annotations

import orjson
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from registry.domain.tlp import Viewer
from registry.services import exports
from registry.services.history import indicator_history
from registry.services.lookup import lookup
from registry.services.search import Filters, search_indicators
from registry.services.sightings import add_sighting
from registry.services.submit import Provenance, Submission, Submitter
from registry.storage import aliases
from registry.storage import tables as t
from tests.helpers import add_member_orgs
from tests.integration.test_registry_contract import NOW, OPERATOR, count, look, put
from tests.unit.test_same_file import APK, OTHER

SHA256, SHA1, MD5 = APK
FILE = f"{MD5} {SHA1} {SHA256}"  # as a MISP file object or a STIX file:hashes gives them


@pytest.fixture
def orgs(db):
    return add_member_orgs(db)


def aliases_by_value(db) -> dict[str, str]:
    with db.read() as conn:
        return dict(conn.execute(
            select(t.indicator_alias.c.alias, t.indicator.c.value)
            .join_from(t.indicator_alias, t.indicator, t.indicator_alias.c.indicator_id == t.indicator.c.id)).all())


def matched(answer: dict) -> list[tuple[str, str]]:
    return [(m["match"], m["value"]) for m in answer["matches"]]


def test_several_hashes_of_one_file_are_one_indicator_found_by_each(orgs):
    report = put(orgs, "ccib-th", [FILE], confidence=80, labels=("fake-banking-app",))
    assert (report.read, report.new) == (1, 1)
    assert count(orgs, t.indicator) == 1 and aliases_by_value(orgs) == {SHA1: SHA256, MD5: SHA256}
    with orgs.read() as conn:  # the other hashes live in indicator_alias, not in the row
        assert conn.execute(select(t.indicator.c.value, t.indicator.c.detail)).one() == (SHA256, None)
    by_sha256, by_sha1, by_md5, by_all = look(orgs, SHA256, SHA1.upper(), f"md5={MD5[4:]}", FILE)
    assert matched(by_sha256) == [("exact", SHA256)]
    assert matched(by_sha1) == matched(by_md5) == [("same-file", SHA256)]
    assert matched(by_all) == [("exact", SHA256)]
    for answer in (by_sha256, by_sha1, by_md5, by_all):
        [match] = answer["matches"]
        assert match["hashes"] == [SHA1, MD5]
        assert [a["source"] for a in match["assertions"]] == ["ccib-th"]
        assert answer["score"] == by_sha256["score"] > 0  # the same file weighs as the value itself
    assert by_md5["value"] == MD5 and by_md5["kind"] == "file-hash"


def test_a_hash_of_a_known_file_reported_alone_adds_an_assertion_to_the_file(orgs):
    put(orgs, "ccib-th", [FILE], confidence=80)
    with orgs.write() as conn:
        submitter = Submitter(conn, Provenance(org="pdrm-my", confidence=60), now=NOW, keep_results=True)
        submitter.add(Submission(MD5))
        report = submitter.finish()
    assert report.new == 1 and report.results[0]["canonical"] == SHA256  # where it landed
    assert count(orgs, t.indicator) == 1 and count(orgs, t.assertion) == 2
    [answer] = look(orgs, SHA1)
    [match] = answer["matches"]
    assert sorted(a["source"] for a in match["assertions"]) == ["ccib-th", "pdrm-my"]
    with orgs.read() as conn:  # the given text stays with the assertion
        raws = conn.execute(select(t.assertion.c.raw).order_by(t.assertion.c.id)).scalars().all()
    assert raws == [FILE, MD5]


def test_a_file_and_its_hashes_in_one_batch_land_on_one_indicator_in_any_order(orgs):
    report = put(orgs, "ccib-th", [MD5, f"{SHA1} {MD5}", FILE, f"{SHA256} {MD5}"])
    assert (report.read, report.new, report.unchanged) == (4, 1, 3)
    assert count(orgs, t.indicator) == 1 and count(orgs, t.assertion) == 1
    assert aliases_by_value(orgs) == {SHA1: SHA256, MD5: SHA256}


def test_a_repeat_with_more_of_the_file_hashes_keeps_them_all(orgs):
    put(orgs, "ccib-th", [SHA256, f"{SHA256} {MD5}", f"{SHA1} {SHA256}"])
    assert count(orgs, t.indicator) == 1 and aliases_by_value(orgs) == {SHA1: SHA256, MD5: SHA256}


def test_more_hashes_of_a_listed_file_are_news_and_the_same_ones_are_not(orgs):
    put(orgs, "ccib-th", [f"{SHA256} {MD5}"])
    again = put(orgs, "ccib-th", [f"{MD5} {SHA256}"])
    more = put(orgs, "ccib-th", [f"{SHA1} {SHA256}"])  # an export or TAXII since the last change carries it
    assert (again.unchanged, again.updated, more.updated) == (1, 0, 1)
    assert aliases_by_value(orgs) == {SHA1: SHA256, MD5: SHA256}


def test_batches_written_in_the_background_see_the_aliases_of_the_batch_before(orgs):
    with orgs.write() as conn:
        submitter = Submitter(conn, Provenance(org="ccib-th"), now=NOW, batch_size=1, background_writes=True)
        for value in (f"{SHA256} {MD5}", MD5, SHA1, f"{SHA1} {MD5}", "1.10.16.5"):
            submitter.add(Submission(value))
        report = submitter.finish()
    assert (report.new, report.updated, report.unchanged) == (3, 1, 1)  # the sha1 linked: news
    # the lone sha1 came before anything linked it: an indicator of its own, then linked too
    assert count(orgs, t.indicator) == 3 and aliases_by_value(orgs) == {SHA1: SHA256, MD5: SHA256}
    [by_sha1] = look(orgs, SHA1)
    assert matched(by_sha1) == [("exact", SHA1), ("same-file", SHA256)]


def test_hashes_listed_apart_and_later_linked_stay_apart_and_are_found_together(orgs):
    put(orgs, "ccib-th", [MD5], confidence=40)
    put(orgs, "pdrm-my", [f"{SHA256} {MD5}"], confidence=70)
    assert count(orgs, t.indicator) == 2 and aliases_by_value(orgs) == {MD5: SHA256}
    by_md5, by_sha256 = look(orgs, MD5, SHA256)
    assert matched(by_md5) == [("exact", MD5), ("same-file", SHA256)]
    assert matched(by_sha256) == [("exact", SHA256)] and by_sha256["matches"][0]["hashes"] == [MD5]
    put(orgs, "ccib-th", [MD5])  # the md5 alone again: now a known file's, it lands on the file
    with orgs.read() as conn:
        held = conn.execute(select(t.indicator.c.value, func.count()).join_from(
            t.assertion, t.indicator, t.assertion.c.indicator_id == t.indicator.c.id).group_by(t.indicator.c.value))
        assert dict(held.all()) == {MD5: 1, SHA256: 2}


def test_a_hash_is_never_an_alias_of_two_indicators(orgs):
    put(orgs, "ccib-th", [f"{SHA256} {MD5}"])
    put(orgs, "pdrm-my", [f"{OTHER[0]} {MD5}"])  # another file claiming the same md5: a collision
    assert count(orgs, t.indicator) == 2 and aliases_by_value(orgs) == {MD5: SHA256}
    [by_md5] = look(orgs, MD5)
    assert matched(by_md5) == [("same-file", SHA256)]
    with orgs.write() as conn:
        aliases.add(conn, [(MD5, OTHER[0])])  # an alias already stored keeps its indicator
    assert aliases_by_value(orgs) == {MD5: SHA256}
    with pytest.raises(IntegrityError), orgs.write() as conn:  # and the table holds it so
        other_id = conn.execute(select(t.indicator.c.id).where(t.indicator.c.value == OTHER[0])).scalar_one()
        conn.execute(t.indicator_alias.insert().values(alias=MD5, indicator_id=other_id))


def test_a_file_seen_only_through_hidden_reports_looks_unknown_by_any_hash(orgs):
    put(orgs, "ccib-th", [FILE], tlp="red")
    other = Viewer("pdrm-my", "amber+strict")
    assert [a["listed"] for a in look(orgs, SHA256, SHA1, MD5, viewer=other)] == [False] * 3
    assert [a["listed"] for a in look(orgs, SHA256, SHA1, MD5, viewer=Viewer("ccib-th", "red"))] == [True] * 3


def test_a_capped_writer_reporting_a_hash_of_a_known_file_writes_its_own_row_of_that_file(orgs):
    put(orgs, "ccib-th", [FILE], tlp="red")
    with orgs.write() as conn:
        submitter = Submitter(conn, Provenance(org="ccib-th", tlp="green"), now=NOW,
                              viewer=Viewer("ccib-th", "green"))
        submitter.add(Submission(MD5, stix_id="indicator--7d0b4d36-62a2-4f5d-9c2f-1d0b3b1f0a11", named=True))
        report = submitter.finish()
    assert report.new == 1 and set(report.served_ids) == {SHA256, MD5}
    assert count(orgs, t.indicator) == 1 and count(orgs, t.assertion) == 2


def test_a_sighting_of_any_hash_is_a_sighting_of_the_file(orgs):
    put(orgs, "ccib-th", [FILE])
    answer = add_sighting(orgs, org="pdrm-my", value=f"SHA-1 {SHA1.partition(':')[2]}", case_ref="PDRM-2026-7")
    assert answer["status"] == "new"
    add_sighting(orgs, org="pdrm-my", value=f"{OTHER[1]} {OTHER[2]}", case_ref="PDRM-2026-8")  # a new file
    assert count(orgs, t.indicator) == 2 and aliases_by_value(orgs)[OTHER[2]] == OTHER[1]
    [answer] = look(orgs, MD5)
    assert [s["source"] for s in answer["matches"][0]["sightings"]] == ["pdrm-my"]


def test_the_page_of_any_hash_shows_the_file(orgs):
    put(orgs, "ccib-th", [FILE])
    with orgs.read() as conn:
        by_md5 = indicator_history(conn, MD5, OPERATOR, now=NOW)
        by_sha256 = indicator_history(conn, SHA256, OPERATOR, now=NOW)
        other = indicator_history(conn, OTHER[0], OPERATOR, now=NOW)
        phone = indicator_history(conn, "+66812345678", OPERATOR, now=NOW)
    assert by_md5["indicator_id"] == by_sha256["indicator_id"] is not None
    assert [a["source"] for a in by_md5["assertions"]] == ["ccib-th"] and by_md5["related"] == []
    assert by_md5["file_hashes"] == by_sha256["file_hashes"] == [SHA256, SHA1, MD5]
    assert other["file_hashes"] == [OTHER[0]] and phone["file_hashes"] == []


def test_search_and_json_lines_carry_the_file_hashes(orgs):
    put(orgs, "ccib-th", [FILE, OTHER[2], "evil.example"])
    with orgs.read() as conn:
        found = search_indicators(conn, OPERATOR, Filters(kind="file-hash"), now=NOW)["indicators"]
        lines = b"".join(exports.stream(conn, OPERATOR, "json", exports.ExportQuery.parse({}), now=NOW))
    assert [(r["value"], r.get("hashes")) for r in found] == [(OTHER[2], None), (SHA256, [SHA1, MD5])]
    exported = {row["value"]: row.get("hashes") for row in map(orjson.loads, lines.splitlines())}
    assert exported == {SHA256: [SHA1, MD5], OTHER[2]: None, "evil.example": None}


def test_lookups_without_a_file_hash_never_read_the_aliases(orgs):
    put(orgs, "ccib-th", [FILE, "1.10.16.0/20", "+66812345678", "evil.example"])
    # the driver's own error (the lookup reads on the DBAPI cursor), naming the table it lacks
    with pytest.raises(Exception, match="indicator_alias"), orgs.write() as conn:  # noqa: PT011
        conn.execute(text("ALTER TABLE indicator_alias RENAME TO gone"))  # rolled back below
        answers = lookup(conn, ["1.10.16.7", "081 234 5678", "www.evil.example", "nothing.example"], OPERATOR,
                         now=NOW, region="TH")
        assert [a["listed"] for a in answers] == [True, True, True, False]
        lookup(conn, [MD5], OPERATOR, now=NOW)  # a file hash reads them: the renamed table fails
