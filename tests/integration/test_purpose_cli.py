"""A lookup's purpose on SQLite and PostgreSQL: `registry lookup --purpose --case-ref` records
them, `registry org set --require-purpose` sets an org's requirement (audited, listed, carried by
its keys at once), the audit chain covers them. The API and the web page: tests/web/test_purpose_http.py."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, update

from registry.services.access import ON_SERVER
from registry.services.audit import events, verify
from registry.services.errors import Forbidden, NotFound
from registry.services.keys import KeyAuthenticator, Principal, create_key
from registry.services.orgs import set_org
from registry.storage import tables as t
from tests.helpers import add_member_orgs


@pytest.fixture
def cli(cli, db):
    """The command line (tests/integration/conftest.py) with the member orgs."""
    add_member_orgs(db)
    return cli


def _rows(db, action: str) -> list[dict]:
    return [e for e in events(db, {"action": action, "limit": "1000"})["events"]]


def test_cli_lookup_records_its_purpose_and_case_ref(cli, db):
    cli("lookup", "--json", "purpose-cli.example", "1.2.3.4", "--purpose", " victim complaint triage ",
        "--case-ref", "CCIB-2026-114")
    cli("lookup", "plain-cli.example")
    cli("lookup", "only-purpose.example", "--purpose", "sweep")
    newest, plain, first = _rows(db, "lookup")
    assert first["subject"] == {"purpose": "victim complaint triage", "case_ref": "CCIB-2026-114",
                                "values": ["purpose-cli.example", "1.2.3.4"]}
    assert first["actor"].startswith("cli:") and first["client"] == "cli" and first["org"] is None
    assert first["result_count"] == 0
    assert plain["subject"] == ["plain-cli.example"]  # no purpose: the values, as before
    assert newest["subject"] == {"purpose": "sweep", "case_ref": None, "values": ["only-purpose.example"]}
    long = cli("lookup", "x.example", "--purpose", "p" * 501, code=2)
    assert "--purpose must be at most 500 characters (got 501)" in long.output
    assert len(_rows(db, "lookup")) == 3  # refused before anything was looked up
    assert json.loads(cli("audit", "verify", "--json").stdout)["ok"] is True


def test_org_set_requires_a_purpose_lists_and_audits_it(cli, db):
    out = cli("org", "set", "ccib-th", "--require-purpose").stdout
    assert out.strip() == "org ccib-th: lookups by its users and keys must give a purpose and a case reference"
    listed = {o["slug"]: o["require_purpose"] for o in json.loads(cli("org", "list", "--json").stdout)}
    assert listed == {"ccib-th": True, "pdrm-my": False}
    assert "ccib-th" in cli("org", "list").stdout.splitlines()[0] and "(lookups need a purpose)" in cli("org", "list").stdout
    # The command line is the operator's, of no org: its lookups are never refused.
    cli("lookup", "operator-own.example")
    off = cli("org", "set", "ccib-th", "--no-require-purpose").stdout
    assert "need not give a purpose" in off
    assert [r["subject"] for r in reversed(_rows(db, "org-set"))] == [
        {"org": "ccib-th", "require_purpose": True}, {"org": "ccib-th", "require_purpose": False}]
    assert "--require-purpose or --no-require-purpose" in cli("org", "set", "ccib-th", code=2).output
    assert "unknown org 'nobody'" in cli("org", "set", "nobody", "--require-purpose", code=2).output
    assert verify(db).ok


def test_the_audit_chain_covers_the_purpose(cli, db):
    cli("lookup", "chain.example", "--purpose", "fraud triage", "--case-ref", "PDRM-KL-0457")
    assert verify(db).ok
    row = _rows(db, "lookup")[0]
    with db.write() as conn:
        stored = conn.execute(select(t.audit_event.c.subject).where(t.audit_event.c.id == row["id"])).scalar_one()
        conn.execute(update(t.audit_event).where(t.audit_event.c.id == row["id"])
                     .values(subject=stored.replace("fraud triage", "routine check")))
    broken = verify(db)
    assert not broken.ok and broken.row_id == row["id"] and "was altered" in broken.problem


def test_a_keys_org_setting_reaches_its_principal_at_once(db):
    add_member_orgs(db)
    key = create_key(db, "ccib-th", "reader", by=ON_SERVER)["key"]
    other = create_key(db, "pdrm-my", "reader", by=ON_SERVER)["key"]
    keys = KeyAuthenticator(db)
    assert keys.authenticate(key).require_purpose is False  # now remembered with its row
    set_org(db, "ccib-th", require_purpose=True)
    assert keys.authenticate(key).require_purpose is True  # the next request knows
    assert keys.authenticate(other).require_purpose is False
    set_org(db, "pdrm-my", require_purpose=True)
    set_org(db, "ccib-th", require_purpose=False)
    assert (keys.authenticate(key).require_purpose, keys.authenticate(other).require_purpose) == (False, True)


def test_who_may_change_an_orgs_setting(db):
    add_member_orgs(db)
    own_admin = Principal(org="ccib-th", role="admin", max_tlp="red", actor="reg_admin")
    assert set_org(db, "ccib-th", require_purpose=True, by=own_admin).require_purpose is True
    with pytest.raises(Forbidden, match="only the registry's operators and pdrm-my's admins"):
        set_org(db, "pdrm-my", require_purpose=True, by=own_admin)
    with pytest.raises(Forbidden):
        set_org(db, "ccib-th", require_purpose=False, by=Principal(org="ccib-th", role="contributor", max_tlp="red",
                                                                   actor="reg_contrib"))
    operator = Principal(org="registry-ops", role="operator", max_tlp="red", actor="reg_ops")
    assert set_org(db, "pdrm-my", require_purpose=True, by=operator).require_purpose is True
    with pytest.raises(NotFound):
        set_org(db, "nobody", require_purpose=True)
