"""`registry feeds sync|list|run|runs` through Click's runner: JSON only on stdout with --json,
exit status 1 when a run fails, 2 for bad usage."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from registry.cli import main
from tests.helpers import FIXTURES

TOML = """\
name = "{name}"
provider = "spamhaus"
provider_name = "The Spamhaus Project"
url = "{url}"
format = "text"
schedule = "every 6h"
confidence = 80
tlp = "clear"
labels = ["spam-infrastructure"]
"""


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.setenv("REGISTRY_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("REGISTRY_INSTANCE_PATH", str(tmp_path / "instance"))
    folder = tmp_path / "feeds"
    folder.mkdir()
    (folder / "drop.toml").write_text(TOML.format(name="drop", url="file://" + str(
        FIXTURES / "spamhaus/spamhaus_drop_2025-01-17.txt")))
    (folder / "broken.toml").write_text(TOML.format(name="broken", url="file://" + str(tmp_path / "missing.txt")))
    runner = CliRunner()

    def invoke(*args, code=0):
        result = runner.invoke(main, [str(a) for a in args], catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result

    invoke("feeds", "sync", "--path", folder)
    return invoke


def test_sync_list_run_runs(cli, tmp_path):
    again = cli("feeds", "sync", "--path", tmp_path / "feeds", "--json")
    assert json.loads(again.stdout)["unchanged"] == ["broken", "drop"]
    run = json.loads(cli("feeds", "run", "drop", "--json").stdout)
    assert {k: run[k] for k in ("status", "rows", "read", "new", "updated", "unchanged", "allowlisted", "rejected",
                                "expired", "rejects")} == {
        "status": "ok", "rows": 1385, "read": 1385, "new": 1385, "updated": 0, "unchanged": 0, "allowlisted": 0,
        "rejected": 0, "expired": 0, "rejects": []}
    text = cli("feeds", "run", "drop").stdout
    assert text.startswith("drop run 2: not-modified (0 bytes")
    listed = json.loads(cli("feeds", "list", "--json").stdout)
    assert [(f["name"], f["last_run"]["status"] if f["last_run"] else None) for f in listed] == [
        ("broken", None), ("drop", "not-modified")]
    assert listed[1]["last_ok_run"]["rows"] == 1385
    table = cli("feeds", "list").stdout.splitlines()
    assert table[0].split()[:3] == ["feed", "format", "schedule"] and "never run" in table[1]
    assert [f["health"] for f in listed] == ["never run", "ok"]
    assert "1,385" in table[2]  # the last complete run's rows beside a not-modified status
    runs = json.loads(cli("feeds", "runs", "drop", "--json").stdout)
    assert [r["status"] for r in runs] == ["not-modified", "ok"]
    lines = cli("feeds", "runs", "drop", "--limit", "1").stdout.splitlines()
    assert lines[0].split()[:3] == ["started", "status", "HTTP"] and len(lines) == 2 and "not-modified" in lines[1]


def test_a_failed_run_exits_1_and_bad_usage_exits_2(cli):
    failed = cli("feeds", "run", "broken", "--json", code=1)
    data = json.loads(failed.stdout)
    assert data["status"] == "failed" and "missing.txt: No such file or directory" in data["error"]
    assert "error: " in cli("feeds", "run", "broken", code=1).stdout
    assert "no feed 'nope'" in cli("feeds", "run", "nope", code=2).output
    assert "no feed 'nope'" in cli("feeds", "runs", "nope", code=2).output
    assert "no such catalogue folder" in cli("feeds", "sync", "--path", "/nonexistent", code=2).output
