"""Every export format read back by a real consumer, on SQLite and PostgreSQL: netaddr for the
CIDR list, dnspython's zone parser for the RPZ zone, pymisp for the MISP feed, `registry import`
for the CSV and JSON lines, and the filters each format obeys."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from datetime import timedelta

import dns.rdatatype
import dns.zone
import orjson
import pytest
from click.testing import CliRunner
from netaddr import IPNetwork, IPSet, cidr_merge
from pymisp import MISPEvent

from registry.cli import main
from registry.domain.kinds import BANK_ACCOUNT, IPV4, IPV6
from registry.domain.normalize import normalize_one
from registry.domain.times import utcnow
from registry.domain.tlp import Viewer
from registry.export import misp
from registry.export.csvfile import COLUMNS
from registry.export.records import group
from registry.ingest import misp as misp_ingest
from registry.services import exports
from registry.services.errors import Invalid, NotFound
from registry.storage import export_reads
from registry.storage.db import current_seq
from tests.exports.support import (
    ALLOWLISTED,
    CCIB,
    EXPIRED,
    LISTED,
    SPAMHAUS,
    XMR,
    export_bytes,
    lines,
    seed,
)


@pytest.fixture
def seeded(db):
    seed(db)
    return db


def ip_values(values):
    return [v for v in values if normalize_one(v).kind in (IPV4, IPV6)]


def test_text_lists_each_current_value_once(seeded):
    assert sorted(lines(seeded, "text")) == LISTED
    # Expired and allowlisted values only when asked for.
    assert EXPIRED in lines(seeded, "text", include_expired="true")
    assert ALLOWLISTED in lines(seeded, "text", include_allowlisted="true")
    assert sorted(lines(seeded, "text", kind="phone")) == ["+66812345678", "+85597123*"]
    assert sorted(lines(seeded, "text", source="spamhaus")) == sorted(SPAMHAUS)
    assert sorted(lines(seeded, "text", label="spam")) == sorted(SPAMHAUS)
    assert lines(seeded, "text", label="spa%") == []  # a label, never a LIKE pattern


def test_cidr_covers_exactly_the_listed_ranges(seeded):
    blocks = lines(seeded, "cidr")
    listed = ip_values(LISTED)
    assert IPSet(blocks) == IPSet(listed)
    # The same blocks netaddr's cidr_merge gives from every network at once.
    assert [IPNetwork(b) for b in blocks] == cidr_merge(listed)
    assert "45.77.10.0/24" in blocks and "2a01:4f8::/32" in blocks  # adjacent halves merged
    assert {"45.77.12.1/32", "45.77.12.2/31"} <= set(blocks)
    assert len(blocks) == len(set(blocks))
    assert IPSet(lines(seeded, "cidr", kind="ipv6")) == IPSet(v for v in listed if ":" in v)
    assert ALLOWLISTED + "/32" in lines(seeded, "cidr", include_allowlisted="1")


def test_rpz_is_a_zone_dnspython_loads(seeded):
    text = export_bytes(seeded, "rpz", zone="rpz.registry.example").decode()
    zone = dns.zone.from_text(text, origin="rpz.registry.example.", relativize=True)  # checks SOA and NS
    names = {str(name) for name in zone.nodes}
    domains = ["evil-export.example", "login.bank-export.example", "xn--bcher-export-dlb.example"]
    assert names == {"@", *domains, *(f"*.{d}" for d in domains)}
    for name in names - {"@"}:
        (rdataset,) = zone.nodes[dns.name.from_text(name, None)].rdatasets
        assert rdataset.rdtype == dns.rdatatype.CNAME and str(rdataset[0].target) == "."
    soa = zone.get_rdataset("@", "SOA")[0]
    # Unix seconds of the newest change seen, or of the hour's start (see test_visible_only.py).
    now = int(utcnow().timestamp())
    assert now - now % 3600 <= soa.serial <= now
    assert zone.get_rdataset("@", "NS") is not None
    # A bad zone name is refused, naming the field.
    with pytest.raises(Invalid) as refused:
        exports.ExportQuery.parse({"zone": "bad zone!"})
    assert refused.value.field == "zone"


def test_csv_has_the_documented_columns_and_a_provenance_summary(seeded):
    rows = list(csv.DictReader(io.StringIO(export_bytes(seeded, "csv").decode())))
    assert tuple(rows[0]) == COLUMNS
    # The spreadsheet form puts a ' before phone numbers (a leading + is a formula): test_csv_safety.
    assert sorted(r["value"].removeprefix("'") for r in rows) == LISTED
    shared = next(r for r in rows if r["value"] == "45.77.10.0/25")
    assert shared["sources"] == "ccib-th,spamhaus" and shared["max_confidence"] == "90"
    assert shared["tlp"] == "amber"  # the most restricted of its assertions
    assert shared["labels"] == "phishing,spam" and shared["times_reported"] == "2"
    assert 90 <= int(shared["score"]) <= 100
    idn = next(r for r in rows if r["kind"] == "domain" and r["display"])
    assert idn["display"] == "bücher-export.example"
    # min_score drops what scores lower (ccib's own 70s stay at or under 70).
    strong = list(csv.DictReader(io.StringIO(export_bytes(seeded, "csv", min_score="80").decode())))
    assert sorted(r["value"] for r in strong) == sorted(SPAMHAUS)


def _import(tmp_path, monkeypatch, path, *args):
    monkeypatch.setenv("REGISTRY_DATABASE_URL", f"sqlite:///{tmp_path / 'other.db'}")
    monkeypatch.setenv("REGISTRY_INSTANCE_PATH", str(tmp_path / "instance"))
    runner = CliRunner()
    result = runner.invoke(main, ["org", "add", "hub-a", "--name", "Hub A", "--country", "TH"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["import", str(path), "--org", "hub-a", "--json", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return orjson.loads(result.stdout)


def _other_export(tmp_path, fmt: str) -> bytes:
    from registry.storage.db import Database

    other = Database(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        return export_bytes(other, fmt)
    finally:
        other.dispose()


def test_csv_round_trips_through_registry_import(seeded, tmp_path, monkeypatch):
    path = tmp_path / "export.csv"
    path.write_bytes(export_bytes(seeded, "csv"))
    report = _import(tmp_path, monkeypatch, path, "--tlp", "green")
    assert (report["format"], report["read"], report["new"], report["rejected"]) == ("csv", len(LISTED), len(LISTED), 0)
    again = list(csv.DictReader(io.StringIO(_other_export(tmp_path, "csv").decode())))
    original = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert sorted((r["value"], r["kind"], _display(r)) for r in again) == sorted(
        (r["value"], r["kind"], _display(r)) for r in original)
    assert {r["sources"] for r in again} == {"hub-a"} and {r["tlp"] for r in again} == {"green"}
    # Each row's labels, confidence and first report come back too (the import's defaults fill the rest).
    assert sorted((r["value"], r["labels"], r["max_confidence"], r["first_seen"]) for r in again) == sorted(
        (r["value"], r["labels"], r["max_confidence"], r["first_seen"]) for r in original)


def _display(row: dict) -> str:
    # A bank account's display is the account as first written ("Kasikornbank 123-4-56789-0"); read
    # back from its canonical value it is the digits at that bank: only the bank's name is carried.
    return re.sub(r"[\d\s+\-]+$", "", row["display"]) if row["kind"] == BANK_ACCOUNT else row["display"]


def test_json_lines_carry_every_visible_assertion_and_import_back(seeded, tmp_path, monkeypatch):
    records = [orjson.loads(line) for line in lines(seeded, "json")]
    assert sorted(r["value"] for r in records) == LISTED
    shared = next(r for r in records if r["value"] == "45.77.10.0/25")
    assert [(a["source"], a["feed"], a["tlp"], a["confidence"]) for a in shared["assertions"]] == [
        ("ccib-th", None, "amber", 70), ("spamhaus", "spamhaus-drop", "clear", 90)]
    assert shared["labels"] == ["phishing", "spam"] and shared["confidence"] == 90
    # A reader capped at GREEN sees spamhaus' assertion only.
    green = [orjson.loads(line) for line in lines(seeded, "json", Viewer("bank-x", "green"))]
    assert sorted(r["value"] for r in green) == sorted(SPAMHAUS)
    assert {a["source"] for r in green for a in r["assertions"]} == {"spamhaus"}
    # registry import reads it back, with the labels and confidence of each line.
    path = tmp_path / "export.jsonl"
    path.write_bytes(export_bytes(seeded, "json"))
    report = _import(tmp_path, monkeypatch, path)
    assert (report["format"], report["new"], report["rejected"]) == ("jsonl", len(LISTED), 0)
    back = {r["value"]: r for r in map(orjson.loads, _other_export(tmp_path, "json").decode().splitlines())}
    assert back["45.77.10.0/25"]["labels"] == ["phishing", "spam"] and back["45.77.10.0/25"]["confidence"] == 90
    assert back["+66812345678"]["confidence"] == 70


def test_misp_feed_loads_in_pymisp(seeded, tmp_path):
    folder = tmp_path / "feed"
    count = exports.write_misp_folder(seeded, Viewer.operator(), exports.ExportQuery(), folder)
    manifest = orjson.loads((folder / "manifest.json").read_bytes())
    assert count == len(manifest) == 2  # one event per source org and day: both reported today
    assert sorted(p.name for p in folder.iterdir()) == sorted(["manifest.json", "hashes.csv"] + [
        f"{uuid}.json" for uuid in manifest])
    events = {}
    for uuid, head in manifest.items():
        event = MISPEvent()
        event.load_file(str(folder / f"{uuid}.json"))
        assert event.uuid == uuid and event.info == head["info"] and event.Orgc.name in head["info"]
        events[event.Orgc.name] = event
    ccib, spamhaus = events["Royal Thai Police CCIB"], events["The Spamhaus Project"]
    as_misp = {normalize_one(v).value: misp.attribute_of(normalize_one(v).kind, normalize_one(v).value) for v in LISTED}
    assert sorted(a.value for a in ccib.attributes) == sorted(as_misp[v][2] for v in LISTED if v != "91.92.0.0/16")
    assert sorted(a.value for a in spamhaus.attributes) == sorted(SPAMHAUS)
    types = {a.value: (a.type, a.category) for a in ccib.attributes}
    assert types["+66812345678"] == ("phone-number", "Financial fraud")
    assert types["evil-export.example"] == ("domain", "Network activity")
    assert types["45.77.10.0/25"] == ("ip-dst", "Network activity")
    assert types["scam@evil-export.example"][0] == "email-src"
    # The kinds of issue 14 in MISP's own types where it has one, text (the canonical value) where not.
    assert types["acct:TH:KASI:1234567890"] == ("bank-account-nr", "Financial fraud")
    assert types["GB82WEST12345698765432"] == ("iban", "Financial fraud")
    assert types["acct:TH:TRUEMONEY:+66812345678"] == ("bank-account-nr", "Financial fraud")
    assert types["bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"] == ("btc", "Financial fraud")
    assert types[XMR] == ("xmr", "Financial fraud")
    assert types["tron:TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"] == ("text", "Financial fraud")
    assert types["telegram:kbank_support_th"] == ("text", "Social network")
    assert types["scam_export"] == ("twitter-id", "Social network")
    assert types["d41d8cd98f00b204e9800998ecf8427e"] == ("md5", "Payload delivery")
    assert types["e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"] == ("sha256", "Payload delivery")
    # ...and the registry's MISP import reads each back as the value exported.
    event = misp_ingest.parse_event((folder / f"{ccib.uuid}.json").read_bytes())
    assert sorted(normalize_one(r.value, r.kind, "TH", r.platform).value for r in event.records) == sorted(
        v for v in LISTED if v != "91.92.0.0/16")
    assert {t.name for a in ccib.attributes for t in a.tags} == {"tlp:amber", "phishing"}
    assert [t.name for t in ccib.tags] == ["tlp:amber"] and ccib.distribution == 0
    assert [t.name for t in spamhaus.tags] == ["tlp:clear"] and spamhaus.distribution == 3
    # hashes.csv: md5 of each attribute's value, and its event.
    hashes = sorted((folder / "hashes.csv").read_text().splitlines())
    assert hashes == sorted(f"{hashlib.md5(a.value.encode()).hexdigest()},{e.uuid}"
                            for e in events.values() for a in e.attributes)
    # Event ids are stable: the same feed again gives the same files.
    exports.write_misp_folder(seeded, Viewer.operator(), exports.ExportQuery(), tmp_path / "again")
    assert (tmp_path / "again" / "manifest.json").read_bytes() == (folder / "manifest.json").read_bytes()
    with seeded.read() as conn, pytest.raises(NotFound):
        exports.misp_event(conn, Viewer.operator(), exports.ExportQuery(), "00000000-0000-4000-8000-000000000000")


def test_misp_feed_writes_each_hash_of_a_file(db, tmp_path):
    from registry.services.orgs import add_org
    from registry.services.submit import Provenance, Submission, Submitter

    sha256, sha1 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "a9993e364706816aba3e25717850c26c9cd0d89d"
    md5 = "900150983cd24fb0d6963f7d28e17f72"
    add_org(db, "ccib-th", "Royal Thai Police CCIB", "TH")
    with db.write() as conn:
        submitter = Submitter(conn, Provenance(org="ccib-th", tlp="green", confidence=70))
        submitter.add(Submission(f"md5:{md5} sha1:{sha1} sha256:{sha256}"))
        submitter.finish()
    folder = tmp_path / "feed"
    exports.write_misp_folder(db, Viewer.operator(), exports.ExportQuery(), folder)
    (uuid,) = orjson.loads((folder / "manifest.json").read_bytes())
    event = MISPEvent()
    event.load_file(str(folder / f"{uuid}.json"))
    assert sorted((a.type, a.value) for a in event.attributes) == [("md5", md5), ("sha1", sha1), ("sha256", sha256)]
    assert len({a.uuid for a in event.attributes}) == 3
    assert sorted((folder / "hashes.csv").read_text().splitlines()) == sorted(
        f"{hashlib.md5(h.encode()).hexdigest()},{uuid}" for h in (md5, sha1, sha256))
    # The registry's MISP import reads the three back as the one file.
    records = misp_ingest.parse_event((folder / f"{uuid}.json").read_bytes()).records
    assert {normalize_one(r.value, r.kind).value for r in records} == {f"md5:{md5}", f"sha1:{sha1}", f"sha256:{sha256}"}


def test_since_a_change_sequence_or_a_time(seeded):
    with seeded.read() as conn:
        seq = current_seq(conn)
    assert lines(seeded, "text", since=str(seq)) == []
    from registry.services.submit import Provenance, Submission, Submitter

    with seeded.write() as conn:
        submitter = Submitter(conn, Provenance(org="spamhaus", tlp="clear", confidence=60))
        submitter.add(Submission("later-export.example"))
        submitter.finish()
    assert lines(seeded, "text", since=str(seq)) == ["later-export.example"]
    assert sorted(lines(seeded, "text", since=(utcnow() - timedelta(hours=1)).isoformat())) == sorted(
        LISTED + ["later-export.example"])
    assert lines(seeded, "text", since=(utcnow() + timedelta(hours=1)).isoformat()) == []
    with pytest.raises(Invalid) as refused:
        exports.ExportQuery.parse({"since": "yesterday"})
    assert refused.value.field == "since"


def test_stix_obeys_the_same_exclusions(seeded):
    doc = orjson.loads(export_bytes(seeded, "stix"))
    patterns = " ".join(o["pattern"] for o in doc["objects"] if o["type"] == "indicator")
    assert EXPIRED not in patterns and f"'{ALLOWLISTED}'" not in patterns
    everything = orjson.loads(export_bytes(seeded, "stix", include_expired="1", include_allowlisted="1"))
    patterns = " ".join(o["pattern"] for o in everything["objects"] if o["type"] == "indicator")
    assert EXPIRED in patterns and f"'{ALLOWLISTED}'" in patterns
    with pytest.raises(Invalid) as refused:
        export_bytes(seeded, "stix", min_score="10")
    assert refused.value.field == "min_score"


def test_pages_end_at_indicator_boundaries(seeded):
    """Rows of one indicator never straddle two pages, whatever the page size (the order of
    one indicator's rows is the engine's: writers sort them)."""
    selection = exports.ExportQuery().selection("csv", utcnow())

    def grouped(rows):
        return [(item.id, sorted(map(tuple, item.rows))) for item in group(rows)]

    with seeded.read() as conn:
        for order in (export_reads.BY_ID, export_reads.BY_RANGE):
            whole = grouped(export_reads.rows(conn, Viewer.operator(), selection, order=order))
            for page in (1, 2, 3):
                paged = grouped(export_reads.rows(conn, Viewer.operator(), selection, order=order, page=page))
                assert paged == whole, (order, page)
            assert [n for _, rows in whole for n in [len(rows)] if n > 1] == [2]  # 45.77.10.0/25, from two orgs
            assert len(whole) == (len(LISTED) if order == export_reads.BY_ID
                                                  else len(ip_values(LISTED)))


def test_bad_filters_name_their_field():
    for args, field in (({"kind": "nope"}, "kind"), ({"min_score": "101"}, "min_score"),
                        ({"min_score": "x"}, "min_score"), ({"include_expired": "maybe"}, "include_expired"),
                        ({"since": "²"}, "since")):
        with pytest.raises(Invalid) as refused:
            exports.ExportQuery.parse(args)
        assert refused.value.field == field, args
    with pytest.raises(NotFound):
        exports.check_format("xml")


def test_seed_is_what_the_tests_say():
    assert len(CCIB) == 26 and len(set(CCIB)) == 26
