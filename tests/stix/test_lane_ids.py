"""Write lanes meet STIX id ownership: one id names one object, and a capped writer's import never
updates, reveals or collides with a row of its own org it may not see (SQLite and PostgreSQL).

ccib-th's RED key holds an Indicator (and a Sighting) under ids of their own; ccib-th's GREEN key
posts the same objects, ids and all. Its objects go to rows of its own (domain.lanes), which cannot
take the ids the hidden rows hold (the unique id indexes): they are stored under new ids, and the
answer is the one an id held by another org's object gets."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from registry.domain.tlp import Viewer
from registry.services import stix_export as export
from registry.services.stix_import import import_bundle
from registry.stix.claims import HELD, HELD_SIGHTING
from registry.stix.markings import TLP2_IDS
from registry.storage import orgs as org_store
from tests.helpers import add_member_orgs
from tests.stix.support import stix_indicator, stix_sighting

ORG = "ccib-th"
RED_KEY, GREEN_KEY, STRICT_KEY = Viewer(ORG, "red"), Viewer(ORG, "green"), Viewer(ORG, "amber+strict")
OWN_ID = "indicator--1a000000-0000-4000-8000-000000000001"
SEEN_ID = "indicator--1a000000-0000-4000-8000-000000000002"  # a GREEN indicator every key sees
SIGHTING_ID = "sighting--1c000000-0000-4000-8000-000000000001"
VALUE, SEEN_VALUE = "45.33.22.10", "45.33.22.11"


@pytest.fixture
def orgs(db):
    return add_member_orgs(db)


def post(db, viewer: Viewer, *objects):
    return import_bundle(db, list(objects), org=viewer.org, viewer=viewer)


def lane_rows(db, table: str, value: str) -> list[tuple[int, str, str]]:
    """(lane, tlp, stix_id) of ccib-th's rows of ``value``, by lane."""
    with db.read() as conn:
        return [tuple(r) for r in conn.execute(text(
            f"SELECT x.lane, x.tlp, x.stix_id FROM {table} x JOIN indicator i ON i.id = x.indicator_id "
            f"JOIN organization o ON o.id = x.org_id WHERE i.value = :v AND o.slug = :org ORDER BY x.lane"),
            {"v": value, "org": ORG})]


def lane_id(db, value: str, lane: int) -> str:
    with db.read() as conn:
        identity = org_store.get(conn, ORG).stix_id
        return export.indicator_ids(conn).derive(value, identity, "", lane)


def without_ids(result: dict) -> dict:
    return {k: v for k, v in result.items() if k not in ("id", "new_id")}


def test_an_indicator_id_a_hidden_row_of_the_same_org_holds_is_reminted(orgs):
    assert post(orgs, RED_KEY, stix_indicator(OWN_ID, VALUE, tlp="red")).new == 1
    report = post(orgs, GREEN_KEY, stix_indicator(OWN_ID, VALUE, tlp="green"))
    (hidden, own) = lane_rows(orgs, "assertion", VALUE)
    assert hidden == (0, "red", OWN_ID)  # untouched, and still the id's only holder
    assert own[1:] == ("green", lane_id(orgs, VALUE, own[0])) and own[0] > 0
    assert (report.new, report.updated, report.reminted) == (1, 0, 1)
    assert report.remints == [{"id": OWN_ID, "new_id": own[2], "reason": HELD}]
    # The answer is the one an id another org's indicator holds gets: the hidden row is not told.
    post(orgs, Viewer("pdrm-my", "red"), stix_indicator(SEEN_ID, SEEN_VALUE, tlp="green"))
    other = post(orgs, GREEN_KEY, stix_indicator(SEEN_ID, SEEN_VALUE, tlp="green"))
    assert [without_ids(r) for r in report.results] == [without_ids(r) for r in other.results]
    assert report.results[0]["id_reason"] == other.results[0]["id_reason"] == HELD
    with orgs.read() as conn:
        assert export.objects_by_id(conn, GREEN_KEY, OWN_ID) == []
        (served,) = export.objects_by_id(conn, GREEN_KEY, own[2])
        assert served["object_marking_refs"] == [TLP2_IDS["green"]]
        (holder,) = export.objects_by_id(conn, RED_KEY, OWN_ID)
        assert holder["object_marking_refs"] == [TLP2_IDS["red"]]
    # Posting it again lands in the same own row, reminted the same way; the row's own id is accepted.
    again = post(orgs, GREEN_KEY, stix_indicator(OWN_ID, VALUE, tlp="green"))
    assert (again.new, again.unchanged, again.remints) == (0, 1, [{"id": OWN_ID, "new_id": own[2], "reason": HELD}])
    by_own_id = post(orgs, GREEN_KEY, stix_indicator(own[2], VALUE, tlp="green"))
    assert (by_own_id.unchanged, by_own_id.reminted) == (1, 0)
    # The RED key writes the ordinary row: the lane row's id is another indicator's to it.
    red = post(orgs, RED_KEY, stix_indicator(own[2], VALUE, tlp="red"))
    assert (red.unchanged, red.remints) == (1, [{"id": own[2], "new_id": OWN_ID, "reason": HELD}])
    assert lane_rows(orgs, "assertion", VALUE) == [hidden, own]


def test_the_derived_id_of_a_hidden_ordinary_row_is_not_stored_in_a_lane_row(orgs):
    post(orgs, Viewer("pdrm-my", "red"), stix_indicator(OWN_ID, VALUE, tlp="green"))
    post(orgs, RED_KEY, stix_indicator(OWN_ID, VALUE, tlp="red"))  # reminted: served under its derived id
    ordinary = lane_id(orgs, VALUE, 0)
    assert lane_rows(orgs, "assertion", VALUE) == [(0, "red", None)]
    report = post(orgs, GREEN_KEY, stix_indicator(ordinary, VALUE, tlp="green"))
    (_, own) = lane_rows(orgs, "assertion", VALUE)
    assert own[2] == lane_id(orgs, VALUE, own[0]) != ordinary
    assert report.remints == [{"id": ordinary, "new_id": own[2], "reason": HELD}]


def test_a_sighting_id_a_hidden_sighting_of_the_same_org_holds_is_reminted(orgs):
    post(orgs, RED_KEY, stix_indicator(SEEN_ID, SEEN_VALUE, tlp="green"))
    red = stix_sighting(SIGHTING_ID, SEEN_ID, object_marking_refs=[TLP2_IDS["red"]])
    assert post(orgs, RED_KEY, red).sightings == {"new": 1}
    green = stix_sighting(SIGHTING_ID, SEEN_ID, object_marking_refs=[TLP2_IDS["green"]])
    report = post(orgs, GREEN_KEY, green)
    (hidden, own) = lane_rows(orgs, "sighting", SEEN_VALUE)
    assert hidden == (0, "red", SIGHTING_ID) and own[1] == "green" and own[0] > 0
    assert (report.sightings, report.reminted) == ({"new": 1}, 1)
    assert report.remints == [{"id": SIGHTING_ID, "new_id": own[2], "reason": HELD_SIGHTING}]
    # The same answer as for an id another org's sighting holds (a sighting of another case).
    other_id = "sighting--1c000000-0000-4000-8000-000000000002"
    post(orgs, Viewer("pdrm-my", "red"), stix_sighting(other_id, SEEN_ID))
    other = post(orgs, GREEN_KEY, stix_sighting(other_id, SEEN_ID, object_marking_refs=[TLP2_IDS["green"]],
                                                external_references=[{"source_name": "case", "external_id": "C-2"}]))
    assert [without_ids(r) for r in report.results] == [without_ids(r) for r in other.results]
    # A re-post lands in the writer's own row (as another org's would in its own), the hidden row unchanged.
    again = post(orgs, GREEN_KEY, green)
    assert (again.sightings, again.remints) == ({"updated": 1}, report.remints)
    assert {hidden, own} <= set(lane_rows(orgs, "sighting", SEEN_VALUE))  # beside the case C-2 one


def test_a_writer_above_its_cap_never_meets_the_unique_index(orgs):
    """A key capped at AMBER+STRICT reporting RED cannot see its own rows: its first report is the
    ordinary row (there was none), its repeats go to one blind row of its own (domain.lanes),
    under a new id, since the first row holds the one it posts."""
    post(orgs, RED_KEY, stix_indicator(SEEN_ID, SEEN_VALUE, tlp="green"))
    red = stix_sighting(SIGHTING_ID, SEEN_ID, object_marking_refs=[TLP2_IDS["red"]])
    reports = [post(orgs, STRICT_KEY, red) for _ in range(3)]
    assert [(r.sightings, r.reminted) for r in reports] == [({"new": 1}, 0), ({"new": 1}, 1), ({"new": 1}, 1)]
    (first, blind) = lane_rows(orgs, "sighting", SEEN_VALUE)
    assert first == (0, "red", SIGHTING_ID) and blind[1] == "red" and blind[0] > 0
    assert [r.remints[0]["new_id"] for r in reports[1:]] == [blind[2], blind[2]]
    with orgs.read() as conn:
        counts = sorted(tuple(c) for c in conn.execute(text("SELECT lane, count FROM sighting")))
    assert counts == [(0, 1), (blind[0], 2)]
