"""`registry watch add|list|remove` through Click's runner on SQLite and PostgreSQL: the issue's
examples (a number block narrowed by a label; a network; a label alone), what they route, errors
as one line with exit status 2, the operator's audit rows (docs/cli.md, "Watches")."""

from __future__ import annotations

import json

from registry.domain import events as ev
from registry.domain.kinds import IPV4, PHONE
from registry.domain.times import utcnow
from registry.domain.tlp import AMBER, GREEN, Viewer
from registry.services import events
from registry.services.audit import events as audit_events
from registry.storage import events as event_store
from registry.storage import orgs as org_store
from tests.helpers import add_member_orgs


def _event(kind, value, labels=()):
    return ev.NewEvent(type=ev.REPORTED, time=utcnow(), tlp=GREEN, source="pdrm-my", org="pdrm-my", kind=kind,
                       value=value, labels=labels)


def test_add_list_remove_as_the_issue_writes_them(cli, db):
    add_member_orgs(db)
    block = json.loads(cli("watch", "add", "--org", "ccib-th", "+85597*", "--label", "call-centre-scam",
                           "--json").stdout)
    assert (block["value"], block["label"], block["labels"]) == ("+85597*", None, ["call-centre-scam"])
    assert block["actor"].startswith("cli:")
    net = cli("watch", "add", "--org", "ccib-th", "103.21.0.0/16").stdout
    assert net.startswith("watching 103.21.0.0/16 (ipv4): watch ")
    net_id = net.rstrip().rsplit(" ", 1)[1]
    label = cli("watch", "add", "--org", "ccib-th", "--label", "mule-account", "--kind", "bank-account",
                "--source", "pdrm-my").stdout
    assert label.startswith("watching label mule-account, only kinds bank-account; sources pdrm-my: watch ")
    again = cli("watch", "add", "--org", "ccib-th", "+855 97*", "--label", "Call Centre Scam").stdout
    assert again == f"already watching +85597* (phone), only labels call-centre-scam: watch {block['id']}\n"

    listed = json.loads(cli("watch", "list", "--org", "ccib-th", "--json").stdout)
    assert [w["id"] for w in listed] == [block["id"], net_id, label.rstrip().rsplit(" ", 1)[1]]
    text = cli("watch", "list", "--org", "ccib-th").stdout.splitlines()
    assert text[0].startswith(block["id"]) and text[0].endswith("+85597* (phone), only labels call-centre-scam")
    assert cli("watch", "list", "--org", "pdrm-my").stdout == "pdrm-my watches nothing\n"

    with db.read() as conn:
        ccib, after = org_store.get(conn, "ccib-th").id, event_store.head(conn)
    with db.write() as conn:
        events.emit(conn, [_event(PHONE, "+855971234567", ("call-centre-scam",)), _event(PHONE, "+855971234568"),
                           _event(IPV4, "103.21.9.9")])
    with db.read() as conn:
        got, _ = events.read(conn, Viewer("ccib-th", AMBER), ccib, after=after)
    assert [(e["value"], e["watches"]) for e in got] == [("+855971234567", [block["id"]]), ("103.21.9.9", [net_id])]

    assert cli("watch", "remove", "--org", "ccib-th", net_id).stdout == f"removed watch {net_id}: 103.21.0.0/16 (ipv4)\n"
    assert cli("watch", "remove", "--org", "pdrm-my", block["id"], code=2).output == (
        f"Error: no watch '{block['id']}' of pdrm-my\n")  # another org's: unknown there
    added = audit_events(db, action="watch-add")["events"]
    assert sorted((e["subject"]["org"], e["subject"]["new"], e["client"]) for e in added) == [
        ("ccib-th", False, "cli"), ("ccib-th", True, "cli"), ("ccib-th", True, "cli"), ("ccib-th", True, "cli")]
    removed = audit_events(db, action="watch-remove")["events"]
    assert [(e["subject"]["id"], e["subject"]["value"], e["actor"].startswith("cli:")) for e in removed] == [
        (net_id, "103.21.0.0/16", True)]


def test_errors_are_one_line_with_status_2(cli, db):
    add_member_orgs(db)
    assert cli("watch", "add", "--org", "ccib-th", "--label", "a", "--label", "b", code=2).output.endswith(
        "a label watch watches one label: give one --label, or a VALUE to narrow by labels\n")
    assert cli("watch", "add", "--org", "ccib-th", code=2).output.startswith("Error: give the value to watch")
    assert cli("watch", "add", "--org", "nobody", "evil.example", code=2).output.startswith("Error: unknown org 'nobody'")
    assert cli("watch", "add", "--org", "ccib-th", "evil.example", "--source", "nobody", code=2).output == (
        "Error: sources: no org 'nobody'; give the slugs of orgs that report (such as ccib-th)\n")
    assert "Invalid value for '--kind'" in cli("watch", "add", "--org", "ccib-th", "x.example", "--kind", "ip",
                                               code=2).output
    assert cli("watch", "add", "--org", "ccib-th", "not a value", code=2).output.startswith(
        "Error: value: 'not a value' is not a valid indicator: not a recognised indicator")
    assert cli("watch", "list", "--org", "ccib-th").stdout == "ccib-th watches nothing\n"
