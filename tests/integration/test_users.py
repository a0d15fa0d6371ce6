"""Web users on SQLite and PostgreSQL: added with a scrypt hash, signed in, disabled; the
`registry user` commands."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from registry.cli import main
from registry.services import users
from registry.services.access import ON_SERVER
from registry.services.errors import Conflict, Invalid, NotFound
from registry.services.orgs import add_org

PASSWORD = "correct horse battery staple"


def test_add_authenticate_disable(db):
    add_org(db, "ccib-th", "Royal Thai Police CCIB", "TH")
    row = users.add_user(db, "Somchai.K", org="ccib-th", role="contributor", password=PASSWORD, max_tlp="tlp:red", by=ON_SERVER)
    assert (row.username, row.org, row.role, row.max_tlp, row.disabled) == ("somchai.k", "ccib-th", "contributor", "red", False)
    assert row.password_hash.startswith("scrypt:") and PASSWORD not in row.password_hash
    signed = users.authenticate(db, "SOMCHAI.K", PASSWORD)
    assert signed is not None and signed.last_login is None  # the row as it was; last_login now set
    assert users.get_user(db, "somchai.k", by=ON_SERVER).last_login is not None
    principal = users.principal(signed)
    assert (principal.org, principal.role, principal.max_tlp, principal.actor, principal.country) == (
        "ccib-th", "contributor", "red", "somchai.k", "TH")
    assert principal.viewer.can_see("red", "ccib-th") and not principal.viewer.can_see("red", "pdrm-my")
    assert users.authenticate(db, "somchai.k", PASSWORD + "x") is None
    assert users.authenticate(db, "nobody", PASSWORD) is None
    generation = signed.session_generation
    assert users.from_session(db, signed.id, generation) is not None
    assert users.from_session(db, signed.id, generation + 1) is None
    assert users.from_session(db, signed.id, str(generation)) is None
    changed = users.set_password(db, "somchai.k", "a brand new passphrase", by=ON_SERVER)
    assert users.from_session(db, signed.id, generation) is None  # the old sessions end
    assert users.authenticate(db, "somchai.k", PASSWORD) is None
    assert users.from_session(db, signed.id, changed.session_generation) is not None
    users.set_disabled(db, "somchai.k", by=ON_SERVER)
    assert users.authenticate(db, "somchai.k", "a brand new passphrase") is None
    assert users.from_session(db, signed.id, changed.session_generation) is None


def test_sign_out_disable_and_enable_each_end_the_sessions_so_far(db):
    """One generation per user: whatever ends a session ends every earlier one, and enabling a
    disabled user starts from a new generation, so its old cookies stay dead."""
    add_org(db, "ccib-th", "Royal Thai Police CCIB", "TH")
    row = users.add_user(db, "somchai.k", org="ccib-th", role="reader", password=PASSWORD, by=ON_SERVER)
    before = users.authenticate(db, "somchai.k", PASSWORD).session_generation
    users.end_sessions(db, row.id)
    assert users.from_session(db, row.id, before) is None
    after_sign_out = users.authenticate(db, "somchai.k", PASSWORD).session_generation
    assert users.from_session(db, row.id, after_sign_out) is not None
    users.set_disabled(db, "somchai.k", by=ON_SERVER)
    enabled = users.set_disabled(db, "somchai.k", False, by=ON_SERVER)
    assert users.authenticate(db, "somchai.k", PASSWORD) is not None
    assert users.from_session(db, row.id, after_sign_out) is None
    assert users.from_session(db, row.id, enabled.session_generation) is not None


def test_bad_users_are_refused_with_reasons(db):
    add_org(db, "ccib-th", "Royal Thai Police CCIB", "TH")
    users.add_user(db, "somchai", org="ccib-th", role="reader", password=PASSWORD, by=ON_SERVER)
    with pytest.raises(Conflict, match="already exists"):
        users.add_user(db, "SOMCHAI", org="ccib-th", role="reader", password=PASSWORD, by=ON_SERVER)
    with pytest.raises(NotFound, match="unknown org"):
        users.add_user(db, "x1", org="nowhere", role="reader", password=PASSWORD, by=ON_SERVER)
    for username in ("a", "reg_abc", "cli:root", "has space"):
        with pytest.raises(Invalid, match="username"):
            users.add_user(db, username, org="ccib-th", role="reader", password=PASSWORD, by=ON_SERVER)
    with pytest.raises(Invalid, match="at least 12"):
        users.add_user(db, "x2", org="ccib-th", role="reader", password="short", by=ON_SERVER)
    with pytest.raises(Invalid, match="unknown role"):
        users.add_user(db, "x3", org="ccib-th", role="boss", password=PASSWORD, by=ON_SERVER)
    with pytest.raises(Invalid, match="unknown TLP"):
        users.add_user(db, "x4", org="ccib-th", role="reader", password=PASSWORD, max_tlp="purple", by=ON_SERVER)
    with pytest.raises(NotFound):
        users.set_disabled(db, "nobody", by=ON_SERVER)


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.setenv("REGISTRY_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("REGISTRY_INSTANCE_PATH", str(tmp_path / "instance"))
    runner = CliRunner()

    def invoke(*args, input=None):
        return runner.invoke(main, [str(a) for a in args], input=input, catch_exceptions=False)

    assert invoke("org", "add", "ccib-th", "--name", "Royal Thai Police CCIB", "--country", "TH").exit_code == 0
    return invoke


def test_user_commands(cli):
    added = cli("user", "add", "somchai", "--org", "ccib-th", "--role", "contributor", "--max-tlp", "red",
                "--password-stdin", input=PASSWORD + "\n")
    assert added.exit_code == 0, added.output
    assert "added user somchai (org ccib-th, role contributor, max TLP red)" in added.output
    prompted = cli("user", "add", "aisyah", "--org", "ccib-th", "--role", "reader", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert prompted.exit_code == 0, prompted.output
    listed = json.loads(cli("user", "list", "--json").stdout)
    assert [(u["username"], u["role"], u["max_tlp"], u["disabled"]) for u in listed] == [
        ("aisyah", "reader", "amber+strict", False), ("somchai", "contributor", "red", False)]
    assert "password" not in json.dumps(listed)
    assert cli("user", "disable", "aisyah").exit_code == 0
    assert "DISABLED" in cli("user", "list").stdout
    short = cli("user", "add", "x1", "--org", "ccib-th", "--role", "reader", "--password-stdin", input="short\n")
    assert short.exit_code == 2 and "at least 12 characters" in short.output
    unknown = cli("user", "disable", "nobody")
    assert unknown.exit_code == 2 and "no user" in unknown.output
    bad_tlp = cli("user", "add", "x2", "--org", "ccib-th", "--role", "reader", "--max-tlp", "purple",
                  "--password-stdin", input=PASSWORD + "\n")
    assert bad_tlp.exit_code == 2
    assert cli("user", "enable", "aisyah").exit_code == 0
    assert "DISABLED" not in cli("user", "list").stdout
    changed = cli("user", "password", "aisyah", "--password-stdin", input="another long password\n")
    assert changed.exit_code == 0 and "sessions have ended" in changed.output
    assert cli("user", "password", "nobody", "--password-stdin", input=PASSWORD + "\n").exit_code == 2
    verified = json.loads(cli("audit", "verify", "--json").stdout)
    assert verified["ok"] and verified["checked"] == 5  # user-add twice, disable, enable, password


def test_the_command_line_grants_the_operator_role_and_acts_on_anyone(cli):
    """The server's operator: unrestricted by org or cap, and the only one who makes operators."""
    assert cli("org", "add", "pdrm-my", "--name", "Royal Malaysia Police").exit_code == 0
    for username, org, role, cap in (("boss", "ccib-th", "admin", "red"), ("aisyah", "pdrm-my", "reader", "red")):
        made = cli("user", "add", username, "--org", org, "--role", role, "--max-tlp", cap, "--password-stdin",
                   input=PASSWORD + "\n")
        assert made.exit_code == 0, made.output
    promoted = cli("user", "set-role", "boss", "operator")
    assert promoted.exit_code == 0 and "boss (ccib-th) is now operator, max TLP red" in promoted.output
    lowered = cli("user", "set-role", "aisyah", "reader", "--max-tlp", "green")
    assert lowered.exit_code == 0 and "now reader, max TLP green" in lowered.output
    listed = {u["username"]: (u["role"], u["max_tlp"]) for u in json.loads(cli("user", "list", "--json").stdout)}
    assert listed == {"boss": ("operator", "red"), "aisyah": ("reader", "green")}
    assert cli("user", "set-role", "nobody", "operator").exit_code == 2
    assert cli("user", "set-role", "boss", "emperor").exit_code == 2
    key = cli("key", "create", "--org", "pdrm-my", "--role", "operator", "--max-tlp", "green", "--json")
    assert key.exit_code == 0 and json.loads(key.stdout)["role"] == "operator"
    assert "operator" in cli("user", "add", "--help").output
    verified = json.loads(cli("audit", "verify", "--json").stdout)
    assert verified["ok"] and verified["checked"] == 5  # user-add twice, user-access twice, key-create


def test_demo_writes_web_users_with_random_passwords_once(cli, tmp_path):
    from registry import config
    from registry.demo import _demo_users
    from registry.storage.db import Database

    assert cli("demo").exit_code == 0
    users_file = tmp_path / "instance" / "demo-users.txt"
    lines = users_file.read_text().splitlines()[1:]
    assert [line.split()[0] for line in lines] == ["analyst", "reader", "feeds", "admin"]
    assert users_file.stat().st_mode & 0o777 == 0o600
    db = Database(config.load().database_url)
    try:
        for line in lines:
            username, password = line.split()[0], line.split()[-1]
            assert users.authenticate(db, username, password) is not None
        assert list(_demo_users(db, users_file)) == []  # users exist: nothing new, no file rewritten
        assert users_file.read_text().splitlines()[1:] == lines
    finally:
        db.dispose()
