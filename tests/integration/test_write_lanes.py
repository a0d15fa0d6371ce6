"""A write never changes or reveals an assertion or sighting its writer may not see (on SQLite
and PostgreSQL, through the submit and sighting services every route calls).

The case of the issue: ccib-th's RED-capped key holds a value at RED; ccib-th's GREEN-capped key
submits the same value. Its answer must be the one a never-reported value gets, and the RED row
must keep its TLP, text, counts and times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from registry.domain.tlp import Viewer
from registry.services.lookup import lookup
from registry.services.sightings import add_sighting
from registry.services.stix_export import indicator_ids, iter_objects
from registry.services.submit import Provenance, Submission, Submitter
from registry.storage import tables as t
from tests.helpers import add_member_orgs, stored_rows

NOW = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=3)
ORG = "ccib-th"
RED_KEY, GREEN_KEY = Viewer(ORG, "red"), Viewer(ORG, "green")
AMBER_STRICT_KEY = Viewer(ORG, "amber+strict")  # a member key's default cap
OTHER_MEMBER = Viewer("pdrm-my", "amber+strict")
HIDDEN, UNKNOWN = "informant.lanes.example", "never-reported.lanes.example"


@pytest.fixture
def orgs(db):
    return add_member_orgs(db)


def submit(db, viewer, values, *, now=NOW, **fields):
    with db.write() as conn:
        submitter = Submitter(conn, Provenance(org=ORG), now=now, keep_results=True, viewer=viewer)
        for value in values:
            submitter.add(Submission(value, **fields))
        return submitter.finish()


def rows(db, table, value: str) -> list[dict]:
    return stored_rows(db, table, [value])[value]


def sources(db, viewer, value: str) -> list[tuple]:
    """(tlp, description) of each assertion the viewer's lookup shows, and (tlp, count) of each sighting."""
    with db.read() as conn:
        (answer,) = lookup(conn, [value], viewer, now=LATER)
    matches = answer["matches"]
    return ([(a["tlp"], a["description"]) for m in matches for a in m["assertions"]]
            + [(s["tlp"], s["count"]) for m in matches for s in m["sightings"]])


def without_value(result: dict) -> dict:
    return {k: v for k, v in result.items() if k not in ("value", "canonical")}


def test_a_capped_key_neither_changes_nor_reveals_a_hidden_assertion(orgs):
    submit(orgs, RED_KEY, [HIDDEN], tlp="red", confidence=90, description="RED: an informant's line")
    (before,) = rows(orgs, t.assertion, HIDDEN)
    report = submit(orgs, GREEN_KEY, [HIDDEN, UNKNOWN], now=LATER, tlp="green", confidence=40,
                    description="seen in a phishing kit")
    hidden, unknown = report.results
    assert hidden["status"] == "new" and without_value(hidden) == without_value(unknown)
    assert (report.new, report.updated, report.unchanged, report.lowered.count) == (2, 0, 0, 0)
    red_row, own_row = rows(orgs, t.assertion, HIDDEN)
    assert red_row == before  # its TLP, text, counts, times and change number
    assert (own_row["tlp"], own_row["description"], own_row["times_reported"], own_row["lane"]) == (
        "green", "seen in a phishing kit", 1, own_row["lane"]) and own_row["lane"] > 0
    # Every reader sees the rows its cap allows, lane or not.
    assert sources(orgs, GREEN_KEY, HIDDEN) == [("green", "seen in a phishing kit")]
    assert sources(orgs, OTHER_MEMBER, HIDDEN) == [("green", "seen in a phishing kit")]
    assert sources(orgs, RED_KEY, HIDDEN) == [("red", "RED: an informant's line"), ("green", "seen in a phishing kit")]
    # Repeating itself, the writer finds its own row, exactly as for the value nobody else held.
    again = submit(orgs, GREEN_KEY, [HIDDEN, UNKNOWN], now=LATER, tlp="green", confidence=40)
    assert [r["status"] for r in again.results] == ["unchanged", "unchanged"]
    assert rows(orgs, t.assertion, HIDDEN)[0] == before


def test_a_capped_key_neither_changes_nor_reveals_a_hidden_sighting(orgs):
    add_sighting(orgs, org=ORG, value=HIDDEN, case_ref="CCIB-2026-114", count=7, tlp="red", seen=NOW,
                 description="RED: the informant's call log", viewer=RED_KEY)
    (before,) = rows(orgs, t.sighting, HIDDEN)
    answers = [add_sighting(orgs, org=ORG, value=value, case_ref="CCIB-2026-114", count=1, tlp="green", seen=LATER,
                            viewer=GREEN_KEY) for value in (HIDDEN, UNKNOWN)]
    assert answers[0]["status"] == "new" and without_value(answers[0]) == without_value(answers[1])
    assert (answers[0]["count"], answers[0]["first_seen"]) == (1, "2026-11-22T09:00:00Z")
    red_row, own_row = rows(orgs, t.sighting, HIDDEN)
    assert red_row == before
    assert (own_row["tlp"], own_row["count"], own_row["lane"] > 0) == ("green", 1, True)
    assert own_row["stix_id"] != red_row["stix_id"]
    assert sources(orgs, RED_KEY, HIDDEN) == [("red", 7), ("green", 1)]
    assert sources(orgs, GREEN_KEY, HIDDEN) == [("green", 1)]
    again = add_sighting(orgs, org=ORG, value=HIDDEN, case_ref="CCIB-2026-114", count=2, tlp="green", seen=LATER,
                         viewer=GREEN_KEY)
    assert (again["status"], again["count"]) == ("updated", 3)
    assert rows(orgs, t.sighting, HIDDEN)[0] == before


def test_a_blind_writer_repeats_into_one_row_of_its_own_and_always_hears_new(orgs):
    """An AMBER+STRICT key reporting RED cannot see what it wrote: each repeat answers `new`,
    goes to the same row of its own, and the RED key's row is never touched."""
    submit(orgs, RED_KEY, [HIDDEN], tlp="red", description="RED: the red key's")
    (before,) = rows(orgs, t.assertion, HIDDEN)
    for n in range(3):
        report = submit(orgs, AMBER_STRICT_KEY, [HIDDEN], now=LATER + timedelta(minutes=n), tlp="red",
                        description="RED: the amber+strict key's")
        assert [r["status"] for r in report.results] == ["new"]
    red_row, blind_row = rows(orgs, t.assertion, HIDDEN)
    assert red_row == before
    assert (blind_row["tlp"], blind_row["times_reported"], blind_row["description"]) == (
        "red", 3, "RED: the amber+strict key's")
    # Sightings alike; the first one made the ordinary row, hidden from its writer at once.
    for _ in range(2):
        assert add_sighting(orgs, org=ORG, value=HIDDEN, tlp="red", viewer=AMBER_STRICT_KEY)["status"] == "new"
    third = add_sighting(orgs, org=ORG, value=HIDDEN, tlp="red", count=5, viewer=AMBER_STRICT_KEY)
    assert (third["status"], third["count"]) == ("new", 5)
    assert [(r["lane"] > 0, r["count"]) for r in rows(orgs, t.sighting, HIDDEN)] == [(False, 1), (True, 6)]


def test_a_tlp_is_lowered_only_where_the_writer_sees_and_the_report_says_so(orgs):
    submit(orgs, RED_KEY, [HIDDEN], tlp="red")
    submit(orgs, GREEN_KEY, [HIDDEN, UNKNOWN], tlp="green")
    lowered = submit(orgs, GREEN_KEY, [HIDDEN, UNKNOWN], now=LATER, tlp="clear")
    assert [r["status"] for r in lowered.results] == ["updated", "updated"]
    assert [r["tlp_lowered"] for r in lowered.results] == [{"from": "green", "to": "clear"}] * 2
    assert lowered.lowered.subject() == [
        {"of": "assertion", "from": "green", "to": "clear", "values": [HIDDEN, UNKNOWN]}]  # by value, as flushed
    assert [r["tlp"] for r in rows(orgs, t.assertion, HIDDEN)] == ["red", "clear"]
    by_red = submit(orgs, RED_KEY, [HIDDEN], now=LATER, tlp="amber")
    assert by_red.lowered.subject() == [{"of": "assertion", "from": "red", "to": "amber", "values": [HIDDEN]}]
    raised = submit(orgs, RED_KEY, [UNKNOWN], now=LATER, tlp="red")
    assert not raised.lowered and "tlp_lowered" not in raised.results[0]
    add_sighting(orgs, org=ORG, value=HIDDEN, case_ref="C-1", tlp="amber", viewer=GREEN_KEY)  # blind: its own row
    answer = add_sighting(orgs, org=ORG, value=HIDDEN, case_ref="C-1", tlp="green", viewer=RED_KEY)
    assert answer["tlp_lowered"] == {"from": "amber", "to": "green"}


def test_operator_writes_keep_one_row_per_value(orgs):
    submit(orgs, RED_KEY, [HIDDEN], tlp="red")
    submit(orgs, GREEN_KEY, [HIDDEN], tlp="green")
    report = submit(orgs, None, [HIDDEN, UNKNOWN], now=LATER, tlp="amber")
    assert [r["status"] for r in report.results] == ["updated", "new"]
    assert [(r["lane"] > 0, r["tlp"]) for r in rows(orgs, t.assertion, HIDDEN)] == [(False, "amber"), (True, "green")]
    assert report.lowered.subject() == [{"of": "assertion", "from": "red", "to": "amber", "values": [HIDDEN]}]
    assert [r["lane"] for r in rows(orgs, t.assertion, UNKNOWN)] == [0]


def test_a_lane_row_is_another_indicator_with_an_id_of_its_own(orgs):
    submit(orgs, RED_KEY, [HIDDEN], tlp="red")
    submit(orgs, GREEN_KEY, [HIDDEN], tlp="green")
    with orgs.read() as conn:
        identity = conn.execute(select(t.organization.c.stix_id).where(t.organization.c.slug == ORG)).scalar_one()
        objects = [obj for _, _, obj in iter_objects(conn, RED_KEY)]
        green_view = [obj for _, _, obj in iter_objects(conn, GREEN_KEY)]
        derived = indicator_ids(conn)
        (lane,) = [r["lane"] for r in rows(orgs, t.assertion, HIDDEN) if r["lane"]]
    assert len(objects) == 2 and len({o["id"] for o in objects}) == 2
    red, green = sorted(objects, key=lambda o: o["object_marking_refs"] != [ids_marking("red")])
    assert red["id"] == derived.derive(HIDDEN, identity, "")  # the ordinary row's id is as before
    assert green["id"] == derived.derive(HIDDEN, identity, "", lane) and derived.is_derived(green["id"])
    assert green_view == [green]


def ids_marking(level: str) -> str:
    from registry.stix.markings import TLP2_IDS

    return TLP2_IDS[level]


def test_registry_import_audits_the_levels_it_lowers(orgs, tmp_path, monkeypatch):
    """The operator sees everything and may lower any level; `registry import` audits it too."""
    from click.testing import CliRunner

    from registry.cli import main
    from registry.services.audit import events

    monkeypatch.setenv("REGISTRY_DATABASE_URL", orgs.url)
    monkeypatch.setenv("REGISTRY_INSTANCE_PATH", str(tmp_path / "instance"))
    listing = tmp_path / "list.txt"
    listing.write_text(f"{HIDDEN}\n{UNKNOWN}\n", encoding="utf-8")
    runner = CliRunner()
    for tlp in ("amber", "amber", "clear"):
        result = runner.invoke(main, ["import", str(listing), "--org", ORG, "--tlp", tlp], catch_exceptions=False)
        assert result.exit_code == 0, result.output
    (event,) = events(orgs, action="tlp-lowered")["events"]
    assert (event["org"], event["actor"].startswith("cli:"), event["result_count"]) == (None, True, 2)
    assert event["subject"] == [{"of": "assertion", "from": "amber", "to": "clear", "values": [HIDDEN, UNKNOWN]}]
