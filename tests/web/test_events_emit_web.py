"""Events raised through the app (Flask's test client, both engines): an API submission announces
each new and updated assertion to the owners it may reach; a lookup by key (single and batch)
or on the web page that hits another agency's value alerts that agency once its hit log is
written, nothing is written for a lookup that hit no one else, and the looker's capped key decides
what it could hit (docs/design.md, "Events and watches")."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from registry.domain.tlp import RED, Viewer
from registry.services import events
from registry.services.access import ON_SERVER
from registry.services.keys import create_key
from registry.storage import tables as t
from tests.web.ui_support import page_app, seed, sign_in, token


@pytest.fixture
def app(db):
    seed(db)
    with page_app(db) as app:
        yield app


@pytest.fixture
def keys(db) -> dict[str, str]:
    return {name: create_key(db, org, role, cap, by=ON_SERVER)["key"] for name, (org, role, cap) in {
        "ccib": ("ccib-th", "contributor", "red"), "pdrm": ("pdrm-my", "contributor", "amber+strict"),
        "bank": ("bank-x", "reader", "green")}.items()}


def _bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def _inbox(db, org: str) -> list[dict]:
    with db.read() as conn:
        org_id = conn.execute(select(t.organization.c.id).where(t.organization.c.slug == org)).scalar_one()
        return events.read(conn, Viewer(org, RED), org_id, limit=1000)[0]


def _hits(app, db, org: str) -> list[dict]:
    app.extensions["registry.hits"].flush()
    return [e for e in _inbox(db, org) if e["type"] == "lookup.hit"]


def test_an_api_submission_announces_new_and_updated_assertions(app, db, keys):
    client = app.test_client()
    listed = client.post("/api/v1/indicators", headers=_bearer(keys["ccib"]),
                         json={"indicators": [{"value": "+66812000222", "tlp": "amber"}], "region": "TH"})
    assert listed.status_code == 200, listed.text
    for confidence in (60, 60, 85):  # new, unchanged, updated
        answer = client.post("/api/v1/indicators", headers=_bearer(keys["pdrm"]),
                             json={"indicators": [{"value": "081-200-0222", "confidence": confidence}], "region": "TH"})
        assert answer.status_code == 200, answer.text
    got = [(e["type"], e["value"], e["org"], e["assertion"]["confidence"]) for e in _inbox(db, "ccib-th")]
    assert got == [("indicator.reported", "+66812000222", "pdrm-my", 60),
                   ("indicator.updated", "+66812000222", "pdrm-my", 85)]


def test_lookups_by_key_and_on_the_page_alert_the_owner(app, db, keys):
    client = app.test_client()
    client.post("/api/v1/indicators", headers=_bearer(keys["ccib"]), json={"indicators": [
        {"value": "mule-bank.example", "tlp": "amber"}, {"value": "open-scam.example", "tlp": "green"}]})
    hits = app.extensions["registry.hits"]
    # A lookup that hits only its own org's values, or nothing, writes nothing.
    assert client.get("/api/v1/lookup", headers=_bearer(keys["ccib"]),
                      query_string={"value": "mule-bank.example"}).status_code == 200
    assert client.get("/api/v1/lookup", headers=_bearer(keys["pdrm"]),
                      query_string={"value": "unknown.example"}).status_code == 200
    assert hits.pending == 0
    # The bank's key, capped at GREEN, could not see the AMBER one: only the GREEN one hits.
    assert client.post("/api/v1/lookup", headers=_bearer(keys["bank"]), json={
        "values": ["mule-bank.example", "open-scam.example"]}).status_code == 200
    assert [(e["value"], e["tlp"], e["org"]) for e in _hits(app, db, "ccib-th")] == [
        ("open-scam.example", "green", None)]
    assert client.get("/api/v1/lookup", headers=_bearer(keys["pdrm"]),
                      query_string={"value": "https://mule-bank.example/login"}).status_code == 200
    got = _hits(app, db, "ccib-th")[-1]
    assert (got["value"], got["match"], got["count"], got["tlp"]) == ("mule-bank.example", "url-host", 1, "amber")
    # On the web page, a user of another agency (PDRM, AMBER+STRICT): the same hour, counted, no new event.
    sign_in(client, "aisyah", follow=True)
    answered = client.post("/", data={"values": "mule-bank.example", "csrf_token": token(client)})
    assert answered.status_code == 200
    assert len(_hits(app, db, "ccib-th")) == 2
    with db.read() as conn:
        counts = conn.execute(select(t.hit_tally.c.count).order_by(t.hit_tally.c.count)).scalars().all()
    assert counts == [1, 2]  # the bank's one hit; PDRM's two lookups of the AMBER value
    assert _inbox(db, "pdrm-my") == [] and _inbox(db, "bank-x") == []
