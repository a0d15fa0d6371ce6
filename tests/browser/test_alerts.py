"""The Alerts page in Chromium on SQLite and PostgreSQL: an analyst of ccib-th keeps it open, another
agency's lookup hits a ccib-th indicator (an "an agency" lookup.hit, as emission writes one when
the looking org shares its hits anonymously), and the alert appears on top without a reload while
the header's unread count moves; reopening the page marks them seen (docs/web.md, "Alerts")."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from registry.domain import events as ev
from registry.domain.normalize import normalize
from registry.domain.times import utcnow
from registry.domain.tlp import AMBER, GREEN
from registry.services import events
from registry.storage import watches as watch_store
from registry.storage.db import Database
from tests.browser.conftest import CHROMIUM, SKIP_REASON, sign_in
from tests.web.conftest import engine_url, seed_members, start_server, stop_server  # noqa: F401 (a fixture)
from tests.web.ui_support import add_users

if not CHROMIUM.exists():  # before any fixture starts a server for nothing
    pytest.skip(SKIP_REASON, allow_module_level=True)

VALUE = "+66812345678"


@pytest.fixture(scope="module")
def alerts_site(engine_url, tmp_path_factory):  # noqa: F811 (the fixture imported above)
    db = Database(engine_url)
    keys = seed_members(db)
    add_users(db, {"somchai": ("ccib-th", "contributor", "red")})
    with db.read() as conn:
        ids = dict(conn.execute(text("SELECT slug, id FROM organization")).all())
    watched = normalize("+85597*")[0]
    with db.write() as conn:
        watch_store.insert(conn, uid="w-block", org_id=ids["ccib-th"], key=watched.value, kind=watched.kind,
                           prefix_len=watched.prefix_len, kinds="", labels="", sources="", created=utcnow())
    process, url, _ = start_server(engine_url, tmp_path_factory.mktemp("alerts-browser"), workers=2)
    yield {"url": url, "db": db, "ids": ids, "keys": keys}
    stop_server(process)
    db.dispose()


def _emit(db, *new: ev.NewEvent) -> list[int]:
    with db.write() as conn:
        return events.emit(conn, list(new))


def _lookup_hit(to: int, value: str, count: int = 1) -> ev.NewEvent:
    """What another org's lookup of ccib-th's indicator writes (that org shares its hits anonymously)."""
    return ev.NewEvent(type=ev.LOOKUP_HIT, time=utcnow(), tlp=AMBER, source="ccib-th", org=None, kind="phone",
                       value=value, body={"count": count}, to_org_id=to)


def test_an_alert_appears_without_a_reload_and_the_count_moves(chromium, alerts_site, shots):
    db, th = alerts_site["db"], alerts_site["ids"]["ccib-th"]
    _emit(db,  # what came before: the page lists it on opening
          ev.NewEvent(type=ev.REPORTED, time=utcnow(), tlp=GREEN, source="pdrm-my", org="pdrm-my", kind="phone",
                      value="+855971234567", labels=("call-centre-scam",)),
          ev.NewEvent(type=ev.SIGHTED, time=utcnow(), tlp=GREEN, source="pdrm-my", org="pdrm-my", kind="phone",
                      value=VALUE, body={"sighting": {"count": 2}}, to_org_id=th),
          ev.NewEvent(type=ev.FEED_FAILED, time=utcnow(), tlp=GREEN, to_org_id=th,
                      body={"feed": "partner-hub-phones", "reason": "the file is gone"}))
    context = chromium.new_context(viewport={"width": 1280, "height": 760})
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        sign_in(page, alerts_site, "somchai")
        assert page.locator("#alerts-unread").inner_text().split()[0] == "3"  # unread, in the header
        page.click("header nav a:has-text('Alerts')")
        page.wait_for_selector("#alerts-live:has-text('Live')")  # the stream is open
        assert page.locator("#alerts-unread").is_hidden()  # opening the page marked them seen
        assert page.locator("table.alerts tbody tr").count() == 3
        page.evaluate("window.notReloaded = true")

        _emit(db, _lookup_hit(th, VALUE, 1))
        row = page.locator("table.alerts tbody tr.new").first
        row.wait_for()
        cells = row.locator("td").all_inner_texts()
        assert cells[1:] == ["Looked up once", VALUE, "an agency", "TLP:AMBER", "your indicator"]
        assert page.inner_text("#alerts-unread .count") == "1" and page.title().startswith("(1) Alerts")

        _emit(db, _lookup_hit(th, VALUE, 4))
        page.locator("table.alerts tbody tr.new").nth(1).wait_for()
        assert page.inner_text("#alerts-unread .count") == "2"
        top = page.locator("table.alerts tbody tr").first.locator("td").all_inner_texts()
        assert top[1] == "Looked up 4 times"  # newest on top
        assert page.locator("table.alerts tbody tr").count() == 5
        assert page.evaluate("window.notReloaded") is True
        if db.url.startswith("sqlite"):  # one screenshot for docs/web.md
            page.screenshot(path=str(shots / "alerts.png"), full_page=True)
        assert re.search(r"value=%2B66812345678$", page.locator("table.alerts tbody tr").first.locator("a")
                         .get_attribute("href"))

        page.reload()  # opened again: seen
        assert page.locator("#alerts-unread").is_hidden()
        assert page.locator("table.alerts tbody tr.new").count() == 0
    finally:
        context.close()



def test_another_agencys_real_lookup_raises_the_alert_live(chromium, alerts_site):
    """The issue's case end to end: pdrm-my's key looks up a number ccib-th reported (pdrm-my shares
    its hits anonymously, the default), and the open Alerts page shows it without a reload."""
    import requests

    from registry.services.submit import Provenance, Submission, submit

    db, keys, value = alerts_site["db"], alerts_site["keys"], "+66898765432"
    with db.write() as conn:
        submit(conn, Provenance(org="ccib-th", tlp=AMBER), [Submission(value)])
    context = chromium.new_context(viewport={"width": 1280, "height": 760})
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        sign_in(page, alerts_site, "somchai")
        page.goto(alerts_site["url"] + "/alerts")
        page.wait_for_selector("#alerts-live:has-text('Live')")
        page.evaluate("window.notReloaded = true")
        looked = requests.get(alerts_site["url"] + "/api/v1/lookup", params={"value": value}, timeout=30,
                              headers={"Authorization": f"Bearer {keys['pdrm-reader']}"})
        assert looked.status_code == 200 and looked.json()["listed"] is True, looked.text
        row = page.locator("table.alerts tbody tr.new").first
        row.wait_for()
        cells = row.locator("td").all_inner_texts()
        assert cells[1:] == ["Looked up once", value, "an agency", "TLP:AMBER", "your indicator"]
        assert page.evaluate("window.notReloaded") is True
    finally:
        context.close()
