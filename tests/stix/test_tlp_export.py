"""The TLP rule over the STIX export: five levels from two orgs, read by each kind of viewer.

Each org submits one value at each level and sights each of its values at that level. A viewer
sees a level no higher than its cap, and RED only from its own org. The write path, a STIX import
by a capped writer, neither changes nor reveals what the writer's cap hides."""

from __future__ import annotations

import pytest

from registry.domain.tlp import LEVELS, Viewer
from registry.services import stix_export as export
from registry.services.orgs import add_org
from registry.services.sightings import add_sighting
from registry.services.stix_import import import_bundle
from registry.stix.markings import TLP2_IDS
from tests.stix.support import exported, of_type, submit
from tests.web import write_matrix as wm

ORGS = ("ccib-th", "pnp-acg")


@pytest.fixture
def matrix(db):
    add_org(db, "ccib-th", "Thai CCIB", "TH")
    add_org(db, "pnp-acg", "PNP Anti-Cybercrime Group", "PH")
    for org in ORGS:
        for level in LEVELS:
            value = f"{level.replace('+', '-')}.{org}.example"
            submit(db, org, [value], tlp=level)
            add_sighting(db, org=org, value=value, tlp=level)
    return db


VIEWERS = [
    # (viewer, indicators seen, which of ccib-th's own levels)
    (Viewer("ccib-th", "red"), 9, LEVELS),  # its own RED, not pnp-acg's
    (Viewer("pnp-acg", "amber+strict"), 8, LEVELS[:4]),  # a member's usual key
    (Viewer("pnp-acg", "green"), 4, LEVELS[:2]),  # a SIEM key capped at GREEN
    (Viewer("ccib-th", "green"), 4, LEVELS[:2]),  # capped, even for its own data
    (Viewer("pnp-acg", "red"), 9, LEVELS[:4]),
    (Viewer("pnp-acg", "clear"), 2, LEVELS[:1]),
    (Viewer.operator(), 10, LEVELS),
]


@pytest.mark.parametrize(("viewer", "count", "ccib_levels"), VIEWERS,
                         ids=[f"{v.org}-{v.max_tlp}" for v, _, _ in VIEWERS])
def test_exported_indicators_per_viewer(matrix, viewer, count, ccib_levels):
    doc = exported(matrix, viewer)
    indicators = of_type(doc, "indicator")
    assert len(indicators) == count
    assert len(of_type(doc, "sighting")) == count  # each sighting refers to its org's own indicator
    identities = {o["id"]: o["name"] for o in of_type(doc, "identity")}
    levels = {level for level, marking in TLP2_IDS.items()
              for o in indicators if o["object_marking_refs"] == [marking] and identities[o["created_by_ref"]] == "Thai CCIB"}
    assert levels == set(ccib_levels)
    for obj in indicators:  # the marking says the level the name was submitted at
        (marking,) = obj["object_marking_refs"]
        assert obj["name"].startswith({v: k for k, v in TLP2_IDS.items()}[marking].replace("+", "-") + ".")
    assert {o["id"] for o in of_type(doc, "marking-definition")} == {
        m for o in indicators for m in o["object_marking_refs"]}
    with matrix.read() as conn:
        assert len(list(export.iter_objects(conn, viewer))) == 2 * count


def test_red_of_another_org_is_not_found_by_id(matrix):
    doc = exported(matrix)
    red = [o for o in of_type(doc, "indicator") if o["object_marking_refs"] == [TLP2_IDS["red"]]]
    assert len(red) == 2
    with matrix.read() as conn:
        for obj in red:
            owner = "ccib-th" if "ccib-th" in obj["name"] else "pnp-acg"
            other = "pnp-acg" if owner == "ccib-th" else "ccib-th"
            assert export.objects_by_id(conn, Viewer(owner, "red"), obj["id"]) == [obj]
            assert export.objects_by_id(conn, Viewer(other, "red"), obj["id"]) == []


# -- the write path: a STIX import by a capped writer ----------------------------------------------
@pytest.mark.parametrize("writer", sorted(wm.WRITERS))
def test_a_stix_import_by_a_capped_writer_never_changes_or_reveals_what_it_cannot_see(db, writer):
    """A bundle posted by ccib-th's GREEN or AMBER+STRICT key (as the API and TAXII import it)
    over what ccib-th's RED key holds at every level (tests/web/write_matrix.py)."""
    add_org(db, "ccib-th", "Thai CCIB", "TH")
    wm.seed_held(db, ("import",))
    before = wm.snapshot(db, "import", writer)
    cap, hidden = wm.WRITERS[writer], wm.hidden_from(writer)
    values = [wm.held("import", writer, level) for level in LEVELS] + [wm.unheard("import", writer)]
    objects = wm.stix_objects(values)
    # A Sighting under the id of a RED sighting the writer cannot see is as new as any other.
    hidden_sighting = before["sighting"][wm.held("import", writer, "red")][0]["stix_id"]
    objects.append({**objects[-1], "id": hidden_sighting, "external_references": [
        {"source_name": "case", "external_id": "ANOTHER-CASE"}]})
    report = import_bundle(db, {"type": "bundle", "objects": objects}, org="ccib-th", viewer=Viewer("ccib-th", cap))
    expected = ["new" if level in hidden else "updated" for level in LEVELS] + ["new"]
    assert [r["status"] for r in report.results] == expected + expected + ["new"]
    wm.check_rows(before, wm.snapshot(db, "import", writer), "import", writer)
    assert sorted((g["of"], value, g["from"]) for g in report.lowered.subject() for value in g["values"]) == sorted(
        (of, wm.held("import", writer, level), level) for of in ("assertion", "sighting")
        for level in LEVELS[1:] if level not in hidden)
    # Exported, the writer's view holds one Indicator per value, its own; the RED key's view holds
    # the RED key's Indicator beside it for each hidden level, under another id.
    mine = {o["name"]: o for o in of_type(exported(db, Viewer("ccib-th", cap)), "indicator")
            if o["name"].startswith(f"import-{writer}.")}
    assert sorted(mine) == sorted(values)
    everything = of_type(exported(db, Viewer("ccib-th", "red")), "indicator")
    for level in hidden:
        value = wm.held("import", writer, level)
        both = [o for o in everything if o["name"] == value]
        assert len(both) == 2 and len({o["id"] for o in both}) == 2 and mine[value] in both
        assert {o["object_marking_refs"][0] for o in both} == {TLP2_IDS[level], TLP2_IDS["clear"]}
