"""What an admin may administer, through every admin page and the audit endpoints, on SQLite and
PostgreSQL: an org admin acts on its own org only, up to its own TLP cap and role (a cap that
reaches TLP:RED makes no operator); an operator acts on every org; the operator role is granted on
the server's command line only. Each refusal is a 403 that says why, and changes nothing."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from registry.cli import main
from registry.services import users
from registry.services.access import ON_SERVER
from registry.services.errors import NotFound
from registry.services.keys import create_key, list_keys
from tests.web.ui_support import PASSWORD, audit_rows, page_app, seed, sign_in, text_of, token

NEW_PASSWORD = "the attacker's chosen passphrase"

# Beside ui_support's users: a colleague above pdrm-admin's AMBER+STRICT cap, one above its role,
# and an org admin capped at TLP:RED (before, such an admin administered every org).
EXTRA_USERS = {
    "pdrm-red": ("pdrm-my", "contributor", "red"),
    "pdrm-op": ("pdrm-my", "operator", "amber+strict"),
    "ccib-boss": ("ccib-th", "admin", "red"),
}


@pytest.fixture
def app(db):
    seed(db)
    for username, (org, role, cap) in EXTRA_USERS.items():
        users.add_user(db, username, org=org, role=role, password=PASSWORD, max_tlp=cap, by=ON_SERVER)
    with page_app(db) as app:
        app.config["KEYS"] = {
            "pdrm-red": create_key(db, "pdrm-my", "reader", "red", by=ON_SERVER)["key"],
            "pdrm-amber": create_key(db, "pdrm-my", "reader", "amber", by=ON_SERVER)["key"],
            "bank-green": create_key(db, "bank-x", "reader", "green", by=ON_SERVER)["key"],
            "ccib-admin": create_key(db, "ccib-th", "admin", "red", by=ON_SERVER)["key"],
        }
        yield app


def _db(app):
    return app.extensions["registry.db"]


def _as(app, username: str):
    client = app.test_client()
    assert sign_in(client, username).status_code == 302, username
    return client


def _post(client, path: str, **data):
    return client.post(path, data={**data, "csrf_token": token(client)})


def _refused(response, *words: str) -> None:
    assert response.status_code == 403, (response.status_code, text_of(response.text)[:300])
    for word in words:
        assert word in text_of(response.text), (word, text_of(response.text)[:300])


def _user(app, username: str):
    return users.get_user(_db(app), username, by=ON_SERVER)


def _key_works(app, name: str) -> bool:
    key = app.config["KEYS"][name]
    answer = app.test_client().get("/api/v1/lookup?value=1.2.3.4", headers={"Authorization": f"Bearer {key}"})
    return answer.status_code == 200


# -- point 3: an admin acts only up to its own cap (and role) --------------------------------
def test_an_admin_cannot_take_over_a_colleague_above_its_cap(app):
    """The issue's case: an org admin capped at AMBER+STRICT sets the password of a colleague
    capped at RED, signs in as them and reads the org's RED."""
    admin = _as(app, "pdrm-admin")
    reset = _post(admin, "/admin/users/password", username="pdrm-red", password=NEW_PASSWORD)
    _refused(reset, "up to TLP:AMBER+STRICT", "not TLP:RED")
    assert sign_in(app.test_client(), "pdrm-red", NEW_PASSWORD).status_code == 401
    assert sign_in(app.test_client(), "pdrm-red").status_code == 302  # the password is unchanged
    assert audit_rows(app, "user-password") == []


def test_an_admin_cannot_disable_enable_or_edit_a_colleague_above_its_cap(app):
    admin = _as(app, "pdrm-admin")
    _refused(_post(admin, "/admin/users/pdrm-red/disabled", disabled="1"), "TLP:RED")
    assert not _user(app, "pdrm-red").disabled
    users.set_disabled(_db(app), "pdrm-red", by=ON_SERVER)
    _refused(_post(admin, "/admin/users/pdrm-red/disabled", disabled="0"), "TLP:RED")
    assert _user(app, "pdrm-red").disabled
    lowered = _post(admin, "/admin/users/access", username="pdrm-red", role="reader", max_tlp="green")
    _refused(lowered, "TLP:RED")
    assert (_user(app, "pdrm-red").role, _user(app, "pdrm-red").max_tlp) == ("contributor", "red")
    # Nor raise a colleague within reach above its own cap.
    raised = _post(admin, "/admin/users/access", username="aisyah", role="reader", max_tlp="red")
    _refused(raised, "up to TLP:AMBER+STRICT")
    assert _user(app, "aisyah").max_tlp == "amber+strict"


def test_an_admin_cannot_revoke_a_key_above_its_cap(app):
    admin = _as(app, "pdrm-admin")
    prefix = app.config["KEYS"]["pdrm-red"][:12]
    _refused(_post(admin, f"/admin/keys/{prefix}/revoke"), "TLP:RED")
    assert _key_works(app, "pdrm-red")


def test_an_admin_cannot_act_on_a_higher_role_of_its_own_org(app):
    admin = _as(app, "pdrm-admin")
    _refused(_post(admin, "/admin/users/password", username="pdrm-op", password=NEW_PASSWORD), "not operator")
    _refused(_post(admin, "/admin/users/pdrm-op/disabled", disabled="1"), "not operator")
    assert not _user(app, "pdrm-op").disabled


def test_admin_lists_show_only_what_the_admin_may_administer(app):
    admin = _as(app, "pdrm-admin")
    page = admin.get("/admin/users").text
    assert "aisyah" in page and "pdrm-admin" in page
    for hidden in ("pdrm-red", "pdrm-op", "somchai", "ccib-boss"):
        assert hidden not in page, hidden
    keys = admin.get("/admin/keys").text
    assert app.config["KEYS"]["pdrm-amber"][:12] in keys
    for hidden in ("pdrm-red", "bank-green", "ccib-admin"):
        assert app.config["KEYS"][hidden][:12] not in keys, hidden
    # The forms offer only the roles and caps it may grant.
    assert 'value="red"' not in keys and 'value="operator"' not in keys and 'value="admin"' in keys
    assert "you administer pdrm-my only, up to TLP:AMBER+STRICT" in text_of(keys)


# -- point 4: an org's admin administers its own org only ------------------------------------
def test_an_org_admin_capped_at_red_cannot_mint_a_key_for_another_org(app):
    """The issue's case: a RED-capped admin mints a RED reader key for another org and reads
    that org's RED."""
    boss = _as(app, "ccib-boss")
    minted = _post(boss, "/admin/keys", org="pdrm-my", role="reader", max_tlp="red")
    _refused(minted, "you administer org ccib-th only, not pdrm-my", "operators")
    assert [k.org for k in list_keys(_db(app), by=ON_SERVER) if k.org == "pdrm-my"] == ["pdrm-my", "pdrm-my"]
    own = _post(boss, "/admin/keys", org="ccib-th", role="reader", max_tlp="red")
    assert own.status_code == 201  # its own org, within its cap: fine


def test_an_org_admin_capped_at_red_cannot_touch_another_orgs_users_or_keys(app):
    boss = _as(app, "ccib-boss")
    added = _post(boss, "/admin/users", username="planted", org="pdrm-my", role="reader", password=PASSWORD)
    _refused(added, "not pdrm-my")
    with pytest.raises(NotFound, match="no user"):
        _user(app, "planted")
    _refused(_post(boss, "/admin/users/password", username="aisyah", password=NEW_PASSWORD), "not pdrm-my")
    assert sign_in(app.test_client(), "aisyah").status_code == 302
    _refused(_post(boss, "/admin/users/aisyah/disabled", disabled="1"), "not pdrm-my")
    assert not _user(app, "aisyah").disabled
    users.set_disabled(_db(app), "aisyah", by=ON_SERVER)
    _refused(_post(boss, "/admin/users/aisyah/disabled", disabled="0"), "not pdrm-my")
    assert _user(app, "aisyah").disabled
    _refused(_post(boss, "/admin/users/access", username="bank-analyst", role="admin", max_tlp="green"),
             "not bank-x")
    _refused(_post(boss, f"/admin/keys/{app.config['KEYS']['bank-green'][:12]}/revoke"), "not bank-x")
    assert _key_works(app, "bank-green")
    _refused(_post(boss, "/admin/orgs", slug="new-org", name="New"), "operators")
    # What it may do: its own org, up to its cap.
    reset = _post(boss, "/admin/users/password", username="somchai", password=NEW_PASSWORD)
    assert reset.status_code == 302


def test_an_org_admin_capped_at_red_lists_and_audits_its_own_org_only(app):
    somchai = _as(app, "somchai")
    _post(somchai, "/", values="1.2.3.4")
    _post(_as(app, "aisyah"), "/", values="5.6.7.8")
    boss = _as(app, "ccib-boss")
    listed = boss.get("/admin/users").text
    assert "somchai" in listed and "aisyah" not in listed and "bank-analyst" not in listed
    keys = boss.get("/admin/keys").text
    assert app.config["KEYS"]["ccib-admin"][:12] in keys and app.config["KEYS"]["bank-green"][:12] not in keys
    app.extensions["registry.audit"].flush()
    for path in ("/admin/audit", "/admin/audit?org=pdrm-my"):
        page = text_of(boss.get(path).text)
        assert "1.2.3.4" in page and "5.6.7.8" not in page and "Showing ccib-th's rows only" in page, path
    for query in ("", "?org=pdrm-my"):
        api = app.test_client().get("/api/v1/audit" + query,
                                    headers={"Authorization": f"Bearer {app.config['KEYS']['ccib-admin']}"})
        assert api.status_code == 200 and {e["org"] for e in api.json["events"]} == {"ccib-th"}, query


# -- operators -------------------------------------------------------------------------------
def test_an_operator_administers_every_org_within_its_cap(app):
    ops = _as(app, "ops")
    minted = _post(ops, "/admin/keys", org="pdrm-my", role="reader", max_tlp="red")
    assert minted.status_code == 201 and "New key for pdrm-my" in minted.text
    assert _post(ops, "/admin/users/password", username="aisyah", password=NEW_PASSWORD).status_code == 302
    assert _post(ops, f"/admin/keys/{app.config['KEYS']['bank-green'][:12]}/revoke").status_code == 302
    page = ops.get("/admin/users").text
    assert all(name in page for name in ("aisyah", "somchai", "pdrm-red", "pdrm-op", "ccib-boss"))
    assert "registry operator: you administer every org" in text_of(page)
    assert '<b title="a registry operator: administers every org">operator</b>' in page


def test_no_one_grants_the_operator_role_on_the_web(app):
    for username in ("ops", "pdrm-admin"):
        client = _as(app, username)
        for path, extra in (("/admin/keys", {}), ("/admin/users", {"username": "new-op", "password": PASSWORD})):
            made = _post(client, path, org="pdrm-my", role="operator", max_tlp="green", **extra)
            _refused(made, "command line")
        _refused(_post(client, "/admin/users/access", username="aisyah", role="operator", max_tlp="green"),
                 "command line")
    assert _user(app, "aisyah").role == "reader"
    assert [k for k in list_keys(_db(app), by=ON_SERVER) if k.role == "operator"] == []


def test_an_admin_cannot_change_its_own_role_or_cap(app):
    admin = _as(app, "pdrm-admin")
    _refused(_post(admin, "/admin/users/access", username="pdrm-admin", role="reader", max_tlp="green"),
             "yourself")
    changed = _post(admin, "/admin/users/access", username="aisyah", role="contributor", max_tlp="green")
    assert changed.status_code == 302
    assert (_user(app, "aisyah").role, _user(app, "aisyah").max_tlp) == ("contributor", "green")
    assert [r["subject"] for r in audit_rows(app, "user-access")] == [
        {"username": "aisyah", "org": "pdrm-my", "role": "contributor", "max_tlp": "green"}]


def test_an_existing_red_admin_becomes_an_operator_with_the_cli(app, monkeypatch):
    """The upgrade path docs/security.md gives: `registry user set-role NAME operator` on the server."""
    monkeypatch.setenv("REGISTRY_DATABASE_URL", _db(app).url)
    boss = _as(app, "ccib-boss")
    _refused(_post(boss, "/admin/keys", org="pdrm-my", role="reader", max_tlp="red"), "not pdrm-my")
    done = CliRunner().invoke(main, ["user", "set-role", "ccib-boss", "operator"], catch_exceptions=False)
    assert done.exit_code == 0 and "ccib-boss (ccib-th) is now operator, max TLP red" in done.output
    assert _post(boss, "/admin/keys", org="pdrm-my", role="reader", max_tlp="red").status_code == 201
