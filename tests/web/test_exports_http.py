"""Exports over real HTTP (`registry serve`, SQLite and PostgreSQL): every format served as the
service writes it for the caller, weak ETags answered with 304, gzip when asked for, the MISP
feed at the URL a MISP instance is given (with or without its trailing slash), errors as JSON,
every export audited, HTTP/1.0 refused a stream (505), a failure before the first byte a JSON
error; and `registry export --format misp -o FOLDER` from the command line. (Large exports, and
streams that break midway: test_export_streams.py.)"""

from __future__ import annotations

import gzip
import subprocess
import time

import orjson
import pytest
import requests
from pymisp import MISPEvent

from registry.domain.tlp import Viewer
from tests.exports.support import LISTED, export_bytes, seed
from tests.web.conftest import REGISTRY

ADMIN = Viewer("registry-ops", "red")  # the "admin" key: the operators' org, cap red
MEDIA = {"text": "text/plain", "csv": "text/csv", "cidr": "text/plain", "rpz": "text/dns",
         "json": "application/x-ndjson", "stix": "application/stix+json"}
FEED = "/api/v1/export/misp"


@pytest.fixture(scope="module")
def seeded(server):
    seed(server.db, orgs=False)
    return server


@pytest.mark.parametrize("fmt", list(MEDIA))
def test_each_format_is_served_as_the_service_writes_it(seeded, fmt):
    response = seeded.get(f"/api/v1/export/{fmt}", key="admin")
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith(MEDIA[fmt])
    assert response.headers["ETag"].startswith('W/"')
    expected = export_bytes(seeded.db, fmt, ADMIN)
    if fmt in ("text", "cidr", "rpz"):
        assert response.content == expected
    elif fmt == "csv":  # scores are computed at the request's moment: compare all but the score
        def cut(data):
            return [line.split(",", 3)[::2] for line in data.decode().splitlines()]
        assert cut(response.content) == cut(expected)
    elif fmt == "json":
        def values(data):
            return [orjson.loads(line)["value"] for line in data.splitlines()]
        assert values(response.content) == values(expected) and sorted(values(expected)) == LISTED
    else:  # the API keys a member's bundle id with the server's secret (services.stix_export.bundle_id)
        assert _without_id(orjson.loads(response.content)) == _without_id(orjson.loads(expected))


def _without_id(bundle: dict) -> dict:
    return {k: v for k, v in bundle.items() if k != "id"}


def test_etag_answers_304_until_the_data_changes(seeded):
    first = seeded.get("/api/v1/export/text", key="pdrm-reader", params={"kind": "ipv4"})
    assert first.status_code == 200 and first.content
    etag = first.headers["ETag"]
    again = seeded.get("/api/v1/export/text", key="pdrm-reader", params={"kind": "ipv4"},
                       headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["ETag"] == etag
    # Another filter, format or caller is another entity.
    assert seeded.get("/api/v1/export/text", key="pdrm-reader", params={"kind": "ipv6"}).headers["ETag"] != etag
    assert seeded.get("/api/v1/export/cidr", key="pdrm-reader", params={"kind": "ipv4"}).headers["ETag"] != etag
    assert seeded.get("/api/v1/export/text", key="bank-green", params={"kind": "ipv4"}).headers["ETag"] != etag
    assert seeded.get("/api/v1/export/text", key="bank-green", params={"kind": "ipv4"},
                      headers={"If-None-Match": etag}).status_code == 200
    # A write makes a new one.
    posted = seeded.post("/api/v1/indicators", key="ccib-contrib", json={"indicators": [
        {"value": "45.77.99.1", "tlp": "green", "confidence": 50}]})
    assert posted.status_code == 200 and posted.json()["results"][0]["status"] == "new"
    changed = seeded.get("/api/v1/export/text", key="pdrm-reader", params={"kind": "ipv4"},
                         headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert "45.77.99.1" in changed.text.splitlines()


@pytest.mark.parametrize("fmt", ["text", "csv", "json", "stix"])
def test_gzip_when_the_client_accepts_it(seeded, fmt):
    plain = seeded.get(f"/api/v1/export/{fmt}", key="admin", headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200 and "Content-Encoding" not in plain.headers
    packed = seeded.get(f"/api/v1/export/{fmt}", key="admin", headers={"Accept-Encoding": "gzip"}, stream=True)
    assert packed.status_code == 200 and packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    raw = packed.raw.read(decode_content=False)
    assert raw[:2] == b"\x1f\x8b" and len(raw) < len(plain.content)
    body = gzip.decompress(raw)
    if fmt in ("text", "stix"):
        assert body == plain.content
    else:
        assert len(body.splitlines()) == len(plain.content.splitlines())
    # The same entity either way: one weak ETag.
    assert packed.headers["ETag"] == plain.headers["ETag"]


@pytest.mark.parametrize("base", [FEED + "/", FEED + "//"], ids=["feed-url", "feed-url-trailing-slash"])
def test_misp_feed_as_a_misp_instance_fetches_it(seeded, base):
    manifest = seeded.get(base + "manifest.json", key="pdrm-reader")
    assert manifest.status_code == 200, manifest.text
    heads = manifest.json()
    assert len(heads) == 2  # ccib-th's and spamhaus' reports of today
    hashes = seeded.get(base + "hashes.csv", key="pdrm-reader")
    assert hashes.status_code == 200 and hashes.headers["Content-Type"].startswith("text/csv")
    hashed_events = {line.split(",")[1] for line in hashes.text.splitlines()}
    assert hashed_events <= set(heads)
    attributes = 0
    for uuid, head in heads.items():
        response = seeded.get(f"{base}{uuid}.json", key="pdrm-reader")
        assert response.status_code == 200, response.text
        event = MISPEvent()
        event.load(response.content)
        assert event.uuid == uuid and event.timestamp.timestamp() == int(head["timestamp"])
        attributes += len(event.attributes)
        again = seeded.get(f"{base}{uuid}.json", key="pdrm-reader", headers={"If-None-Match": response.headers["ETag"]})
        assert again.status_code == 304
    assert attributes == len(hashes.text.splitlines())
    # A capped key gets its own feed: no attribute above its cap, and no event of only hidden ones.
    green = seeded.get(base + "manifest.json", key="bank-green").json()
    assert green and {h["Tag"][0]["name"] for h in green.values()} <= {"tlp:clear", "tlp:green"}
    for uuid in green:
        event = MISPEvent()
        event.load(seeded.get(f"{base}{uuid}.json", key="bank-green").content)
        assert {t.name for a in event.attributes for t in a.tags if t.name.startswith("tlp:")} <= {
            "tlp:clear", "tlp:green"}
    phishing = seeded.get(base + "manifest.json", key="pdrm-reader", params={"label": "phishing"}).json()
    assert [h["Tag"] for h in phishing.values()] == [[{"name": "tlp:amber"}]]
    assert seeded.get(base + "manifest.json", key="bank-green", params={"label": "phishing"}).json() == {}
    (hidden,) = phishing
    refused = seeded.get(f"{base}{hidden}.json", key="bank-green", params={"label": "phishing"})
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "not_found"


def test_errors_are_json(seeded):
    cases = [
        ("/api/v1/export/xml", "admin", 404, "format"),
        ("/api/v1/export/misp", "admin", 404, "format"),
        (FEED + "/", "admin", 404, "format"),
        (FEED + "/not-an-event.json", "admin", 404, "event"),
        ("/api/v1/export/text?kind=nope", "admin", 400, "kind"),
        ("/api/v1/export/csv?min_score=200", "admin", 400, "min_score"),
        ("/api/v1/export/stix?min_score=20", "admin", 400, "min_score"),
        ("/api/v1/export/rpz?zone=bad%20zone", "admin", 400, "zone"),
        ("/api/v1/export/text?since=yesterday", "admin", 400, "since"),
        ("/api/v1/export/text?label=a%00b", "admin", 400, "label"),
    ]
    for path, key, status, field in cases:
        response = seeded.get(path, key=key)
        assert response.status_code == status, (path, response.text)
        assert response.json()["error"]["details"]["field"] == field, path
    anonymous = requests.get(seeded.url + "/api/v1/export/text", timeout=10)
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "unauthorized"
    assert requests.get(seeded.url + FEED + "/manifest.json", timeout=10).status_code == 401


def test_http10_clients_are_refused_a_stream(seeded):
    """Over HTTP/1.0 a body ends where the connection closes: one cut short would look whole."""
    done = subprocess.run(["curl", "--silent", "--http1.0", "-H", f"Authorization: Bearer {seeded.keys['admin']}",
                           "--write-out", "\n%{http_code}", seeded.url + "/api/v1/export/text"],
                          capture_output=True, text=True, timeout=30)
    body, _, status = done.stdout.rpartition("\n")
    assert status == "505", done.stdout
    error = orjson.loads(body)["error"]
    assert error["code"] == "http_version_not_supported" and error["details"]["protocol"] == "HTTP/1.0"
    assert "HTTP/1.1" in error["message"]


def test_a_failure_before_the_first_byte_is_a_json_error(seeded):
    """The export's first read fails (its table is gone for a moment): a JSON 500, not the web
    server's own error page."""
    with seeded.db.write() as conn:
        conn.exec_driver_sql("ALTER TABLE assertion RENAME TO assertion_away")
    try:
        response = seeded.get("/api/v1/export/text", key="admin")
    finally:
        with seeded.db.write() as conn:
            conn.exec_driver_sql("ALTER TABLE assertion_away RENAME TO assertion")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"


def test_every_export_is_audited(seeded):
    marker = "audit-export-marker"
    assert seeded.get("/api/v1/export/csv", key="bank-green", params={"label": marker}).status_code == 200
    assert seeded.get(FEED + "/manifest.json", key="bank-green", params={"label": marker}).status_code == 200
    deadline = time.monotonic() + 15
    while True:
        events = seeded.get("/api/v1/audit", key="admin", params={"action": "export", "limit": 1000}).json()["events"]
        mine = [e for e in events if marker in str(e["subject"])]
        if len(mine) == 2 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert sorted(e["subject"]["format"] for e in mine) == ["csv", "misp"]
    assert {e["org"] for e in mine} == {"bank-x"}


def test_cli_writes_the_misp_feed_folder(seeded, tmp_path):
    folder = tmp_path / "misp-feed"
    done = subprocess.run([str(REGISTRY), "export", "--format", "misp", "-o", str(folder)], env=seeded.env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    manifest = orjson.loads((folder / "manifest.json").read_bytes())
    assert manifest and all((folder / f"{uuid}.json").is_file() for uuid in manifest)
    assert (folder / "hashes.csv").read_text().strip()
    missing = subprocess.run([str(REGISTRY), "export", "--format", "misp"], env=seeded.env, capture_output=True,
                             text=True)
    assert missing.returncode == 2 and "folder" in missing.stderr
    text = subprocess.run([str(REGISTRY), "export", "--format", "text", "--kind", "phone"], env=seeded.env,
                          capture_output=True, text=True)
    assert text.returncode == 0 and sorted(text.stdout.split()) == ["+66812345678", "+85597123*"]


def test_csv_is_spreadsheet_safe_unless_raw_is_asked_for(seeded, tmp_path):
    """Phone numbers start with +, a formula in a spreadsheet: the default form quotes them
    with a leading ', and ?raw=true (--raw) gives the exact values."""
    safe = seeded.get("/api/v1/export/csv", key="admin", params={"kind": "phone"})
    assert safe.status_code == 200 and safe.text.startswith('"value","kind",')
    assert sorted(line.split(",")[0] for line in safe.text.splitlines()[1:]) == ['"\'+66812345678"', '"\'+85597123*"']
    raw = seeded.get("/api/v1/export/csv", key="admin", params={"kind": "phone", "raw": "true"})
    assert raw.status_code == 200 and raw.text.startswith("value,kind,")
    assert sorted(line.split(",")[0] for line in raw.text.splitlines()[1:]) == ["+66812345678", "+85597123*"]
    assert raw.headers["ETag"] != safe.headers["ETag"]  # other bytes, another entity
    refused = seeded.get("/api/v1/export/csv", key="admin", params={"raw": "sometimes"})
    assert refused.status_code == 400 and refused.json()["error"]["details"]["field"] == "raw"
    for flags, first in (([], '"value"'), (["--raw"], "value")):
        out = tmp_path / f"phones{len(flags)}.csv"
        done = subprocess.run([str(REGISTRY), "export", "--format", "csv", "--kind", "phone", *flags, "-o", str(out)],
                              env=seeded.env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert out.read_text().split(",")[0] == first
