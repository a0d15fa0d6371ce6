"""CSV exports are safe to open in a spreadsheet, `raw` gives the exact values, and `registry
import` reads both forms back to the same values (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io
import re

import orjson
import pytest
from click.testing import CliRunner

from registry.cli import main
from registry.domain.tlp import Viewer
from registry.services import exports
from registry.services.errors import Invalid
from registry.services.orgs import add_org
from registry.services.submit import Provenance, Submission, Submitter
from registry.storage.db import Database
from tests.exports.support import export_bytes

# Values a spreadsheet would run or mangle, each a valid indicator: e-mail local parts may start
# with anything, every E.164 number starts with +.
HOSTILE = [
    "=2*3+cmd|x!A0@evil.example",  # the classic payload: runs a command in old Excel
    "-1+1@evil.example",
    "+cmd@evil.example",
    "\uff1d1+2@evil.example",  # full-width =
    "'=1+2@evil.example",  # already quoted: must come back with its own quote
    "''@evil.example",
    "+66812345678",
    "plain@evil.example",
    "evil.example",
]
LABELS = ("call-centre-scam", "phishing")
# What spreadsheets take as the start of a formula (OWASP's list, and the full-width signs).
FORMULA_STARTS = set("=+-@\t\r\uff1d\uff0b\uff0d\uff20")


@pytest.fixture
def hostile(db):
    add_org(db, "ccib-th", "Royal Thai Police CCIB", "TH")
    with db.write() as conn:
        submitter = Submitter(conn, Provenance(org="ccib-th", tlp="green", confidence=80, labels=LABELS))
        for value in HOSTILE:
            submitter.add(Submission(value))
        report = submitter.finish()
    assert report.new == len(HOSTILE), report.to_dict()
    return db


def rows(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode())))


def test_no_cell_of_the_default_csv_starts_a_formula(hostile, tmp_path):
    data = export_bytes(hostile, "csv")
    records = rows(data)
    assert len(records) == len(HOSTILE)
    for record in records:
        for column, cell in record.items():
            assert cell[:1] not in FORMULA_STARTS, (column, cell)
    values = {r["value"] for r in records}
    assert "'=2*3+cmd|x!A0@evil.example" in values and "'+66812345678" in values
    assert "'\uff1d1+2@evil.example" in values and "''=1+2@evil.example" in values
    assert "evil.example" in values and "plain@evil.example" in values  # nothing to guard: as they are
    # Every cell is quoted, the header too: that quoted header is how the import knows this form.
    for line in data.decode().split("\r\n")[:-1]:
        assert re.fullmatch(r'"(?:[^"]|"")*"(?:,"(?:[^"]|"")*")*', line), line
    # The MISP feed's hashes.csv holds md5 digests and uuids only: nothing there to guard.
    exports.write_misp_folder(hostile, Viewer.operator(), exports.ExportQuery(), tmp_path / "misp")
    cells = [c for line in (tmp_path / "misp" / "hashes.csv").read_text().splitlines() for c in line.split(",")]
    assert len(cells) == 2 * len(HOSTILE) and all(re.fullmatch(r"[0-9a-f-]+", c) for c in cells)


def test_raw_gives_the_exact_values_as_before(hostile):
    data = export_bytes(hostile, "csv", raw="true")
    assert data.startswith(b"value,kind,score,")
    assert sorted(r["value"] for r in rows(data)) == sorted(HOSTILE)
    with pytest.raises(Invalid) as refused:
        exports.ExportQuery.parse({"raw": "maybe"})
    assert (refused.value.field, refused.value.message) == ("raw", "raw must be true or false")


@pytest.mark.parametrize("form", ["spreadsheet", "raw"])
def test_registry_import_reads_both_forms_back_exactly(hostile, tmp_path, monkeypatch, form):
    exported = export_bytes(hostile, "csv", **({"raw": "true"} if form == "raw" else {}))
    assert (b"'+66812345678" in exported) == (form == "spreadsheet")
    path = tmp_path / "export.csv"
    path.write_bytes(exported)
    other = tmp_path / "other.db"
    monkeypatch.setenv("REGISTRY_DATABASE_URL", f"sqlite:///{other}")
    monkeypatch.setenv("REGISTRY_INSTANCE_PATH", str(tmp_path / "instance"))
    runner = CliRunner()
    assert runner.invoke(main, ["org", "add", "hub-a", "--name", "Hub A", "--country", "TH"]).exit_code == 0
    result = runner.invoke(main, ["import", str(path), "--org", "hub-a", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    report = orjson.loads(result.stdout)
    assert (report["format"], report["new"], report["rejected"]) == ("csv", len(HOSTILE), 0), report
    copy = Database(f"sqlite:///{other}")
    try:
        again = rows(export_bytes(copy, "csv", raw="true"))
    finally:
        copy.dispose()
    assert sorted(r["value"] for r in again) == sorted(HOSTILE)
    assert {r["labels"] for r in again} == {",".join(LABELS)} and {r["max_confidence"] for r in again} == {"80"}
    # An explicit --column does not change how the quotes are read: the same indicators again.
    result = runner.invoke(main, ["import", str(path), "--org", "hub-a", "--column", "value", "--json"],
                           catch_exceptions=False)
    again = orjson.loads(result.stdout)
    assert (again["read"], again["new"], again["rejected"]) == (len(HOSTILE), 0, 0), result.output
