"""The Alerts page without JavaScript (Flask's test client), on SQLite and PostgreSQL: the org's
events only, newest first, in words; the TLP rule (a GREEN-capped user never sees an AMBER
event, another org's RED is never shown); the header's unread count, marked seen by opening the
page, capped at 99+; paging; the audit rows; the stream refusing a stranger (docs/web.md, "Alerts")."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import text

from registry.domain import events as ev
from registry.domain.normalize import normalize
from registry.domain.times import utcnow
from registry.domain.tlp import AMBER, GREEN, RED
from registry.services import events
from registry.storage import watches as watch_store
from tests.web.ui_support import audit_rows, page_app, seed, sign_in, text_of


@pytest.fixture
def app(db):
    seed(db)
    with page_app(db) as app:
        yield app


def _ids(db) -> dict[str, int]:
    with db.read() as conn:
        return dict(conn.execute(text("SELECT slug, id FROM organization")).all())


def _emit(db, *new: ev.NewEvent) -> list[int]:
    with db.write() as conn:
        return events.emit(conn, list(new))


def _event(type_: str, value: str | None, *, tlp: str = AMBER, source: str = "ccib-th", org: str | None = None,
           to: int | None = None, kind: str | None = "domain", **body) -> ev.NewEvent:
    return ev.NewEvent(type=type_, time=utcnow(), tlp=tlp, source=source, org=org, kind=kind, value=value,
                       body=body, to_org_id=to)


def _rows(html: str) -> list[dict]:
    """The alerts table's rows: seq and each cell's text."""
    out = []
    for seq, body in re.findall(r'<tr data-seq="(\d+)"[^>]*>(.*?)</tr>', html, flags=re.S):
        cells = [text_of(cell) for cell in re.findall(r"<td>(.*?)</td>", body, flags=re.S)]
        links = [unescape(href) for href in re.findall(r'href="([^"]+)"', body)]
        out.append({"seq": int(seq), "when": cells[0], "what": cells[1], "value": cells[2], "by": cells[3],
                    "tlp": cells[4], "why": cells[5], "links": links})
    return out


def _unread(html: str) -> str:
    """The header's unread count as shown ("" when hidden)."""
    found = re.search(r'<span id="alerts-unread"[^>]*?( hidden)?>\s*<span class="count">([^<]*)</span>', html)
    assert found, "no unread count in the header"
    return "" if found.group(1) else found.group(2)


def test_alerts_are_the_orgs_own_in_words_newest_first_under_the_tlp_rule(app, db):
    ids = _ids(db)
    th, my = ids["ccib-th"], ids["pdrm-my"]
    watched = normalize("evil.example")[0]
    with db.write() as conn:
        watch_store.insert(conn, uid="w-evil", org_id=th, key=watched.value, kind=watched.kind, kinds="", labels="",
                           sources="", created=utcnow())
    seqs = _emit(
        db,
        _event(ev.REPORTED, "x.evil.example", tlp=GREEN, source="pdrm-my", org="pdrm-my"),  # by ccib's watch
        _event(ev.LOOKUP_HIT, "+66812345678", kind="phone", to=th, count=3),  # an agency looked, 3 times
        _event(ev.SIGHTED, "+66812345678", kind="phone", tlp=GREEN, org="pdrm-my", to=th, sighting={"count": 2}),
        _event(ev.FEED_FAILED, None, kind=None, tlp=GREEN, to=th, feed="partner-hub", reason="HTTP 500"),
        _event(ev.LOOKUP_HIT, "theirs.example", source="pdrm-my", to=my),  # pdrm's: never ccib's
        _event(ev.REPORTED, "red.evil.example", tlp=RED, source="pdrm-my", org="pdrm-my", to=th),  # pdrm's RED
        _event(ev.LOOKUP_HIT, "own-red.example", tlp=RED, to=th),  # ccib's own RED: its RED users see it
    )
    reported, hit, sighted, failed, _, _, own_red = seqs
    somchai, green = app.test_client(), app.test_client()
    sign_in(somchai, "somchai")
    sign_in(green, "ccib-green")

    page = somchai.get("/alerts")
    assert page.status_code == 200
    rows = _rows(page.text)
    assert [r["seq"] for r in rows] == [own_red, failed, sighted, hit, reported]
    by_seq = {r["seq"]: r for r in rows}
    assert (by_seq[hit]["what"], by_seq[hit]["value"], by_seq[hit]["by"], by_seq[hit]["tlp"], by_seq[hit]["why"]) == (
        "Looked up 3 times", "+66812345678", "an agency", "TLP:AMBER", "your indicator")
    assert by_seq[hit]["links"] == ["/indicator?value=%2B66812345678"]
    assert (by_seq[reported]["what"], by_seq[reported]["by"], by_seq[reported]["why"]) == (
        "Reported", "pdrm-my", "watch evil.example")
    assert by_seq[sighted]["what"] == "Sighted 2 times"
    assert (by_seq[failed]["what"], by_seq[failed]["value"], by_seq[failed]["by"], by_seq[failed]["why"]) == (
        "Feed failed partner-hub: HTTP 500", "—", "—", "your organisation")
    assert "red.evil.example" not in page.text and "theirs.example" not in page.text
    # A GREEN-capped user of the same org: nothing AMBER or RED.
    assert [r["seq"] for r in _rows(green.get("/alerts").text)] == [failed, sighted, reported]
    # Each reading is audited as the API's events-read, with the positions shown.
    row = audit_rows(app, "events-read")[-1]
    assert row["actor"] == "somchai" and row["subject"]["seqs"] == [own_red, failed, sighted, hit, reported]

    # The page without a user: sign in first; the stream answers a stranger 401 (an EventSource stops).
    stranger = app.test_client()
    assert stranger.get("/alerts").headers["Location"].startswith("/login")
    assert stranger.get("/alerts/stream").status_code == 401
    assert somchai.get("/alerts?before=x").status_code == 400
    assert somchai.get("/alerts/stream?after=x").status_code == 400


def test_unread_count_in_the_header_marked_seen_by_the_page(app, db):
    th = _ids(db)["ccib-th"]
    somchai, green = app.test_client(), app.test_client()
    sign_in(somchai, "somchai")
    sign_in(green, "ccib-green")
    assert _unread(somchai.get("/").text) == ""
    _emit(db, _event(ev.LOOKUP_HIT, "a.unread.example", to=th), _event(ev.LOOKUP_HIT, "b.unread.example", to=th),
          _event(ev.LOOKUP_HIT, "c.unread.example", tlp=GREEN, to=th))
    home = somchai.get("/").text
    assert _unread(home) == "3" and "<title>(3) Lookup · Registry</title>" in home
    assert _unread(green.get("/disputes").text) == "1"  # every page; only what the user may see
    opened = somchai.get("/alerts").text
    assert _unread(opened) == "" and len(_rows(opened)) == 3  # opening the page marks them seen
    assert _unread(somchai.get("/").text) == ""
    assert _unread(green.get("/").text) == "1"  # per user
    _emit(db, _event(ev.LOOKUP_HIT, "d.unread.example", to=th))
    assert _unread(somchai.get("/").text) == "1" and _unread(green.get("/").text) == "1"


def test_count_capped_and_pages_of_alerts(app, db):
    th = _ids(db)["ccib-th"]
    somchai = app.test_client()
    sign_in(somchai, "somchai")
    seqs = _emit(db, *[_event(ev.LOOKUP_HIT, f"v{i}.paged.example", to=th, count=i + 1) for i in range(130)])
    assert _unread(somchai.get("/").text) == "99+"
    first = somchai.get("/alerts").text
    rows = _rows(first)
    assert [r["seq"] for r in rows] == seqs[::-1][:100]
    older = re.search(r'href="(/alerts\?before=\d+)" rel="next"', first)
    assert older, "no link to older alerts"
    second = somchai.get(older.group(1)).text
    assert [r["seq"] for r in _rows(second)] == seqs[::-1][100:]
    assert 'rel="next"' not in second and "Newest alerts" in second
    assert "data-stream" in first and "data-stream" not in second  # only the newest page goes live
    assert _unread(second) == ""
    stream = re.search(r'data-stream="([^"]+)"', first).group(1)
    assert unescape(stream) == f"/alerts/stream?after={seqs[-1]}"  # from what the page shows: nothing missed
