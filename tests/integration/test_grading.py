"""The Admiralty grading end to end, on both engines: what a submission, `registry import` (flags,
CSV columns, JSON lines, the registry's own exports), a feed and a MISP feed store; and every place
an assertion is shown (lookups and their explanation, search, an indicator's history, the CSV,
JSON lines and MISP exports). STIX is in tests/stix/test_grading_stix.py, the pages and the API
over HTTP in tests/web/test_grading_http.py, the rules in tests/unit/test_grading_rules.py."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from registry.cli import main
from registry.domain import grading
from registry.domain.tlp import Viewer
from registry.export.csvfile import COLUMNS
from registry.services import exports
from registry.services.errors import Invalid
from registry.services.feeds import list_feeds, run_feed
from registry.services.history import indicator_history
from registry.services.imports import import_file
from registry.services.lookup import lookup
from registry.services.orgs import add_org
from registry.services.search import Filters, search_indicators
from registry.services.submit import Provenance, Submission, Submitter, grades
from registry.storage import tables as t
from tests.exports.support import export_bytes
from tests.feeds.support import add_feed
from tests.helpers import stored_rows

PHONE, STRONG, PLAIN, OTHER = "+66812345678", "evil-grade.example", "plain-grade.example", "other-grade.example"
GRADE_KEYS = {"reliability", "credibility"}


def submit(db, provenance: Provenance, subs) -> dict:
    with db.write() as conn:
        submitter = Submitter(conn, provenance, keep_results=True)
        for sub in subs:
            submitter.add(sub)
        return submitter.finish().to_dict()


def seed(db) -> None:
    """ccib-th grades two of its three reports; pnp-acg grades its whole batch E5 and one report
    A of its own."""
    add_org(db, "ccib-th", "Royal Thai Police CCIB", "TH")
    add_org(db, "pnp-acg", "PNP Anti-Cybercrime Group", "PH")
    submit(db, Provenance(org="ccib-th", feed="th-scams"), [
        Submission(PHONE, reliability="B", credibility=2),  # no confidence: the credibility's, 70
        Submission(STRONG, reliability="C", credibility=2, confidence=95),  # its own confidence kept
        Submission(PLAIN),
    ])
    submit(db, Provenance(org="pnp-acg", reliability="E", credibility=5, confidence=grading.confidence_for(None, 5)), [
        Submission(PHONE), Submission(OTHER, reliability="A"),
    ])


def graded_rows(db, values) -> dict[str, list[tuple]]:
    return {value: [(r["org_id"], r["confidence"], r["reliability"], r["credibility"]) for r in rows]
            for value, rows in stored_rows(db, t.assertion, values).items()}


def answer(db, value: str, viewer: Viewer | None = None) -> dict:
    with db.read() as conn:
        return lookup(conn, [value], viewer or Viewer.operator(), region="TH")[0]


def shown(assertions: list[dict]) -> dict[str, tuple]:
    return {a["source"]: (a["confidence"], a.get("reliability"), a.get("credibility")) for a in assertions}


def test_submissions_store_their_grades_and_a_credibility_gives_the_confidence(db):
    seed(db)
    rows = graded_rows(db, [PHONE, STRONG, PLAIN, OTHER])
    ccib, pnp = 1, 2
    assert rows == {
        PHONE: [(ccib, 70, "B", 2), (pnp, 10, "E", 5)],
        STRONG: [(ccib, 95, "C", 2)],
        PLAIN: [(ccib, 50, None, None)],
        OTHER: [(pnp, 10, "A", 5)],  # its own reliability, the batch's credibility
    }


def test_a_report_replaces_the_grading_as_it_replaces_the_confidence(db):
    seed(db)
    same = submit(db, Provenance(org="ccib-th", feed="th-scams"), [Submission(PHONE, reliability="B", credibility=2)])
    assert [r["status"] for r in same["results"]] == ["unchanged"]
    regraded = submit(db, Provenance(org="ccib-th", feed="th-scams"), [
        Submission(PHONE, reliability="A", credibility=2), Submission(PLAIN, credibility=6)])
    assert [r["status"] for r in regraded["results"]] == ["updated", "updated"]
    assert graded_rows(db, [PHONE, PLAIN]) == {PHONE: [(1, 70, "A", 2), (2, 10, "E", 5)],
                                               PLAIN: [(1, 50, None, 6)]}  # 6 maps to no confidence
    ungraded = submit(db, Provenance(org="ccib-th", feed="th-scams"), [Submission(PHONE, confidence=70)])
    assert [r["status"] for r in ungraded["results"]] == ["updated"]
    assert graded_rows(db, [PHONE])[PHONE][0] == (1, 70, None, None)


def test_grades_are_checked_naming_the_field():
    assert grades("b", "3") == ("B", 3)
    with pytest.raises(Invalid) as bad:
        grades("X", None, "indicators[2].")
    assert bad.value.field == "indicators[2].reliability" and "'X'" in bad.value.message
    with pytest.raises(Invalid) as bad:
        grades(None, 9)
    assert bad.value.field == "credibility" and "not 9" in bad.value.message


def test_lookups_show_each_assertions_grades_and_how_they_weighed(db):
    seed(db)
    phone = answer(db, PHONE)
    (match,) = phone["matches"]
    assert shown(match["assertions"]) == {"ccib-th": (70, "B", 2), "pnp-acg": (10, "E", 5)}
    items = {item["source"]: item for item in phone["explanation"] if "source" in item}
    assert (items["ccib-th"]["reliability"], items["ccib-th"]["reliability_weight"],
            items["ccib-th"]["credibility"], items["ccib-th"]["graded_confidence"]) == ("B", 0.9, 2, 70)
    assert (items["pnp-acg"]["reliability_weight"], items["pnp-acg"]["graded_confidence"]) == (0.3, 10)
    assert items["ccib-th"]["points"] == pytest.approx(70 * items["ccib-th"]["decay"] * 0.9, abs=0.05)
    strong = answer(db, STRONG)
    (item,) = strong["explanation"]
    assert (item["confidence"], item["graded_confidence"], item["reliability_weight"]) == (95, 79, 0.75)
    assert strong["score"] == round(79 * item["decay"] * 0.75)
    # An ungraded assertion shows and weighs as before grading: no grade keys anywhere.
    plain = answer(db, PLAIN)
    assert not GRADE_KEYS & set(plain["matches"][0]["assertions"][0])
    (item,) = plain["explanation"]
    assert not GRADE_KEYS & set(item) and "graded_confidence" not in item
    assert plain["score"] == round(50 * item["decay"])


def test_search_and_an_indicators_history_show_the_grades(db):
    seed(db)
    with db.read() as conn:
        page = search_indicators(conn, Viewer.operator(), Filters.parse({"q": "grade.example"}))
        history = indicator_history(conn, PHONE, Viewer.operator(), region="TH")
    found = {r["value"]: r for r in page["indicators"]}
    assert shown(found[STRONG]["assertions"]) == {"ccib-th": (95, "C", 2)}
    assert shown(found[OTHER]["assertions"]) == {"pnp-acg": (10, "A", 5)}
    assert not GRADE_KEYS & set(found[PLAIN]["assertions"][0])
    # The search scores as the lookup does, grades weighed.
    assert found[STRONG]["score"] == answer(db, STRONG)["score"]
    assert shown(history["assertions"]) == {"ccib-th": (70, "B", 2), "pnp-acg": (10, "E", 5)}


def test_csv_and_json_lines_exports_carry_the_grades(db):
    seed(db)
    rows = list(csv.DictReader(io.StringIO(export_bytes(db, "csv", raw="1").decode())))
    header = export_bytes(db, "csv", raw="1").decode().splitlines()[0].split(",")
    assert tuple(header) == COLUMNS and header[-2:] == ["reliability", "credibility"]  # new columns at the end
    by_value = {r["value"]: r for r in rows}
    # The best grades among the exported assertions, as max_confidence is the highest.
    assert (by_value[PHONE]["reliability"], by_value[PHONE]["credibility"]) == ("B", "2")
    assert (by_value[OTHER]["reliability"], by_value[OTHER]["credibility"]) == ("A", "5")
    assert (by_value[PLAIN]["reliability"], by_value[PLAIN]["credibility"]) == ("", "")
    lines = {json.loads(line)["value"]: json.loads(line) for line in export_bytes(db, "json").decode().splitlines()}
    assert (lines[PHONE]["reliability"], lines[PHONE]["credibility"]) == ("B", 2)
    assert shown(lines[PHONE]["assertions"]) == {"ccib-th": (70, "B", 2), "pnp-acg": (10, "E", 5)}
    assert (lines[PLAIN]["reliability"], lines[PLAIN]["credibility"]) == (None, None)
    assert not GRADE_KEYS & set(lines[PLAIN]["assertions"][0])
    # An export limited to one source carries that source's grades.
    only = {json.loads(line)["value"]: json.loads(line) for line in
            export_bytes(db, "json", source="pnp-acg").decode().splitlines()}
    assert (only[PHONE]["reliability"], only[PHONE]["credibility"]) == ("E", 5)


def test_registry_exports_import_back_with_their_grades(db, tmp_path):
    seed(db)
    add_org(db, "pdrm-my", "Royal Malaysia Police", "MY")
    for fmt, name, options in (("csv", "copy.csv", {}), ("csv", "raw.csv", {"raw": "1"}), ("json", "copy.jsonl", {})):
        (tmp_path / name).write_bytes(export_bytes(db, fmt, source="ccib-th", **options))
        _, report = import_file(db, tmp_path / name, Provenance(org="pdrm-my", feed=name.replace(".", "-")))
        assert (report.new, report.rejected) == (3, 0), report.to_dict()
        with db.read() as conn:
            copied = conn.exec_driver_sql(
                "SELECT i.value, a.confidence, a.reliability, a.credibility FROM assertion a JOIN indicator i "
                f"ON i.id = a.indicator_id WHERE a.feed = '{name.replace('.', '-')}' ORDER BY i.value").fetchall()
        assert [tuple(r) for r in copied] == [(PHONE, 70, "B", 2), (STRONG, 95, "C", 2), (PLAIN, 50, None, None)]


def test_a_csv_written_before_the_grading_columns_still_imports(db, tmp_path):
    add_org(db, "ccib-th", "Royal Thai Police CCIB", "TH")
    old = tmp_path / "old.csv"
    old.write_text("value,kind,score,sources,max_confidence,tlp,labels,first_seen,last_seen,valid_until,"
                   "times_reported,allowlisted,display\r\nold-export.example,domain,40,ccib-th,80,amber,phishing,"
                   "2026-11-01T00:00:00Z,2026-11-02T00:00:00Z,,1,,\r\n")
    _, report = import_file(db, old, Provenance(org="ccib-th"))
    assert (report.new, report.rejected) == (1, 0)
    assert graded_rows(db, ["old-export.example"]) == {"old-export.example": [(1, 80, None, None)]}


def test_import_columns_keys_and_the_rows_whose_grade_is_none(db, tmp_path):
    add_org(db, "ccib-th", "Royal Thai Police CCIB", "TH")
    rows = tmp_path / "graded.jsonl"
    rows.write_text(
        '{"value": "a-jsonl.example", "reliability": "b", "credibility": 3}\n'
        '{"value": "b-jsonl.example", "credibility": 1, "confidence": 20}\n'
        '{"value": "c-jsonl.example", "reliability": "Z"}\n'
        '{"value": "d-jsonl.example", "credibility": 9}\n'
        '{"value": "e-jsonl.example"}\n')
    _, report = import_file(db, rows, Provenance(org="ccib-th", reliability="D"))
    assert (report.new, report.rejected) == (3, 2)
    assert [(r.line_no, r.reason.split(" (")[0]) for r in report.rejects] == [
        (3, "reliability must be one of A, B, C, D, E, F"), (4, "credibility must be a whole number from 1 to 6")]
    assert "'Z'" in report.rejects[0].reason and "not 9" in report.rejects[1].reason
    values = ["a-jsonl.example", "b-jsonl.example", "e-jsonl.example"]
    assert graded_rows(db, values) == {"a-jsonl.example": [(1, 50, "B", 3)], "b-jsonl.example": [(1, 20, "D", 1)],
                                       "e-jsonl.example": [(1, 50, "D", None)]}
    sheet = tmp_path / "graded.csv"
    sheet.write_text("indicator,source grade,info grade\na-csv.example,C,2\nb-csv.example,,\nc-csv.example,C,x\n")
    add_feed(db, "graded-csv", "file://" + str(sheet), "csv", provider="ccib-th", credibility=4,
             columns={"reliability": "source grade", "credibility": "info grade"})
    run = run_feed(db, "graded-csv")
    assert (run.new, run.rejected) == (2, 1) and run.rejects[0]["line"] == 4
    assert "credibility must be a whole number from 1 to 6" in run.rejects[0]["reason"]
    # The feed's credibility (4, confidence 30) for rows without their own; a row's own wins.
    assert graded_rows(db, ["a-csv.example", "b-csv.example"]) == {"a-csv.example": [(1, 70, "C", 2)],
                                                                   "b-csv.example": [(1, 30, None, 4)]}


def test_registry_import_takes_reliability_and_credibility(db, tmp_path, monkeypatch):
    add_org(db, "ccib-th", "Royal Thai Police CCIB", "TH")
    monkeypatch.setenv("REGISTRY_DATABASE_URL", db.engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("REGISTRY_INSTANCE_PATH", str(tmp_path / "instance"))
    runner = CliRunner()
    values = tmp_path / "list.txt"
    values.write_text("a-cli.example\nb-cli.example\n")
    result = runner.invoke(main, ["import", str(values), "--org", "ccib-th", "--reliability", "b", "--credibility",
                                  "2", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert graded_rows(db, ["a-cli.example"]) == {"a-cli.example": [(1, 70, "B", 2)]}
    again = runner.invoke(main, ["import", str(values), "--org", "ccib-th", "--reliability", "B", "--credibility",
                                 "2", "--confidence", "40", "--json"], catch_exceptions=False)
    assert json.loads(again.stdout)["updated"] == 2
    assert graded_rows(db, ["b-cli.example"]) == {"b-cli.example": [(1, 40, "B", 2)]}  # a given confidence wins
    text = runner.invoke(main, ["lookup", "a-cli.example"], catch_exceptions=False).output
    assert "confidence 40, graded B2," in text
    for flag, value, said in (("--reliability", "G", "not 'G'"), ("--credibility", "7", "not '7'")):
        bad = runner.invoke(main, ["import", str(values), "--org", "ccib-th", flag, value])
        assert bad.exit_code == 2 and flag in bad.output and said in bad.output, bad.output


def test_a_feed_grades_its_rows_and_a_misp_feed_carries_the_grading_both_ways(db, tmp_path):
    seed(db)
    listing = tmp_path / "list.txt"
    listing.write_text("a-feed.example\n")
    add_feed(db, "graded-list", "file://" + str(listing), "text", provider="pnp-acg", reliability="c", credibility=3)
    assert run_feed(db, "graded-list").new == 1
    assert graded_rows(db, ["a-feed.example"]) == {"a-feed.example": [(2, 50, "C", 3)]}
    (listed,) = [f for f in list_feeds(db, Viewer.operator()) if f["name"] == "graded-list"]
    assert (listed["confidence"], listed["reliability"], listed["credibility"]) == (50, "C", 3)
    # The MISP feed export tags each attribute with the best grading (MISP's admiralty-scale
    # taxonomy); a MISP feed of it, read by another org, stores the same grades.
    folder = tmp_path / "misp"
    exports.write_misp_folder(db, Viewer.operator(), exports.ExportQuery.parse({"source": "ccib-th"}), folder)
    (event_file,) = [p for p in folder.glob("*.json") if p.name != "manifest.json"]
    tags = {a["value"]: [t["name"] for t in a["Tag"]] for a in json.loads(event_file.read_bytes())["Event"]["Attribute"]}
    assert tags[PHONE][-2:] == ['admiralty-scale:source-reliability="b"', 'admiralty-scale:information-credibility="2"']
    assert not any(tag.startswith("admiralty-scale:") for tag in tags[PLAIN])
    add_org(db, "pdrm-my", "Royal Malaysia Police", "MY")
    add_feed(db, "misp-copy", "file://" + str(folder / "manifest.json"), "misp", provider="pdrm-my")
    assert run_feed(db, "misp-copy").new == 3
    with db.read() as conn:
        copied = dict(conn.exec_driver_sql(
            "SELECT i.value, a.reliability || ':' || COALESCE(CAST(a.credibility AS VARCHAR(2)), '-') FROM assertion a "
            "JOIN indicator i ON i.id = a.indicator_id WHERE a.feed = 'misp-copy' AND a.reliability IS NOT NULL"
        ).fetchall())
    assert copied == {PHONE: "B:2", STRONG: "C:2"}
