"""The large-file import path (normalising in worker processes, writing on a helper thread)
must give exactly what the plain path gives, and fail just as cleanly."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from registry.ingest.records import FeedFormatError
from registry.services.imports import import_file
from registry.services.orgs import add_org
from registry.services.submit import Provenance
from tests.helpers import FIXTURES

FEEDS = [
    "spamhaus/spamhaus_drop_2025-01-17.txt",
    "firehol/firehol_level1.netset",
    "phishing/openphish_feed_2025-05-30_ip_and_punycode.txt",
    "plain_ip_lists/criticalpath_avanzato_c2_mixed_v4_v6_first5000lines.txt",
]


def snapshot(db) -> list:
    with db.read() as conn:
        return conn.execute(text(
            "SELECT i.kind, i.value, i.prefix_len, i.allowlisted, a.confidence, a.tlp, a.labels, a.seq "
            "FROM indicator i JOIN assertion a ON a.indicator_id = i.id ORDER BY i.value")).all()


@pytest.mark.parametrize("feed", FEEDS)
def test_parallel_import_matches_the_plain_path(db, tmp_path, sqlite_template, feed):
    from tests.conftest import _sqlite_db

    (tmp_path / "other").mkdir()
    other = _sqlite_db(sqlite_template, tmp_path / "other")
    for database in (db, other):
        add_org(database, "spamhaus", "The Spamhaus Project")
    prov = Provenance(org="spamhaus", tlp="clear", confidence=80, labels=("spam-infrastructure",))
    _, plain = import_file(other, FIXTURES / feed, prov, parallel=False)
    _, parallel = import_file(db, FIXTURES / feed, prov, parallel=True)
    assert parallel.to_dict() == plain.to_dict()
    assert snapshot(db) == snapshot(other)
    _, again = import_file(db, FIXTURES / feed, prov, parallel=True)
    assert (again.new, again.unchanged) == (0, plain.new)
    other.dispose()


def test_parallel_import_that_fails_midway_leaves_nothing(db, tmp_path):
    (tmp_path / "bad").mkdir(exist_ok=True)
    feed = tmp_path / "bad" / "feed.txt"
    with feed.open("wb") as fh:
        for i in range(12_000):  # several batches land before the runaway line
            fh.write(f"45.{i // 250}.{i % 250}.1\n".encode())
        fh.write(b"b" * (2 << 20))
    add_org(db, "ccib-th", "CCIB", "TH")
    with pytest.raises(FeedFormatError, match="line 12001"):
        import_file(db, feed, Provenance(org="ccib-th"), parallel=True)
    with db.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM indicator")).scalar() == 0


def _parity(db, tmp_path, sqlite_template, feed, prov):
    from tests.conftest import _sqlite_db

    (tmp_path / "other").mkdir()
    other = _sqlite_db(sqlite_template, tmp_path / "other")
    for database in (db, other):
        add_org(database, prov.org, "Source", "TH")
    _, plain = import_file(other, feed, prov, parallel=False)
    _, parallel = import_file(db, feed, prov, parallel=True)
    assert parallel.to_dict() == plain.to_dict()
    assert snapshot(db) == snapshot(other)
    other.dispose()
    return parallel


def test_parallel_text_path_matches_on_messy_lines(db, tmp_path, sqlite_template):
    # The large-file path cuts the file into pieces parsed in the workers: line numbers,
    # rejects, undecodable lines, emergency numbers and remarks must come out as in one piece.
    feed = tmp_path / "messy.txt"
    with feed.open("wb") as fh:
        fh.write(b"\xef\xbb\xbf# header\r\n")
        for i in range(9_000):
            fh.write(f"45.{i // 250}.{i % 250}.9 ; remark {i}\r\n".encode() if i % 3 else f"0812{i:06d}\n".encode())
            if i % 1000 == 7:
                fh.write(b"not a value at all\r191\rbad \xff byte\n1.2.3.4 - 1.2.3.6\n\n")
        fh.write(b"last-line.example")
    report = _parity(db, tmp_path, sqlite_template, feed, Provenance(org="ccib-th", labels=("scam",)))
    assert report.allowlisted >= 9 and report.rejected >= 18 and report.new > 8_000
    assert any(r.line_no == 12 and r.reason == "not valid UTF-8" for r in report.rejects)


def test_parallel_text_path_reads_a_vcard_file(db, tmp_path, sqlite_template):
    source = (FIXTURES / "phone/th_scam_numbers_mijchachip.vcf").read_bytes()
    feed = tmp_path / "contacts.vcf"
    feed.write_bytes(b"\n\n" + source * 3)
    report = _parity(db, tmp_path, sqlite_template, feed, Provenance(org="ccib-th"))
    assert report.new > 0


def test_parallel_runaway_line_in_the_middle_names_it(db, tmp_path):
    feed = tmp_path / "long.txt"
    feed.write_bytes(b"1.2.3.4\n" * 5000 + b"z" * (2 << 20) + b"\n5.6.7.8\n")
    add_org(db, "ccib-th", "CCIB", "TH")
    with pytest.raises(FeedFormatError, match="line 5001: line longer"):
        import_file(db, feed, Provenance(org="ccib-th"), parallel=True)
    with db.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM indicator")).scalar() == 0


@pytest.mark.parametrize("feed", ["mixed/scam_case_all_kinds.txt", "mixed/mule_accounts.csv",
                                  "mixed/user_accounts.csv", "mixed/file_hashes.csv"])
def test_parallel_path_reads_every_kind_as_the_plain_path(db, tmp_path, sqlite_template, feed):
    # The CSV rows' bank, country and platform cells cross to the workers with their values.
    report = _parity(db, tmp_path, sqlite_template, FIXTURES / feed, Provenance(org="ccib-th"))
    assert report.new and report.rejected


def test_parallel_text_path_takes_the_platform(db, tmp_path, sqlite_template):
    feed = tmp_path / "names.txt"
    feed.write_text("".join(f"@scam_officer_{i}\n" for i in range(50)) + "@ab\n")
    report = _parity(db, tmp_path, sqlite_template, feed, Provenance(org="ccib-th", platform="telegram"))
    assert (report.new, report.rejected) == (50, 1)
