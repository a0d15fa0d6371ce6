"""The Admiralty grading over HTTP and on the web page, on both engines: the API takes
``reliability`` and ``credibility`` per submitted indicator (a bad one is a 400 naming the
field) and shows them in lookups, search and the feed list; the lookup page's details and the
indicator page show each report's grade and how it weighed in the score."""

from __future__ import annotations

import pytest

from registry.services.submit import Provenance, Submission, Submitter
from tests.feeds.support import add_feed
from tests.web.ui_support import page_app, seed, sign_in, text_of, token


def test_the_api_takes_grades_checks_them_and_shows_them(server):
    submitted = server.post("/api/v1/indicators", "ccib-contrib", json={"indicators": [
        {"value": "a-api-grade.example", "reliability": "B", "credibility": 2},
        {"value": "b-api-grade.example", "reliability": "E", "credibility": 3, "confidence": 90},
        {"value": "c-api-grade.example"},
    ]})
    assert submitted.status_code == 200, submitted.text
    assert [r["status"] for r in submitted.json()["results"]] == ["new", "new", "new"]
    for item, field, said in (({"reliability": "b"}, "indicators[1].reliability", 'not "b"'),
                              ({"reliability": 1}, "indicators[1].reliability", "not 1"),
                              ({"credibility": 7}, "indicators[1].credibility", "not 7"),
                              ({"credibility": "2"}, "indicators[1].credibility", 'not "2"')):
        bad = server.post("/api/v1/indicators", "ccib-contrib", json={"indicators": [
            {"value": "d-api-grade.example"}, {"value": "e-api-grade.example", **item}]})
        assert bad.status_code == 400, bad.text
        error = bad.json()["error"]
        assert error["details"]["field"] == field and error["message"].startswith(field) and said in error["message"], error
    looked = server.post("/api/v1/lookup", "pdrm-reader", json={"values": [
        "a-api-grade.example", "b-api-grade.example", "c-api-grade.example", "d-api-grade.example"]}).json()["results"]
    first, second, plain, never = (r["matches"][0]["assertions"][0] if r["matches"] else None for r in looked)
    assert (first["confidence"], first["reliability"], first["credibility"]) == (70, "B", 2)
    assert (second["confidence"], second["reliability"], second["credibility"]) == (90, "E", 3)
    assert "reliability" not in plain and "credibility" not in plain and never is None  # the 400s stored nothing
    (item,) = looked[1]["explanation"]
    assert (item["reliability_weight"], item["graded_confidence"]) == (0.3, 59)  # 90 bounded to 3's 40–59
    found = server.get("/api/v1/indicators", "pdrm-reader", params={"q": "a-api-grade"}).json()["indicators"]
    assert [(a["reliability"], a["credibility"]) for a in found[0]["assertions"]] == [("B", 2)]


@pytest.fixture
def app(db):
    seed(db)
    with db.write() as conn:
        submitter = Submitter(conn, Provenance(org="ccib-th", tlp="green"))
        submitter.add(Submission("graded-page.example", reliability="B", credibility=2, confidence=95))
        submitter.add(Submission("plain-page.example"))
        submitter.finish()
    add_feed(db, "graded-feed", "https://feeds.example/graded.txt", provider="ccib-th", reliability="C", credibility=3)
    with page_app(db) as app:
        yield app


def test_the_pages_show_each_reports_grade_and_how_it_weighed(app):
    client = app.test_client()
    sign_in(client, "aisyah")
    page = client.post("/", data={"values": "graded-page.example\nplain-page.example", "csrf_token": token(client)})
    text = text_of(page.text)
    # The details of the lookup: the report's grade, and the explanation of the score.
    assert "Grade" in text and " B2 " in f" {text} "
    assert "confidence 95 → 79 (credibility 2, probably true)" in text
    assert "× reliability B (usually reliable) 0.9" in text
    assert 'title="reliability B: usually reliable; credibility 2: probably true"' in page.text
    indicator = text_of(client.get("/indicator", query_string={"value": "graded-page.example"}).text)
    assert " B2 " in f" {indicator} " and "× reliability B (usually reliable) 0.9" in indicator
    plain = text_of(client.get("/indicator", query_string={"value": "plain-page.example"}).text)
    assert "reliability" not in plain and "credibility" not in plain
    feed = text_of(client.get("/feeds/graded-feed").text)
    assert "Grading C3" in feed and "Confidence, labels 50" in feed
