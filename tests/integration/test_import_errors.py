"""`registry import` of a bad file, as the installed command on SQLite and PostgreSQL: one line on
stderr naming the file (and line) and what is wrong, no traceback, exit 2, nothing written; a
file nothing could be used from exits 1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from registry.services.orgs import add_org

REGISTRY = Path(sys.executable).parent / "registry"
DEEP = "[" * 1000 + "]" * 1000
BUNDLE = '{"type": "bundle", "id": "bundle--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "objects": %s}'
INDICATOR = ('{"type": "indicator", "spec_version": "2.1", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3a", '
             '"created": "2026-01-01T00:00:00Z", "modified": "2026-01-01T00:00:00Z", "pattern_type": "stix", '
             '"pattern": "[domain-name:value = \'far.example\']", "valid_from": %s}')

# (file name, content, extra options, what the one line says)
BAD_FILES = [
    ("deep.jsonl", '{"value": ' + DEEP + "}\n", [], "deep.jsonl: line 1: JSON nested deeper than 100 levels"),
    ("deep-second.jsonl", '{"value": "a.example"}\n{"value": ' + DEEP + "}\n", [],
     "deep-second.jsonl: line 2: JSON nested deeper than 100 levels"),
    ("deep-forced.jsonl", '{"value": ' + DEEP + "}\n", ["--format", "jsonl"],
     "deep-forced.jsonl: line 1: JSON nested deeper than 100 levels"),
    ("deep.json", "\n\n" + DEEP, [], "deep.json: line 3: JSON nested deeper than 100 levels"),
    ("deep-bundle.json", BUNDLE % f"[{DEEP}]", [], "deep-bundle.json: line 1: JSON nested deeper than 100 levels"),
    ("deep-stix.json", BUNDLE % f"[{DEEP}]", ["--format", "stix"],
     "deep-stix.json: JSON nested deeper than 100 levels"),
    ("number-object.json", BUNDLE % "[5]", [], "number-object.json: objects[0] is a number, not a STIX object"),
    ("list.json", '[["a.example"]]', [], "list.json: JSON that is not a STIX bundle"),
]


@pytest.fixture
def run(db, tmp_path):
    add_org(db, "ccib-th", "Royal Thai Police CCIB", "TH")
    env = {**os.environ, "REGISTRY_DATABASE_URL": db.engine.url.render_as_string(hide_password=False),
           "REGISTRY_INSTANCE_PATH": str(tmp_path / "instance")}

    def invoke(path: Path, *options: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(REGISTRY), "import", str(path), "--org", "ccib-th", *options], env=env,
                              capture_output=True, text=True, timeout=120)

    return invoke


def indicators(db) -> int:
    with db.read() as conn:
        return conn.execute(text("SELECT count(*) FROM indicator")).scalar_one()


def test_bad_files_are_one_line_and_exit_2(db, run, tmp_path):
    for name, content, options, said in BAD_FILES:
        path = tmp_path / name
        path.write_text(content)
        done = run(path, *options)
        assert done.returncode == 2, (name, done.stderr[-2000:])
        assert done.stderr.strip().splitlines() == [done.stderr.strip()], (name, done.stderr[-2000:])
        assert said in done.stderr and "Traceback" not in done.stderr, (name, done.stderr)
    assert indicators(db) == 0


def test_a_stix_time_past_year_9999_costs_the_object_that_time_not_a_traceback(db, run, tmp_path):
    path = tmp_path / "far.json"
    path.write_text(BUNDLE % f"[{INDICATOR % json.dumps('9999-12-31T23:59:59-14:00')}]")
    done = run(path, "--json")
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout)["new"] == 1


def test_a_file_nothing_could_be_used_from_exits_1(db, run, tmp_path):
    for name, content in (("objects.jsonl", '[1]\n"x"\n{"value": 5}\n'), ("short.csv", "value,kind\n,ipv4\n,url\n")):
        path = tmp_path / name
        path.write_text(content)
        done = run(path, "--json")
        assert done.returncode == 1, (name, done.stdout, done.stderr)
        report = json.loads(done.stdout)
        assert (report["new"], report["rejected"]) == (0, content.count("\n") - name.endswith(".csv"))
