"""`registry disputes list|show|decide|flag` and `registry import`'s held count, through Click's
runner on SQLite and PostgreSQL; the scheduler's hourly flagging (docs/cli.md, "disputes")."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from registry import config
from registry.domain.times import utcnow
from registry.scheduler import FeedScheduler
from registry.services import disputes
from registry.services.audit import events
from registry.services.keys import Principal
from registry.services.submit import Provenance, Submission, submit
from registry.storage import tables as t
from tests.helpers import add_member_orgs

VALUE = "+66813334455"


@pytest.fixture
def disputed(db):
    """ccib-th and pdrm-my report VALUE; pdrm-my's reader disputes it."""
    add_member_orgs(db)
    for org in ("ccib-th", "pdrm-my"):
        with db.write() as conn:
            submit(conn, Provenance(org=org, region="TH"), [Submission(value=VALUE)])
    reader = Principal(org="pdrm-my", role="reader", max_tlp="amber", actor="aisyah")
    return disputes.open_dispute(db, VALUE, reason="a wrong digit in case PDRM-77", by=reader)


def test_list_show_decide_and_import_held(cli, db, disputed, tmp_path):
    looked = cli("lookup", VALUE).stdout
    assert f"LISTED, DISPUTED since {disputed['since'][:10]} (dispute {disputed['id']})" in looked
    listed = json.loads(cli("disputes", "list", "--status", "open", "--json").stdout)
    assert [(d["id"], d["awaiting"], d["disputer"]["org"]) for d in listed] == [
        (disputed["id"], ["ccib-th", "pdrm-my"], "pdrm-my")]
    shown = cli("disputes", "show", disputed["id"]).stdout
    assert "disputed by pdrm-my (aisyah): a wrong digit in case PDRM-77" in shown and "awaiting: ccib-th, pdrm-my" in shown

    decided = cli("disputes", "decide", disputed["id"], "delist", "--org", "ccib-th", "--note", "agreed").stdout
    assert decided.startswith("delist: 1 assertion(s) of ccib-th") and "awaiting: pdrm-my" in decided
    with db.read() as conn:
        ended = conn.execute(t.assertion.select().where(t.assertion.c.end_reason == "delisted")).all()
    assert len(ended) == 1
    assert "open" in cli("disputes", "show", disputed["id"]).stdout.splitlines()[0]

    numbers = tmp_path / "numbers.txt"
    numbers.write_text(f"{VALUE}\n+66813334466\n")
    text = cli("import", numbers, "--org", "ccib-th").stdout
    assert "new 1," in text and "held 1" in text
    report = json.loads(cli("import", numbers, "--org", "ccib-th", "--json").stdout)
    assert (report["held"], report["unchanged"]) == (1, 1)

    closed = json.loads(cli("disputes", "decide", disputed["id"], "uphold", "--json").stdout)
    assert closed["status"] == "closed" and closed["applied"]["orgs"] == ["pdrm-my"]
    assert cli("disputes", "decide", disputed["id"], "delist", code=2).output.startswith("Error: dispute")

    held = events(db, action="held")["events"]
    assert [(e["subject"]["org"], e["subject"]["values"], e["client"]) for e in held] == [
        ("ccib-th", [VALUE], "cli"), ("ccib-th", [VALUE], "cli")]
    made = events(db, action="decision")["events"]
    assert [(e["subject"]["decision"], e["subject"]["orgs"], e["actor"].startswith("cli:")) for e in made] == [
        ("delist", ["ccib-th"], True), ("uphold", ["pdrm-my"], True)]


def _age(db, dispute_id: str, days: int) -> None:
    with db.write() as conn:
        conn.execute(t.dispute.update().where(t.dispute.c.uid == dispute_id)
                     .values(created=utcnow() - timedelta(days=days)))


def test_flag_overdue_from_the_command_and_the_scheduler(cli, db, disputed, monkeypatch):
    assert cli("disputes", "flag").stdout.strip() == "no dispute is overdue"
    _age(db, disputed["id"], 11)
    flagged = cli("disputes", "flag").stdout
    assert flagged.startswith(f"flagged {disputed['id']} ({VALUE}") and flagged.rstrip().endswith("ccib-th, pdrm-my")
    listed = json.loads(cli("disputes", "list", "--json").stdout)[0]
    assert listed["overdue"] and listed["flagged"]
    overdue = events(db, action="dispute-overdue")["events"]
    assert sorted(e["org"] for e in overdue) == ["ccib-th", "pdrm-my"]

    # The scheduler's hourly job does the same for a newer dispute (a longer REGISTRY_DISPUTE_DAYS).
    with db.write() as conn:
        submit(conn, Provenance(org="ccib-th", region="TH"), [Submission(value="overdue-too.example")])
    reader = Principal(org="pdrm-my", role="reader", max_tlp="amber", actor="aisyah")
    second = disputes.open_dispute(db, "overdue-too.example", reason="a shop's domain", by=reader)
    _age(db, second["id"], 20)
    scheduler = FeedScheduler(db, settings=config.load({"DISPUTE_DAYS": "15"}))
    scheduler._flag_disputes()
    overdue = [e for e in events(db, action="dispute-overdue")["events"] if e["subject"]["id"] == second["id"]]
    assert [(e["org"], e["actor"]) for e in overdue] == [("ccib-th", "scheduler")]
