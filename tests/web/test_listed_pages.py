"""Listed means in force, on the web page and over the API, on SQLite and PostgreSQL: what ended
shows as history ("listed by X until Y, why") on the lookup and indicator pages, for exactly the
levels a user may see (hidden and ended answers as unknown); the review page and its Confirm
button (CSRF as every form), ``GET /api/v1/review`` and ``POST /api/v1/assertions/ID/confirm``
with their audit rows."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from registry.domain.standing import END_REASONS, WHY
from registry.domain.times import utcnow
from registry.domain.tlp import LEVELS
from registry.services.access import ON_SERVER
from registry.services.keys import create_key
from registry.services.submit import Provenance, Submission, submit
from tests.helpers import end_assertions
from tests.stix.support import validate
from tests.web.ui_support import (
    audit_rows,
    csrf_from,
    page_app,
    seed,
    sign_in,
    text_of,
    tlp_badges,
    token,
    verdicts,
)

# user → the levels of ccib-th's reports the user sees (tests/web/test_ui_pages.py's SEES)
SEES = {
    "somchai": set(LEVELS),
    "ccib-green": {"clear", "green"},
    "aisyah": {"clear", "green", "amber", "amber+strict"},
    "bank-analyst": {"clear", "green"},
    "ops": {"clear", "green", "amber", "amber+strict"},
}


def ended_value(why: str, level: str) -> str:
    return f"{why}-{level.replace('+', '-')}.ended-page.example"


@pytest.fixture
def app(db):
    """ccib-th's reports at every level, one ended each way, ended a day ago."""
    seed(db)
    now = utcnow()
    with db.write() as conn:
        for level in LEVELS:
            submit(conn, Provenance(org="ccib-th", tlp=level), [Submission(ended_value(why, level)) for why in END_REASONS]
                   + [Submission(f"due-{level.replace('+', '-')}.ended-page.example")], now=now - timedelta(days=175))
    end_assertions(db, {ended_value(why, level): why for why in END_REASONS for level in LEVELS},
                   now - timedelta(days=1))
    with page_app(db) as app:
        yield app


@pytest.mark.parametrize("username", list(SEES))
def test_pages_show_what_ended_as_history_for_the_levels_a_user_may_see(app, username):
    client = app.test_client()
    sign_in(client, username)
    queries = [ended_value(why, level) for why in END_REASONS for level in LEVELS]
    page = client.post("/", data={"values": "\n".join(queries), "csrf_token": token(client)})
    assert set(verdicts(page.text).values()) == {"not listed"}
    text = text_of(page.text)
    shown = sorted(b.lower() for b in tlp_badges(page.text.split("<main", 1)[1]))
    # Each visible ended report: a TLP badge in the history (and the level column), no more.
    assert shown == sorted(level for level in SEES[username] for _ in END_REASONS for _ in range(2))
    assert text.count("listed by ccib-th") == len(SEES[username]) * len(END_REASONS)
    unknown = client.get("/indicator", query_string={"value": "never.ended-page.example"})
    for why in END_REASONS:
        for level in LEVELS:
            value = ended_value(why, level)
            indicator = client.get("/indicator", query_string={"value": value})
            if level in SEES[username]:
                assert indicator.status_code == 200, (username, value)
                body = text_of(indicator.text)
                until = (utcnow() - timedelta(days=1)).strftime("%Y-%m-%d")
                assert re.search(rf"listed by ccib-th until {until} ?: {re.escape(WHY[why])}", body), body
                assert "Not listed now" in body and f"report ended: {WHY[why]}" in body
                bundle = validate(client.get("/indicator/stix", query_string={"value": value}).data)
                [obj] = [o for o in bundle["objects"] if o["type"] == "indicator"]
                assert obj.get("revoked", False) == (why == "delisted")
            else:  # hidden and ended: the page of a value nobody reported
                assert indicator.status_code == unknown.status_code == 404, (username, value)
                assert text_of(indicator.text).replace(value, "X") == text_of(unknown.text).replace(
                    "never.ended-page.example", "X")


def _key(app, org, role, cap="amber+strict"):
    key = create_key(app.extensions["registry.db"], org, role, cap, by=ON_SERVER)["key"]
    return {"Authorization": f"Bearer {key}"}


def test_the_review_api_lists_and_confirms(app):
    client = app.test_client()
    contributor = _key(app, "ccib-th", "contributor")
    listing = client.get("/api/v1/review", headers=contributor, query_string={"days": "10"})
    assert listing.status_code == 200, listing.text
    due = listing.get_json()
    # Reported 175 days ago: the domains' reviews (180 days) fall due in 5; those whose review
    # passed a day ago come first, ended; amber+strict sees no red.
    names = ("amber", "amber-strict", "clear", "green")
    assert [a["status"] for a in due["assertions"]] == ["ended"] * 4 + ["due"] * 4
    assert [{a["value"] for a in due["assertions"][at:at + 4]} for at in (0, 4)] == [
        {f"review-{name}.ended-page.example" for name in names}, {f"due-{name}.ended-page.example" for name in names}]
    token_ = next(a["id"] for a in due["assertions"] if a["value"] == "due-amber.ended-page.example")
    confirmed = client.post(f"/api/v1/assertions/{token_}/confirm", headers=contributor)
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.get_json()["review_at"][:10] == (utcnow() + timedelta(days=180)).strftime("%Y-%m-%d")
    assert [a["value"] for a in client.get("/api/v1/review", headers=contributor,
                                           query_string={"days": "10"}).get_json()["assertions"]] == [
        a["value"] for a in due["assertions"] if a["id"] != token_]
    [row] = audit_rows(app, "assertion-confirm")
    assert (row["org"], row["subject"]["value"], row["result_count"]) == ("ccib-th", "due-amber.ended-page.example", 1)
    # Refusals: an unknown id, another org's contributor, a reader; another org's listing.
    assert client.post("/api/v1/assertions/nothing/confirm", headers=contributor).status_code == 400
    forged = token_[:-4] + ("AAAA" if not token_.endswith("AAAA") else "BBBB")
    assert client.post(f"/api/v1/assertions/{forged}/confirm", headers=contributor).status_code == 404
    other = _key(app, "pdrm-my", "contributor")
    assert client.post(f"/api/v1/assertions/{token_}/confirm", headers=other).status_code == 403
    assert client.post(f"/api/v1/assertions/{token_}/confirm", headers=_key(app, "ccib-th", "reader")).status_code == 403
    assert client.get("/api/v1/review", headers=other).get_json()["assertions"] == []  # its own org's only
    # An id of a red assertion, to a key that may not see it: unknown.
    red = client.get("/api/v1/review", headers=_key(app, "ccib-th", "contributor", "red"),
                     query_string={"days": "10"}).get_json()
    [red_id] = [a["id"] for a in red["assertions"] if a["tlp"] == "red" and a["status"] == "due"]
    assert client.post(f"/api/v1/assertions/{red_id}/confirm", headers=contributor).status_code == 404
    assert client.get("/api/v1/review", headers=contributor, query_string={"days": "x"}).status_code == 400


def test_the_review_page_confirms_with_its_button(app):
    client = app.test_client()
    sign_in(client, "somchai")
    page = client.get("/review/?days=10")
    assert page.status_code == 200
    buttons = dict(re.findall(r'<code>([^<]+)</code></a></td>.*?name="id" value="([^"]+)"', page.text, flags=re.S))
    # somchai (ccib-th, cap red) sees each level's: the report due in 5 days, the one ended by review
    assert len(buttons) == 2 * len(LEVELS) and "Review" in text_of(page.text)
    lapsed = buttons["review-red.ended-page.example"]
    # A form without its CSRF token is refused, as every form is.
    assert client.post("/review/confirm", data={"id": lapsed}).status_code == 403
    done = client.post("/review/confirm", data={"id": lapsed, "days": "10", "csrf_token": csrf_from(page.text)},
                       follow_redirects=True)
    assert done.status_code == 200 and "Confirmed review-red.ended-page.example" in text_of(done.text)
    assert len(re.findall(r'name="id" value="', done.text)) == 2 * len(LEVELS) - 1
    assert [r["subject"]["value"] for r in audit_rows(app, "assertion-confirm")] == ["review-red.ended-page.example"]
    # Confirmed, what had ended by review is listed again.
    assert verdicts(client.post("/", data={"values": "review-red.ended-page.example",
                                           "csrf_token": token(client)}).text) == {
        "review-red.ended-page.example": "listed"}
    reader = app.test_client()
    sign_in(reader, "aisyah")
    assert reader.get("/review/").status_code == 403
