"""The feeds page through Flask's test client, on SQLite and PostgreSQL: each feed's health,
the rows-per-run chart, a failed run's reason, rejected samples, anomaly flags, "run now" for
feed-admins only, and the one visibility rule (a feed at TLP:RED shows only to its provider)."""

from __future__ import annotations

import re
import time

import pytest

from registry.services.feeds import run_feed, sync_catalogue
from registry.storage import tables as t
from tests.web.ui_support import audit_rows, page_app, seed, sign_in, text_of, token


def _feed(folder, name: str, url: str, *, provider: str = "ccib-th", tlp: str = "green") -> None:
    (folder / f"{name}.toml").write_text(
        f'name = "{name}"\nprovider = "{provider}"\nurl = "{url}"\nformat = "text"\nschedule = "every 6h"\n'
        f'mode = "snapshot"\nconfidence = 60\ntlp = "{tlp}"\nlabels = ["scam-hosting"]\n', encoding="utf-8")


@pytest.fixture
def app(db, tmp_path):
    seed(db)
    folder = tmp_path / "feeds"
    folder.mkdir()
    good = tmp_path / "good.txt"
    good.write_text("45.80.0.1\n45.80.0.2\nnot an address at all\n", encoding="utf-8")
    _feed(folder, "good-feed", f"file://{good}")
    _feed(folder, "broken-feed", f"file://{tmp_path / 'gone.txt'}")
    _feed(folder, "red-feed", f"file://{good}", tlp="red")
    sync_catalogue(db, folder)
    run_feed(db, "good-feed", trigger="test")
    good.write_text("".join(f"45.80.0.{i}\n" for i in range(1, 7)), encoding="utf-8")
    run_feed(db, "good-feed", trigger="test")
    run_feed(db, "broken-feed", trigger="test")
    with page_app(db) as app:
        app.config["good_file"] = good
        yield app


def test_feeds_page_shows_status_counts_chart_and_a_failed_feeds_reason(app):
    client = app.test_client()
    sign_in(client, "aisyah")
    page = client.get("/feeds")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "good-feed" in text and "broken-feed" in text
    assert "red-feed" not in text  # TLP:RED from ccib-th: not for pdrm-my
    broken = re.search(r'<tr>\s*<td><a href="/feeds/broken-feed">.*?</tr>', page.text, flags=re.S).group(0)
    assert "failed" in broken and "gone.txt" in text_of(broken)
    good = re.search(r'<tr>\s*<td><a href="/feeds/good-feed">.*?</tr>', page.text, flags=re.S).group(0)
    bars = re.findall(r'<rect class="bar-(\w+)" x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)"', good)
    assert [kind for kind, _ in bars] == ["ok", "ok"]
    assert float(bars[0][1]) < float(bars[1][1])  # 3 rows, then 6: the later bar is taller
    assert [r["action"] for r in audit_rows(app, "feeds-read")] == ["feeds-read"]


def test_feed_page_lists_runs_and_the_rejected_lines(app):
    client = app.test_client()
    sign_in(client, "aisyah")
    page = client.get("/feeds/good-feed")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "not an address at all" in text and "Rejected lines" in text
    assert len(re.findall(r'<span class="feed-status ok">ok</span>', page.text)) == 2
    assert "Run now" not in page.text  # a reader cannot run feeds
    broken = text_of(client.get("/feeds/broken-feed").text)
    assert "failed" in broken and "gone.txt" in broken
    assert client.get("/feeds/red-feed").status_code == 404  # invisible is unknown
    assert client.get("/feeds/no-such-feed").status_code == 404
    assert client.get("/feeds/Bad Name!").status_code == 404


def test_feed_admins_run_a_feed_now(app):
    reader = app.test_client()
    sign_in(reader, "aisyah")
    assert reader.post("/feeds/good-feed/run", data={"csrf_token": token(reader, "/feeds")}).status_code == 403
    admin = app.test_client()
    sign_in(admin, "feedops")
    page = admin.get("/feeds/good-feed")
    assert "Run now" in page.text
    assert admin.post("/feeds/good-feed/run").status_code == 403  # no CSRF token: refused
    app.config["good_file"].write_text("45.80.0.1\n", encoding="utf-8")
    started = admin.post("/feeds/good-feed/run", data={"csrf_token": token(admin, "/feeds/good-feed")},
                         follow_redirects=True)
    assert started.status_code == 200
    assert "Started a run of good-feed" in text_of(started.text)
    deadline = time.monotonic() + 30
    while True:  # the run works on a thread of the server: the page shows it once it ends
        page = admin.get("/feeds/good-feed").text
        if len(re.findall(r'<span class="feed-status ok">ok</span>', page)) == 3 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert len(re.findall(r'<span class="feed-status ok">ok</span>', page)) == 3
    runs = audit_rows(app, "feed-run")
    assert [(r["actor"], r["subject"]["feed"]) for r in runs] == [("feedops", "good-feed")]
    with app.extensions["registry.db"].read() as conn:
        triggers = [r.trigger for r in conn.execute(t.metadata.tables["feed_run"].select())]
    assert triggers.count("web") == 1


def test_anomaly_flags_show_on_both_pages(app):
    flag = "rows fell from 600 to 6 (usual 600)"
    with app.extensions["registry.db"].write() as conn:  # the feed runner's guard wrote this
        table = t.metadata.tables["feed_run"]
        feed_id = conn.execute(t.metadata.tables["feed"].select().where(
            t.metadata.tables["feed"].c.name == "good-feed")).first().id
        last = max(r.id for r in conn.execute(table.select().where(table.c.feed_id == feed_id)))
        conn.execute(table.update().where(table.c.id == last).values(anomaly=flag))
    client = app.test_client()
    sign_in(client, "aisyah")
    listing = client.get("/feeds").text
    assert f'<span class="flag" title="{flag}">anomaly</span>' in listing
    good = re.search(r'<tr>\s*<td><a href="/feeds/good-feed">.*?</tr>', listing, flags=re.S).group(0)
    assert re.findall(r'<rect class="bar-(\w+)"', good) == ["ok", "flagged"]
    assert flag in client.get("/feeds/good-feed").text
