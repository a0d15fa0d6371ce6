"""The watches page through Flask's test client, on SQLite and PostgreSQL: listing the org's
watches, the add form (a value narrowed by kinds, labels and sources; a label alone; errors shown
with the form kept), Remove for those the user may remove, another org's watch unknown, CSRF, what
a watch made here routes, and the audit rows (docs/web.md, "Watches")."""

from __future__ import annotations

import re

import pytest

from registry.domain import events as ev
from registry.domain.kinds import PHONE
from registry.domain.times import utcnow
from registry.domain.tlp import AMBER, GREEN, Viewer
from registry.services import events
from registry.storage import events as event_store
from registry.storage import orgs as org_store
from tests.web.ui_support import audit_rows, page_app, seed, sign_in, text_of, token


@pytest.fixture
def app(db):
    seed(db)
    with page_app(db) as app:
        yield app


def _add(client, **form):
    return client.post("/watches", data={"csrf_token": token(client, "/watches"), **form})


def _removals(html: str) -> list[str]:
    return re.findall(r'action="/watches/([0-9a-f-]{36})/remove"', html)


def test_add_list_and_remove_on_the_page(app, db):
    reader, admin, other = app.test_client(), app.test_client(), app.test_client()
    sign_in(reader, "aisyah")  # pdrm-my reader
    sign_in(admin, "pdrm-admin")
    sign_in(other, "somchai")  # ccib-th
    empty = reader.get("/watches")
    assert empty.status_code == 200 and "Your agency watches nothing yet." in text_of(empty.text)
    assert re.search(r'<a href="/watches" aria-current="page">Watches</a>', empty.text)
    assert reader.post("/watches", data={"value": "+85597*"}).status_code == 403  # no CSRF token

    made = _add(reader, value="+855 97*", labels="Call Centre Scam, bank", kinds=["phone", "bank-account"],
                sources=["ccib-th"])
    assert made.status_code == 302 and made.headers["Location"].endswith("/watches")
    shown = reader.get("/watches")
    assert "Watching +85597*." in text_of(shown.text)
    assert "+85597* phone phone, bank-account bank call-centre-scam ccib-th" in text_of(shown.text)
    assert _add(reader, value="+85597*", labels="bank,call-centre-scam", kinds=["bank-account", "phone"],
                sources=["ccib-th"]).status_code == 302
    assert "Already watching +85597*." in text_of(reader.get("/watches").text)
    assert _add(admin, labels="mule-account").status_code == 302  # a label alone
    assert _add(admin, value="103.21.0.0/16").status_code == 302

    listing = reader.get("/watches").text
    assert "label mule-account" in text_of(listing) and "3 watches of pdrm-my" in text_of(listing)
    mine, label, net = _removals(admin.get("/watches").text)  # an admin removes any
    assert _removals(listing) == [mine]  # a reader, its own only
    refused = reader.post(f"/watches/{label}/remove", data={"csrf_token": token(reader, "/watches")})
    assert refused.status_code == 403 and "a reader removes only the watches it made" in text_of(refused.text)

    assert "watches nothing yet" in text_of(other.get("/watches").text)  # another org's are not listed
    unknown = other.post(f"/watches/{net}/remove", data={"csrf_token": token(other, "/watches")})
    assert unknown.status_code == 404 and f"no watch '{net}' of ccib-th" in text_of(unknown.text)

    with db.read() as conn:
        pdrm, after = org_store.get(conn, "pdrm-my").id, event_store.head(conn)
    with db.write() as conn:
        events.emit(conn, [ev.NewEvent(type=ev.REPORTED, time=utcnow(), tlp=GREEN, source=source, org=source,
                                       kind=PHONE, value="+855971234567", labels=("bank",))
                           for source in ("ccib-th", "bank-x")])
    with db.read() as conn:
        got, _ = events.read(conn, Viewer("pdrm-my", AMBER), pdrm, after=after)
    assert [(e["org"], e["watches"]) for e in got] == [("ccib-th", [mine])]  # sources narrow it to ccib-th

    removed = reader.post(f"/watches/{mine}/remove", data={"csrf_token": token(reader, "/watches")})
    assert removed.status_code == 302 and "No longer watching +85597*." in text_of(reader.get("/watches").text)
    assert admin.post(f"/watches/{label}/remove", data={"csrf_token": token(admin, "/watches")}).status_code == 302
    assert _removals(admin.get("/watches").text) == [net]

    added = audit_rows(app, "watch-add")
    assert sorted((r["org"], r["actor"], r["subject"]["new"]) for r in added) == [
        ("pdrm-my", "aisyah", False), ("pdrm-my", "aisyah", True), ("pdrm-my", "pdrm-admin", True),
        ("pdrm-my", "pdrm-admin", True)]
    assert [(r["actor"], r["subject"]["id"]) for r in audit_rows(app, "watch-remove")] == [
        ("pdrm-admin", label), ("aisyah", mine)]
    assert {r["org"] for r in audit_rows(app, "watches-read")} == {"pdrm-my", "ccib-th"}


@pytest.mark.parametrize(("form", "message"), [
    ({"value": "not a value"}, "Not watched: value: 'not a value' is not a valid indicator"),
    ({}, "Not watched: give the value to watch"),
    ({"labels": "a, b"}, "Not watched: a label watch watches one label"),
    ({"value": "co.th"}, "Not watched: value: co.th is a public suffix"),
    ({"value": "evil.example", "sources": ["nobody"]}, "Not watched: sources: no org 'nobody'"),
    ({"value": "evil.example", "kinds": ["dns"]}, "Not watched: kinds: unknown kind 'dns'"),
    ({"value": "evil.example", "labels": "no/slash"}, "Not watched: label 'no/slash' must be a short slug"),
])
def test_errors_are_shown_with_the_form_kept(app, form, message):
    client = app.test_client()
    sign_in(client, "somchai")
    answer = _add(client, **form)
    assert answer.status_code == 400 and message in text_of(answer.text)
    if form.get("value"):
        assert f'value="{form["value"]}"' in answer.text
    assert "watches nothing yet" in text_of(answer.text)
