"""Fetching feeds from a real HTTP server on 127.0.0.1: conditional requests, retries,
timeouts, limits, bodies that are not the feed, compressed bodies, credentials."""

from __future__ import annotations

import gzip
import io
import zipfile

import pytest

from registry.services.feeds import run_feed
from tests.feeds.support import Answer, add_feed
from tests.feeds.test_golden_runs import stored
from tests.helpers import FIXTURES

DROP = (FIXTURES / "spamhaus/spamhaus_drop_2025-01-17.txt").read_bytes()
FAST = {"backoff": 0.01, "connect_timeout": 2, "read_timeout": 2}


def feed(db, http, path="/drop.txt", name="drop", **options):
    add_feed(db, name, http.url + path, "text", **{**FAST, **options})


def test_200_then_304_with_etag_is_a_cheap_recorded_run(sqlite_db, http):
    def answer(handler):
        if handler.headers.get("If-None-Match") == '"v1"':
            return Answer(304, headers={"ETag": '"v1"'})
        return Answer(200, DROP, {"ETag": '"v1"', "Last-Modified": "Fri, 17 Jan 2025 17:03:47 GMT"})

    http.route("/drop.txt", answer)
    feed(sqlite_db, http)
    first = run_feed(sqlite_db, "drop")
    assert (first.status, first.http_status, first.bytes, first.rows, first.new) == ("ok", 200, len(DROP), 1385, 1385)
    second = run_feed(sqlite_db, "drop")
    assert (second.status, second.http_status, second.rows, second.new, second.expired) == ("not-modified", 304, 0, 0, 0)
    sent = http.requests[-1][1]
    assert sent["If-None-Match"] == '"v1"' and sent["If-Modified-Since"] == "Fri, 17 Jan 2025 17:03:47 GMT"
    assert second.duration < 1.0
    assert len(stored(sqlite_db, "drop")) == 1385  # a 304 expires nothing


def test_500_then_success_on_retry(sqlite_db, http):
    http.route("/drop.txt", Answer(500, b"oops"), Answer(503, b"busy", {"Retry-After": "0"}), Answer(200, DROP))
    feed(sqlite_db, http)
    run = run_feed(sqlite_db, "drop")
    assert (run.status, run.http_status, run.new) == ("ok", 200, 1385)
    assert len(http.requests) == 3


def test_500_every_time_fails_after_the_retries(sqlite_db, http):
    http.route("/drop.txt", Answer(502, b"bad gateway"))
    feed(sqlite_db, http, retries=2)
    run = run_feed(sqlite_db, "drop")
    assert (run.status, run.http_status) == ("failed", 502)
    assert run.error.startswith("HTTP 502 Bad Gateway from http://127.0.0.1:") and "(after 3 attempts)" in run.error
    assert len(http.requests) == 3 and stored(sqlite_db, "drop") == []


def test_404_is_not_retried(sqlite_db, http):
    feed(sqlite_db, http, path="/missing.txt")
    run = run_feed(sqlite_db, "drop")
    assert (run.status, run.http_status) == ("failed", 404) and len(http.requests) == 1


def test_a_slow_server_hits_the_read_timeout(sqlite_db, http):
    http.route("/drop.txt", Answer(200, DROP, delay=1.5))
    feed(sqlite_db, http, read_timeout=0.3, retries=1)
    run = run_feed(sqlite_db, "drop")
    assert run.status == "failed"
    assert "within 2/0.3 s (connect/read timeout)" in run.error and "after 2 attempts" in run.error
    assert stored(sqlite_db, "drop") == []


def test_an_oversized_body_fails_before_any_row(sqlite_db, http):
    http.route("/drop.txt", Answer(200, DROP))
    feed(sqlite_db, http, max_mb=0.01)  # 10 KiB
    run = run_feed(sqlite_db, "drop")
    assert run.status == "failed" and "over the limit of 10,485 bytes" in run.error
    assert run.rows == 0 and stored(sqlite_db, "drop") == []


def test_an_oversized_body_without_content_length_is_cut_while_read(sqlite_db, http):
    http.route("/drop.txt", Answer(200, DROP, {"Content-Length": None}))
    feed(sqlite_db, http, max_mb=0.01)
    run = run_feed(sqlite_db, "drop")
    assert run.status == "failed" and run.error == "the body passed the limit of 10,485 bytes (max_mb)"
    assert stored(sqlite_db, "drop") == []


def test_a_gzip_bomb_is_stopped_by_the_decompressed_limit(sqlite_db, http):
    gz = gzip.compress(DROP * 20)
    http.route("/bomb.txt.gz", Answer(200, gz))
    feed(sqlite_db, http, path="/bomb.txt.gz", name="bomb", max_mb=0.5)
    run = run_feed(sqlite_db, "bomb")
    assert run.status == "failed" and "once decompressed" in run.error and stored(sqlite_db, "bomb") == []


def test_an_html_error_page_fails_the_run_and_changes_nothing(sqlite_db, http):
    http.route("/drop.txt", Answer(200, DROP), Answer(200, b"<!DOCTYPE html><html><body>Login</body></html>",
                                                       {"Content-Type": "text/html"}))
    feed(sqlite_db, http)
    assert run_feed(sqlite_db, "drop").new == 1385
    run = run_feed(sqlite_db, "drop")
    assert run.status == "failed" and run.error == "drop: an HTML page, not a feed"
    assert run.expired == 0 and len(stored(sqlite_db, "drop")) == 1385
    with sqlite_db.read() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM assertion WHERE valid_until IS NOT NULL").scalar() == 0


@pytest.mark.parametrize(("fmt", "body", "error"), [
    ("text", b'{"type": "bundle", "objects": []}', "drop: the body is JSON, not a text feed"),
    ("csv", b"<?xml version='1.0'?><rss></rss>", "drop: the body is XML or markup, not a csv feed"),
    ("json", DROP, "drop: the body is not JSON, so not a json feed"),
    ("stix", b'{"Event": {"uuid": "x"}}', "drop: the body is misp, not a STIX bundle"),
    ("text", b"\x00\x01\x02binary", "drop: binary data, not a text feed"),
])
def test_a_body_in_the_wrong_format_fails_with_that_reason(sqlite_db, http, fmt, body, error):
    http.route("/drop.txt", Answer(200, body))
    add_feed(sqlite_db, "drop", http.url + "/drop.txt", fmt, **FAST)
    run = run_feed(sqlite_db, "drop")
    assert (run.status, run.error, run.rows) == ("failed", error, 0)


def test_a_truncated_gzip_fails_before_any_row(sqlite_db, http):
    whole = gzip.compress(DROP)
    http.route("/drop.txt.gz", Answer(200, whole[: len(whole) // 2], {"Content-Type": "application/gzip"}))
    feed(sqlite_db, http, path="/drop.txt.gz")
    run = run_feed(sqlite_db, "drop")
    assert run.status == "failed" and run.error.startswith("the gzip body is truncated")
    assert run.bytes == len(whole) // 2 and stored(sqlite_db, "drop") == []


def test_a_body_cut_short_is_retried(sqlite_db, http):
    http.route("/drop.txt", Answer(200, DROP, cut=1000), Answer(200, DROP))
    feed(sqlite_db, http)
    run = run_feed(sqlite_db, "drop")
    assert (run.status, run.new) == ("ok", 1385) and len(http.requests) == 2


def test_gzip_content_encoding_and_zip_bodies(sqlite_db, http):
    http.route("/drop.txt", Answer(200, gzip.compress(DROP), {"Content-Encoding": "gzip"}))
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("README.txt", "not this one")
        z.writestr("drop.txt", DROP)
    http.route("/drop.zip", Answer(200, archive.getvalue(), {"Content-Type": "application/zip"}))
    feed(sqlite_db, http)
    feed(sqlite_db, http, path="/drop.zip", name="drop-zip", member="drop.txt")
    gz = run_feed(sqlite_db, "drop")
    assert (gz.status, gz.new, gz.bytes) == ("ok", 1385, len(gzip.compress(DROP)))
    assert http.requests[0][1]["Accept-Encoding"] == "gzip"
    zipped = run_feed(sqlite_db, "drop-zip")
    assert (zipped.status, zipped.unchanged) == ("ok", 0) and zipped.new == 1385


def test_credentials_come_from_the_named_environment_variable(sqlite_db, http, monkeypatch):
    http.route("/drop.txt", lambda h: Answer(200, DROP) if h.headers.get("X-Api-Key") == "s3cret" else Answer(403, b"no"))
    feed(sqlite_db, http, auth_header_env="PARTNER_X_TOKEN", auth_header="X-Api-Key")
    missing = run_feed(sqlite_db, "drop")
    assert missing.status == "failed" and "PARTNER_X_TOKEN" in missing.error and http.requests == []
    monkeypatch.setenv("PARTNER_X_TOKEN", "s3cret")
    run = run_feed(sqlite_db, "drop")
    assert (run.status, run.new) == ("ok", 1385)
    with sqlite_db.read() as conn:
        assert "s3cret" not in str(conn.exec_driver_sql("SELECT * FROM feed").fetchall())


def test_last_modified_alone_gives_a_304(sqlite_db, http):
    stamp = "Fri, 17 Jan 2025 17:03:47 GMT"
    http.route("/drop.txt", lambda h: Answer(304) if h.headers.get("If-Modified-Since") == stamp
               else Answer(200, DROP, {"Last-Modified": stamp}))
    feed(sqlite_db, http)
    assert run_feed(sqlite_db, "drop").new == 1385
    assert run_feed(sqlite_db, "drop").status == "not-modified"


def test_a_misp_feed_over_http(sqlite_db, http, tmp_path):
    from tests.feeds.test_golden_runs import misp_folder

    folder = misp_folder(FIXTURES / "misp/tweetfeed_feed", tmp_path / "misp").parent
    for path in folder.iterdir():
        body = path.read_bytes()
        headers = {"ETag": '"m1"'} if path.name == "manifest.json" else {}
        http.route(f"/misp/{path.name}", lambda h, body=body, headers=headers: (
            Answer(304) if headers and h.headers.get("If-None-Match") == '"m1"' else Answer(200, body, headers)))
    add_feed(sqlite_db, "misp-http", http.url + "/misp/", "misp", **FAST)
    run = run_feed(sqlite_db, "misp-http")
    assert (run.status, run.rows, run.new) == ("ok", 55, 55)
    assert sorted(p for p, _ in http.requests) == sorted(
        ["/misp/manifest.json"] + [f"/misp/{p.name}" for p in folder.iterdir() if p.name != "manifest.json"])
    again = run_feed(sqlite_db, "misp-http")
    assert (again.status, again.http_status) == ("not-modified", 304) and len(http.requests) == 4
