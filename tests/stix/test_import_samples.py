"""Importing the real STIX samples (tests/fixtures/stix, see SOURCES.md): exact counts of
accepted and rejected patterns with their reasons, the sources found, and an export afterwards
that holds the samples' own indicator ids with the same values."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import text

from registry.services.orgs import add_org
from registry.services.stix_import import import_bundle
from registry.stix.patterns import Unrepresentable, pattern_values
from tests.helpers import FIXTURES
from tests.stix.support import exported, of_type

NOT_KEPT = ("{} is not a value the registry keeps (IPs, domains, URLs, email addresses, phone numbers, bank accounts, "
            "crypto wallets, user accounts, file hashes)")
FILE_NAME = "file:name is not a value the registry keeps (a file is kept by its MD5, SHA-1 or SHA-256 hash)"

# file: indicators, values read, new, unchanged, allowlisted, rejects by reason, single-value
# indicators (their ids come back), TLP of the assertions, sources (identity name → org, match)
SAMPLES = {
    "oasis_apt1.json": dict(  # its three file:hashes.md5 indicators land, ids and all
        indicators=12, read=10, new=10, unchanged=0, allowlisted=0, kept=10, tlp={"amber": 10}, orgs={},
        reasons={NOT_KEPT.format("x509-certificate:issuer"): 2},
    ),
    "oasis_indicator-for-c2-ip-address.json": dict(  # 10.0.0.0 is private: allowlisted, still kept
        indicators=1, read=1, new=0, unchanged=0, allowlisted=1, kept=1, tlp={"amber": 1}, orgs={}, reasons={},
    ),
    "oasis_indicators-for-C2-with-COA.json": dict(
        indicators=2, read=2, new=1, unchanged=0, allowlisted=1, kept=2, tlp={"amber": 2},
        orgs={"The MITRE Corporation - DHS Support Team": ("the-mitre-corporation-dhs-support-team", "created")},
        reasons={},
    ),
    "oasis_poisonivy.json": dict(  # OR patterns: 23 indicators give 65 values, 42 distinct; its report,
        # by FireEye, is an operation of FireEye's (docs/stix-taxii.md, "Operations")
        indicators=25, read=65, new=42, unchanged=22, allowlisted=0, kept=4, tlp={"amber": 42},
        orgs={"FireEye, Inc.": ("fireeye-inc", "created")},
        reasons={FILE_NAME: 2,
                 "'domain autuo.xicp.net' is not a valid domain: invalid character ' ' in label 'domain autuo'": 1},
    ),
    "talos_stix20_US-Toll-Road-SMS.json": dict(  # STIX 2.0; TLP:WHITE on the report → CLEAR
        indicators=42, read=42, new=42, unchanged=0, allowlisted=0, kept=42, tlp={"clear": 42},
        orgs={"Talos": ("talos", "created")}, reasons={},
    ),
    "talos_stix20_new_XorDDoS_controller_and_infrastructure.json": dict(  # file:hashes.SHA256 read too
        indicators=176, read=176, new=176, unchanged=0, allowlisted=0, kept=176, tlp={"clear": 176},
        orgs={"Talos": ("talos", "created")}, reasons={},
    ),
    "tweetfeed_stix21_bundle_today_2026-08-22.json": dict(
        indicators=59, read=59, new=59, unchanged=0, allowlisted=0, kept=59, tlp={"clear": 59},
        orgs={"TweetFeed": ("tweetfeed", "created")}, reasons={},
    ),
}


def single_valued(source: dict) -> dict[str, str]:
    """Indicator id → value, for the sample's indicators naming exactly one value."""
    out = {}
    for obj in source["objects"]:
        if obj["type"] == "indicator":
            try:
                values = pattern_values(obj["pattern"])
            except Unrepresentable:
                continue
            if len(values) == 1:
                out[obj["id"]] = values[0].value
    return out


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_sample_imports_with_exact_counts(db, name):
    import orjson

    expected = SAMPLES[name]
    add_org(db, "ccib-th", "Thai CCIB", "TH")
    data = (FIXTURES / "stix" / name).read_bytes()
    rejects = []
    report = import_bundle(db, data, default_org="ccib-th", on_reject=rejects.append)
    assert report.indicators == expected["indicators"]
    assert (report.read, report.new, report.unchanged, report.allowlisted) == (
        expected["read"], expected["new"], expected["unchanged"], expected["allowlisted"])
    assert Counter(r.reason for r in rejects) == expected["reasons"]
    assert report.rejected == len(rejects) == len(report.rejects)
    source = orjson.loads(data)
    patterns = {o["id"]: o["pattern"] for o in source["objects"] if o["type"] == "indicator"}
    for reject in rejects:  # a pattern reject: line = the object id, text = the pattern
        if "is not a valid" not in reject.reason:
            assert reject.text == patterns[reject.line_no]
    assert {o["name"]: (o["org"], o["match"]) for o in report.orgs} == expected["orgs"]
    with db.read() as conn:
        tlps = Counter(r[0] for r in conn.execute(text("SELECT tlp FROM assertion")))
    assert dict(tlps) == expected["tlp"]

    doc = exported(db)
    out = {o["id"]: pattern_values(o["pattern"])[0].value for o in of_type(doc, "indicator")}
    kept = single_valued(source)
    assert len(kept) == expected["kept"]
    assert {i: out.get(i) for i in kept} == kept  # same ids, same values


def test_reimport_matches_orgs_by_identity_and_changes_nothing(db):
    add_org(db, "ccib-th", "Thai CCIB", "TH")
    data = (FIXTURES / "stix" / "tweetfeed_stix21_bundle_today_2026-08-22.json").read_bytes()
    import_bundle(db, data, default_org="ccib-th")
    again = import_bundle(db, data, default_org="ccib-th")
    assert (again.new, again.updated, again.unchanged) == (0, 0, 59)
    assert again.orgs == [{"identity": "identity--96b9f522-7592-502b-a5f7-8fa59a268afd", "name": "TweetFeed",
                           "org": "tweetfeed", "match": "stix_id"}]


def test_labels_and_details_of_a_21_indicator(db):
    add_org(db, "ccib-th", "Thai CCIB", "TH")
    data = (FIXTURES / "stix" / "tweetfeed_stix21_bundle_today_2026-08-22.json").read_bytes()
    import_bundle(db, data, default_org="ccib-th", labels=("tweetfeed",), confidence=60)
    (obj,) = [o for o in of_type(exported(db), "indicator") if o["name"] == "84.247.187.67"]
    assert obj["id"] == "indicator--4a222040-ca91-5c61-835f-7ac5ec13a433"
    assert obj["labels"] == ["c2", "rat", "tweetfeed"]
    assert obj["confidence"] == 60  # the sample gives none: the import's default
    assert obj["created"] == obj["valid_from"] == "2026-08-22T13:35:34.000Z"
    assert obj["external_references"][0]["url"] == "https://x.com/Fact_Finder03/status/2091157330536841306"
    assert obj["description"] == "IOC reported by @Fact_Finder03 on Twitter/X."
    assert obj["object_marking_refs"] == ["marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"]


def test_talos_misp_labels_are_dropped(db):
    add_org(db, "ccib-th", "Thai CCIB", "TH")
    data = (FIXTURES / "stix" / "talos_stix20_US-Toll-Road-SMS.json").read_bytes()
    import_bundle(db, data, default_org="ccib-th")
    with db.read() as conn:
        labels = {r[0] for r in conn.execute(text("SELECT labels FROM assertion"))}
    assert labels == {","}  # misp:type="domain" and friends are machine tags, not labels


APT1_FILES = {  # the OASIS APT1 bundle's file-hash Indicators
    "indicator--8d12f44f-8ac0-4b12-8b4a-3699ca8c9691": "001dd76872d80801692ff942308c64e6",
    "indicator--745e1537-b4f3-49da-9f64-df6b1b5df190": "002325a0a67fded0381b5648d7fe9b8e",
    "indicator--1dbe6ed0-c305-458f-9cce-f83c678f5afd": "00dbb9e1c09dbdafb360f3163ba5a3de",
}


def test_apt1_file_hashes_land_and_keep_their_ids(db):
    add_org(db, "ccib-th", "Thai CCIB", "TH")
    report = import_bundle(db, (FIXTURES / "stix" / "oasis_apt1.json").read_bytes(), default_org="ccib-th")
    results = {r["id"]: r for r in report.results}
    doc = exported(db)
    out = {o["id"]: o for o in of_type(doc, "indicator")}
    files = {o["hashes"]["MD5"] for o in of_type(doc, "file")}
    for stix_id, md5 in APT1_FILES.items():
        assert results[stix_id]["status"] == "new" and "new_id" not in results[stix_id]
        assert out[stix_id]["pattern"] == f"[file:hashes.MD5 = '{md5}']"
        assert md5 in files
    with db.read() as conn:
        stored = {r[0] for r in conn.execute(text("SELECT value FROM indicator WHERE kind = 'file-hash'"))}
    assert stored == {f"md5:{md5}" for md5 in APT1_FILES.values()}
