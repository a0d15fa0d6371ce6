"""Golden files: each sample feed (tests/fixtures, see SOURCES.md) run as a file:// feed end to
end (fetch, check, parse, normalise, allowlist, upsert), with the exact figures of its run, its
rejected lines and reasons, and a few exact canonical values stored."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import text

from registry.services.feeds import run_feed
from tests.feeds.support import add_feed
from tests.helpers import FIXTURES


def stored(db, feed: str = "golden") -> list[str]:
    with db.read() as conn:
        return list(conn.execute(text(
            "SELECT i.value FROM assertion a JOIN indicator i ON i.id = a.indicator_id WHERE a.feed = :feed "
            "ORDER BY a.id"), {"feed": feed}).scalars())


def misp_folder(source: Path, target: Path) -> Path:
    """A MISP feed folder from event files: each named by its uuid, and a manifest listing them
    (the samples keep 2 of the 365 events TweetFeed's manifest lists)."""
    target.mkdir()
    manifest = {}
    for path in sorted(source.glob("*.json")):
        if path.name == "manifest.json":
            continue
        event = json.loads(path.read_bytes())["Event"]
        shutil.copy(path, target / f"{event['uuid']}.json")
        manifest[event["uuid"]] = {"info": event["info"], "timestamp": event["timestamp"], "Orgc": event.get("Orgc")}
    (target / "manifest.json").write_text(json.dumps(manifest))
    return target / "manifest.json"


TWEETFEED_MD5 = "8523f2ff3ff13e510a9bf75665562b3b"
CIRCL_SHA1 = "77b0c41b7d340b8a3d903f21347bbf06aa766b5b"
# (sample, format, options, figures {rows, new, unchanged, allowlisted, rejected},
#  rejects [(line, reason start)] (the first ones), canonical values that must be stored)
GOLDEN = [
    ("spamhaus/spamhaus_drop_2025-01-17.txt", "text", {}, (1385, 1385, 0, 0, 0), [],
     ["1.10.16.0/20", "1.19.0.0/16", "98.98.195.0/24"]),
    ("spamhaus/spamhaus_dropv6_2025-01-15.txt", "text", {}, (78, 78, 0, 0, 0), [],
     ["2001:678:6c4::/48", "2c0f:6c0::/28"]),
    ("spamhaus/spamhaus_edrop_2024-10_deprecated_empty.txt", "text", {}, (0, 0, 0, 0, 0), [], []),
    # JSON lines with a trailing metadata record (passed over, not rejected)
    ("spamhaus/spamhaus_drop_v4_2025-04.json", "json", {"value_path": "cidr"}, (1406, 1406, 0, 0, 0), [],
     ["1.10.16.0/20", "95.161.128.0/24"]),
    # bogons are stored flagged allowlisted; 224.0.0.0/3 is too broad to hold
    ("firehol/firehol_level1.netset", "text", {}, (2744, 2731, 0, 12, 1),
     [(2777, "'224.0.0.0/3' is not a valid ipv4: too broad")], ["0.0.0.0/8", "1.10.16.0/20", "96.45.144.0/20"]),
    ("firehol/feodo.ipset", "text", {}, (0, 0, 0, 0, 0), [], []),
    # 63 URLs cut short with U+2026
    ("phishing/criticalpath_AtomSpam_urls_first300lines.txt", "text", {"kind": "url"}, (300, 237, 0, 0, 63),
     [(3, "'http://0ee307c.wcomhost.com/de/619ec3113ac40c03f1fa/clients"), (4, "'http://0eee38e.wcomhost.com/")],
     ["http://00luminarious.sa.com/45op/", "http://138.197.152.85/", "http://itochu-intra.com/"]),
    ("phishing/openphish_feed_2025-05-30_ip_and_punycode.txt", "text", {}, (300, 300, 0, 0, 0), [],
     ["http://38.54.8.194.sslip.io/", "https://xplorewerey.pages.dev/"]),
    ("abusech/feodotracker_ipblocklist_2024-04-04.csv", "csv", {"column": "dst_ip"}, (28, 28, 0, 0, 0), [],
     ["103.82.243.5", "94.72.104.80"]),
    ("abusech/threatfox_full_urls_2025-12-07_first509lines.csv", "csv",
     {"column": "ioc_value", "columns": {"labels": "tags", "confidence": "confidence_level"}}, (500, 500, 0, 0, 0), [],
     ["http://103.150.186.125", "http://103.163.208.184:8888/supershell/login/"]),
    ("abusech/urlhaus_csv_online_2026-08-18_first21lines.csv", "csv", {"column": "url", "columns": {"labels": "tags"}},
     (12, 12, 0, 0, 0), [], ["http://120.84.215.27:44835/i", "http://176.65.139.212/eclipse.sh4"]),
    ("abusech/sslbl_sslipblacklist_2015-10-15.csv", "csv", {}, (83, 83, 0, 0, 0), [],
     ["104.130.17.100", "95.215.108.70"]),
    # blank and impossible numbers; repeated numbers are unchanged within the run
    ("phone/us_ftc_dnc_complaint_numbers_2021-07-08_first1000lines.csv", "csv",
     {"column": "Company_Phone_Number", "region": "US", "kind": "phone"}, (999, 895, 45, 0, 59),
     [(5, "'70611454600144' is not a valid phone: not a possible number"),
      (33, "empty value in column Company_Phone_Number")], ["+12023803203", "+19896651146"]),
    ("phone/tr_spam_numbers_fossify_import_single_line.txt", "text", {"kind": "phone"}, (199, 199, 0, 0, 0), [],
     ["+902127053327", "+908509449501"]),
    ("phone/th_scam_numbers_mijchachip.vcf", "text", {"kind": "phone", "region": "TH"}, (26, 26, 0, 0, 0), [],
     ["+6620795271", "+66921311057"]),
    # headerless, by position; its type column (url, domain, ip, sha256) gives the kinds
    ("mixed/tweetfeed_today_2026-08-22.csv", "csv",
     {"column": 3, "has_header": False, "columns": {"labels": 4, "kind": 2}},
     (59, 59, 0, 0, 0), [],
     ["84.247.187.67", "bayberryalgebraic.com", "vkvfaith.com",
      "sha256:0e5b4d540f72a6d2d3c470b0455c5f59ac65413da375d702f8430edd981e07d3"]),
    ("stix/tweetfeed_stix21_bundle_today_2026-08-22.json", "stix", {}, (59, 59, 0, 0, 0), [],
     ["84.247.187.67", "bayberryalgebraic.com", "vkvfaith.com",
      "sha256:0e5b4d540f72a6d2d3c470b0455c5f59ac65413da375d702f8430edd981e07d3"]),
    # ip-dst, domain, url, sha256 and md5 attributes
    ("misp/tweetfeed_feed", "misp", {}, (55, 55, 0, 0, 0), [],
     ["193.27.90.102", "site-9dwosyvie.godaddysites.com", f"md5:{TWEETFEED_MD5}"]),
    # to_ids attributes only: hostnames, ip-dst and file hashes (links, file names, regkeys are not values here)
    ("misp/circl_osint_events", "misp", {}, (53, 53, 0, 0, 0), [],
     ["104.148.70.217", "98.126.156.210", "www.fyoutside.com", f"sha1:{CIRCL_SHA1}"]),
]


@pytest.mark.parametrize(("sample", "fmt", "options", "figures", "rejects", "values"), GOLDEN,
                         ids=[g[0] for g in GOLDEN])
def test_sample_feed_run(sqlite_db, tmp_path, sample, fmt, options, figures, rejects, values):
    source = FIXTURES / sample
    url = "file://" + str(misp_folder(source, tmp_path / "misp") if fmt == "misp" else source)
    add_feed(sqlite_db, "golden", url, fmt, **options)
    run = run_feed(sqlite_db, "golden").to_dict()
    assert run["status"] == "ok", run["error"]
    assert (run["rows"], run["new"], run["unchanged"], run["allowlisted"], run["rejected"]) == figures
    assert run["updated"] == run["expired"] == 0 and run["anomaly"] is None
    for (line, reason), got in zip(rejects, run["rejects"], strict=False):
        assert got["line"] == line and got["reason"].startswith(reason), got
    assert len(run["rejects"]) == min(run["rejected"], 20)
    kept = stored(sqlite_db)
    assert len(kept) == figures[1] + figures[3]  # new values, allowlisted ones included
    for value in values:
        assert value in kept
