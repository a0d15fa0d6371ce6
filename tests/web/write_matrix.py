"""The write half of the TLP matrices (tests/web/test_tlp_matrix.py, tests/taxii/test_taxii_tlp.py,
tests/stix/test_tlp_export.py): what a capped writer may and may not do to rows of its own org.

ccib-th holds, for each write path and writer, a value at every TLP level with a sighting of it
(``seed_held``), a domain by default or one of each kind asked for. Each of ccib-th's capped
contributors then writes each of them at TLP:CLEAR through the path under test, beside a value
nobody reported (``unheard``). Afterwards (``check_rows``) every row hidden from the writer is
exactly as it was, the writer's own row beside it, and every row it could see is lowered to CLEAR;
each lowering is audited (``check_lowered``).
"""

from __future__ import annotations

import time
import uuid

from registry.domain.kinds import DOMAIN
from registry.domain.normalize import normalize_one
from registry.domain.times import parse_time
from registry.domain.tlp import LEVELS
from registry.services.audit import events
from registry.services.sightings import add_sighting
from registry.services.submit import Provenance, Submission, Submitter
from registry.stix import mapping
from registry.stix.markings import TLP2_IDS
from registry.storage import tables as t
from tests.helpers import kind_value, stored_rows

SOURCE = "ccib-th"
WRITERS = {"ccib-green-contrib": "green", "ccib-amber-contrib": "amber+strict"}  # writer name → cap
LABEL = "tlp-writes"
CASE = "CCIB-HELD-1"
HELD_AT, WRITTEN_AT = "2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z"


PATHS = ("api", "stix", "ui", "taxii", "import")  # every path a test writes through, for distinct values
DOMAINS = (DOMAIN,)


def _number(path: str, writer: str, level: str | None) -> int:
    """A number of its own for each path, writer and level (None: the unheard value)."""
    where = PATHS.index(path) * 100 + sorted(WRITERS).index(writer) * 10
    return 1000 + where + (9 if level is None else LEVELS.index(level))


def held(path: str, writer: str, level: str, kind: str = DOMAIN) -> str:
    if kind == DOMAIN:
        return f"{path}-{writer}.{level.replace('+', '-')}.{LABEL}.example"
    return kind_value(kind, _number(path, writer, level))


def unheard(path: str, writer: str, kind: str = DOMAIN) -> str:
    if kind == DOMAIN:
        return f"{path}-{writer}.unknown.{LABEL}.example"
    return kind_value(kind, _number(path, writer, None))


def written(path: str, writer: str, kinds=DOMAINS) -> list[tuple[str, str | None, str]]:
    """(kind, level, value) of what a writer writes through ``path``: each kind's held value at
    every level, then its unheard one (level None)."""
    return [(kind, level, held(path, writer, level, kind)) for kind in kinds for level in LEVELS] + [
        (kind, None, unheard(path, writer, kind)) for kind in kinds]


def hidden_from(writer: str) -> list[str]:
    return [level for level in LEVELS if LEVELS.index(level) > LEVELS.index(WRITERS[writer])]


def seed_held(db, paths, kinds=DOMAINS) -> None:
    """ccib-th's values and sightings, at every level, for each path, writer and kind: written as the
    operator, which writes the very rows ccib-th's RED-capped key would (and runs on any version)."""
    values = [(held(path, writer, level, kind), level) for path in paths for writer in WRITERS for kind in kinds
              for level in LEVELS]
    with db.write() as conn:
        submitter = Submitter(conn, Provenance(org=SOURCE, confidence=90, labels=(LABEL,)))
        for value, level in values:
            submitter.add(Submission(value, tlp=level, description=f"{level} text"))
        assert submitter.finish().new == len(values)
    for value, level in values:
        add_sighting(db, org=SOURCE, value=value, case_ref=CASE, count=7, tlp=level, seen=parse_time(HELD_AT),
                     description=f"{level} sighting")


def snapshot(db, path: str, writer: str, kinds=DOMAINS) -> dict:
    values = [held(path, writer, level, kind) for kind in kinds for level in LEVELS]
    return {name: stored_rows(db, table, values) for name, table in (("assertion", t.assertion),
                                                                     ("sighting", t.sighting))}


def check_rows(before: dict, after: dict, path: str, writer: str, kinds=DOMAINS) -> None:
    """Hidden rows exactly as they were, the writer's own beside them; visible rows lowered to CLEAR."""
    hidden = hidden_from(writer)
    for table in ("assertion", "sighting"):
        for kind, level in ((kind, level) for kind in kinds for level in LEVELS):
            value = held(path, writer, level, kind)
            old, new = before[table][value], after[table][value]
            assert len(old) == 1, (table, value)
            if level in hidden:
                assert new[0] == old[0], (table, kind, level)  # TLP, text, counts, times, change number
                assert [(r["lane"] > 0, r["tlp"]) for r in new[1:]] == [(True, "clear")], (table, kind, level)
            else:
                assert [(r["lane"], r["tlp"]) for r in new] == [(0, "clear")], (table, kind, level)


def check_lowered(db, writer: str, path: str, actor: str, kinds=DOMAINS) -> None:
    """Each assertion and sighting the writer lowered (those it saw, above CLEAR) listed in its
    ``tlp-lowered`` audit rows, recorded as ``actor`` of ccib-th; waits for a server's audit flush."""
    visible = [level for level in LEVELS[1:] if level not in hidden_from(writer)]
    expected = sorted((of, held(path, writer, level, kind), level, "clear") for of in ("assertion", "sighting")
                      for kind in kinds for level in visible)
    ours = {value for _, _, value in written(path, writer, kinds)}
    deadline = time.monotonic() + 15
    while True:
        rows = events(db, action="tlp-lowered", limit=1000)["events"]
        mine = [r for r in rows if any(v in ours for g in r["subject"] for v in g["values"])]
        entries = sorted((g["of"], v, g["from"], g["to"]) for r in mine for g in r["subject"] for v in g["values"])
        if len(entries) >= len(expected) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert entries == expected
    assert {(r["org"], r["actor"]) for r in mine} == {(SOURCE, actor)}
    assert all(r["result_count"] == sum(len(g["values"]) for g in r["subject"]) for r in mine)


def stix_objects(values: list[str]) -> list[dict]:
    """Per value, an Indicator at TLP:CLEAR (its kind's pattern) and a Sighting of it in the held case."""
    objects = []
    for value in values:
        indicator_id = f"indicator--{uuid.uuid4()}"
        pattern = mapping.pattern(normalize_one(value).kind, value)
        objects.append({
            "type": "indicator", "spec_version": "2.1", "id": indicator_id, "created": WRITTEN_AT,
            "modified": WRITTEN_AT, "pattern": pattern, "pattern_type": "stix",
            "valid_from": WRITTEN_AT, "confidence": 30, "description": "writer text",
            "object_marking_refs": [TLP2_IDS["clear"]]})
        objects.append({
            "type": "sighting", "spec_version": "2.1", "id": f"sighting--{uuid.uuid4()}", "created": WRITTEN_AT,
            "modified": WRITTEN_AT, "first_seen": WRITTEN_AT, "sighting_of_ref": indicator_id,
            "external_references": [{"source_name": "case", "external_id": CASE}],
            "object_marking_refs": [TLP2_IDS["clear"]]})
    return objects
