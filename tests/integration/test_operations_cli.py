"""`registry op create|add|remove|show|list|close|reopen|note`, `registry link` and `registry
unlink` end to end through Click's runner on SQLite and PostgreSQL: the issue's own example,
what `op show` tells (members, links, who reported what, recent activity), `registry lookup`
naming the operation, errors with exit status 2, every command audited (docs/cli.md, "Operations")."""

from __future__ import annotations

import json

from registry.services.audit import events
from registry.services.submit import Provenance, Submission, submit
from tests.helpers import add_member_orgs


def test_the_issue_example_end_to_end(cli, db):
    add_member_orgs(db)
    with db.write() as conn:
        submit(conn, Provenance(org="pdrm-my", region="TH"), [Submission(value="kbank-verify.example", tlp="amber",
                                                                           confidence=80)])
    uid = cli("op", "create", "Compound K7, Sihanoukville", "--org", "ccib-th", "--tlp", "amber",
              "--label", "call-centre-scam").stdout.strip()
    assert len(uid) == 36
    added = cli("op", "add", uid, "+855971234567", "KBank 123-4-56789-0", "t.me/k7_support", "kbank-verify.example",
                "not a value", "--region", "TH").stdout
    assert added.splitlines() == ["added +855971234567", "added acct:TH:KASI:1234567890", "added telegram:k7_support",
                                  "added kbank-verify.example", "rejected not a value: 'not a value' is not a valid "
                                  "indicator: not a recognised indicator (contains whitespace)"]
    assert "already +855971234567" in cli("op", "add", uid, "+855 97 123 4567").stdout
    linked = cli("link", "+855971234567", "KBank 123-4-56789-0", "--type", "pays-to", "--org", "ccib-th",
                 "--tlp", "amber", "--region", "TH").stdout
    relationship_id = linked.split()[0]
    assert linked.strip().endswith("(new): +855971234567 --pays-to--> acct:TH:KASI:1234567890")
    again = json.loads(cli("link", "+855971234567", "KBank 123-4-56789-0", "--type", "pays-to", "--org", "ccib-th",
                           "--confidence", "90", "--region", "TH", "--json").stdout)
    assert (again["id"], again["status"], again["confidence"]) == (relationship_id, "updated", 90)
    cli("op", "note", uid, "three victims paid into the KBank account")

    shown = cli("op", "show", uid).stdout
    assert f"operation {uid}: Compound K7, Sihanoukville" in shown
    assert "open, ccib-th, TLP:AMBER, labels call-centre-scam" in shown and "members (4):" in shown
    assert "kbank-verify.example  [domain]  LISTED score 80, reported by pdrm-my" in shown
    assert "+855971234567  [phone]  not listed  (added by ccib-th" in shown
    assert "+855971234567 --pays-to--> acct:TH:KASI:1234567890  (ccib-th, TLP:AMBER, confidence 90)" in shown
    assert "ccib-th: three victims paid into the KBank account" in shown
    activity = shown.split("recent activity:\n")[1]
    assert "pdrm-my reported kbank-verify.example" in activity and "ccib-th added a note" in activity
    assert "ccib-th linked +855971234567 --pays-to--> acct:TH:KASI:1234567890" in activity
    as_json = json.loads(cli("op", "show", uid, "--json").stdout)
    assert as_json["member_count"] == 4 and as_json["notes"][0]["actor"].startswith("cli:")

    looked = cli("lookup", "+855971234567").stdout
    assert f"operation: Compound K7, Sihanoukville ({uid}, ccib-th, TLP:AMBER)" in looked
    assert "related: 1 relationship(s)" in looked
    answer = json.loads(cli("lookup", "--json", "t.me/k7_support").stdout)[0]
    assert [o["id"] for o in answer["operations"]] == [uid] and answer["related"] == 0

    listed = cli("op", "list").stdout.splitlines()
    assert listed[0].startswith("id ") and listed[1].startswith(f"{uid}  open   ccib-th")
    assert [o["id"] for o in json.loads(cli("op", "list", "--org", "ccib-th", "--label", "call-centre-scam",
                                            "--value", "t.me/k7_support", "--json").stdout)] == [uid]
    assert json.loads(cli("op", "list", "--org", "pdrm-my", "--json").stdout) == []
    assert cli("op", "close", uid).stdout.strip() == f"{uid} closed"
    assert [o["id"] for o in json.loads(cli("op", "list", "--status", "closed", "--json").stdout)] == [uid]
    assert json.loads(cli("op", "reopen", uid, "--json").stdout)["status"] == "open"
    assert cli("op", "remove", uid, "t.me/k7_support").stdout.strip() == "removed t.me/k7_support"
    assert json.loads(cli("op", "show", uid, "--json").stdout)["member_count"] == 3
    assert cli("unlink", relationship_id).stdout.strip() == f"removed {relationship_id}"
    assert "related" not in cli("lookup", "+855971234567").stdout

    for action in ("operation-create", "operation-add", "relationship-link", "operation-note", "operations-read",
                   "operation-status", "operation-remove", "relationship-unlink"):
        rows = events(db, action=action)["events"]
        assert rows and all(r["actor"].startswith("cli:") and r["client"] == "cli" for r in rows), action
    made = events(db, action="operation-create")["events"][0]["subject"]
    assert made == {"id": uid, "name": "Compound K7, Sihanoukville", "org": "ccib-th", "tlp": "amber"}


def test_errors_exit_2_with_one_line(cli, db):
    add_member_orgs(db)
    assert "unknown TLP 'purple'" in cli("op", "create", "x", "--org", "ccib-th", "--tlp", "purple", code=2).output
    assert "unknown org 'nobody'" in cli("op", "create", "x", "--org", "nobody", code=2).output
    assert "Missing option '--org'" in cli("op", "create", "x", code=2).output
    assert cli("op", "show", "no-such-id", code=2).output.strip() == "Error: no operation 'no-such-id'"
    assert "no operation" in cli("op", "add", "no-such-id", "1.2.3.4", code=2).output
    uid = cli("op", "create", "x", "--org", "ccib-th").stdout.strip()
    assert "is not a member" in cli("op", "remove", uid, "1.2.3.4", code=2).output
    assert "not a valid indicator" in cli("op", "remove", uid, "zzz", code=2).output
    assert "text must not be empty" in cli("op", "note", uid, " ", code=2).output
    assert "unknown relationship type 'owns'" in cli("link", "a.example", "b.example", "--type", "owns", "--org",
                                                     "ccib-th", code=2).output
    assert "a value is not linked to itself" in cli("link", "a.example", "a.example", "--type", "hosts", "--org",
                                                    "ccib-th", code=2).output
    assert "no relationship" in cli("unlink", "no-such-id", code=2).output
