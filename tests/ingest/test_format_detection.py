"""detect_format on every fixture file, and on the shapes the rules name."""

from __future__ import annotations

from pathlib import Path

import pytest

from registry.ingest.detect import FORMATS, detect_format
from registry.ingest.records import FeedFormatError
from registry.ingest.textio import HEAD_BYTES

FIXTURES = Path(__file__).parent.parent / "fixtures"

EXPECTED = {
    "abusech/feodotracker_ipblocklist_2024-04-04.csv": "csv",
    "abusech/sslbl_sslipblacklist_2015-10-15.csv": "csv",
    "abusech/threatfox_full_urls_2025-12-07_first509lines.csv": "csv",
    "abusech/urlhaus_csv_online_2026-08-18_first21lines.csv": "csv",
    "firehol/dshield.netset": "text",
    "firehol/dshield_top_1000.ipset": "text",
    "firehol/et_block.netset": "text",
    "firehol/feodo.ipset": "text",
    "firehol/firehol_level1.netset": "text",
    "firehol/spamhaus_drop.netset": "text",
    "firehol/sslbl.ipset": "text",
    "misp/circl_osint_events/57c4445b-c548-4654-af0b-4be3950d210f.json": "misp",
    "misp/circl_osint_events/circl_osint_sunorcal_2017-11-10.json": "misp",
    "misp/tweetfeed_feed/181b5be4-a1f6-53a4-8436-4d4cd3e272a3.json": "misp",
    "misp/tweetfeed_feed/3f683153-718d-553a-9f11-83cb317e5974.json": "misp",
    "misp/tweetfeed_feed/hashes_first50lines.csv": "csv",  # headerless md5,uuid
    "misp/tweetfeed_feed/manifest.json": "misp",  # a MISP feed manifest (138 KB, one line)
    "mixed/tweetfeed_today_2026-08-22.csv": "csv",  # headerless
    "mixed/scam_case_all_kinds.txt": "text",
    "mixed/mule_accounts.csv": "csv",
    "mixed/user_accounts.csv": "csv",
    "mixed/file_hashes.csv": "csv",  # header quoted, after a comment
    "phishing/criticalpath_AtomSpam_urls_first300lines.txt": "text",
    "phishing/openphish_feed_2025-05-30_ip_and_punycode.txt": "text",
    "phishing/openphish_feed_2026-08-22.txt": "text",
    "phishing/phishtank_online-valid_2019-05-15_first1200lines.csv": "csv",
    "phone/th_scam_numbers_mijchachip.vcf": "text",  # parse_text reads its TEL lines
    "phone/tr_spam_numbers_SpamBlocker.csv": "csv",  # one column: header `number`
    "phone/tr_spam_numbers_fossify_import_single_line.txt": "text",
    "phone/unit42_BazarCall_Appendix-A_callcenter_numbers.txt": "text",
    "phone/us_ftc_dnc_complaint_numbers_2021-07-08_first1000lines.csv": "csv",
    "plain_ip_lists/criticalpath_avanzato_c2_mixed_v4_v6_first5000lines.txt": "text",
    "plain_ip_lists/et_compromised-ips_2026-08-21.txt": "text",
    "spamhaus/spamhaus_drop_2025-01-17.txt": "text",
    "spamhaus/spamhaus_drop_v4_2025-04.json": "jsonl",
    "spamhaus/spamhaus_dropv6_2025-01-15.txt": "text",
    "spamhaus/spamhaus_edrop_2023-12.txt": "text",
    "spamhaus/spamhaus_edrop_2024-10_deprecated_empty.txt": "text",
    "stix/oasis_apt1.json": "stix",
    "stix/oasis_indicator-for-c2-ip-address.json": "stix",
    "stix/oasis_indicators-for-C2-with-COA.json": "stix",
    "stix/oasis_poisonivy.json": "stix",  # 90 KB: decided from a cut head
    "stix/talos_stix20_US-Toll-Road-SMS.json": "stix",
    "stix/talos_stix20_new_XorDDoS_controller_and_infrastructure.json": "stix",
    "stix/tweetfeed_stix21_bundle_today_2026-08-22.json": "stix",
    "threat_reports/citizenlab_201510_NGO_Burma_iocs.csv": "csv",
    "threat_reports/citizenlab_201611_KeyBoy_iocs.csv": "csv",
    "threat_reports/citizenlab_201905_EndlessMayfly_iocs.csv": "csv",
    "threat_reports/citizenlab_201905_EndlessMayfly_iocs.json": "misp",
    "threat_reports/citizenlab_201909_MissingLink_iocs.csv": "csv",
    "threat_reports/talos_Cisco-iOS-XE-IOCs.txt": "text",
    "threat_reports/talos_US-Toll-Road-SMS.txt": "text",
    "threat_reports/talos_mercenary-intellexa-predator.txt": "text",
    "threat_reports/talos_new_XorDDoS_controller_and_infrastructure.txt": "text",
    "threat_reports/unit42_Skimmer_IOC.txt": "text",
    "threat_reports/unit42_TA551_2020-07-09-IOCs-for-Ursnif.txt": "text",
}

# Files that are not feeds: detection refuses them with a one-line reason.
REFUSED = {
    "phone/libphonenumber_PhoneNumberAlternateFormats_SEA_JP_excerpt.xml": "an XML or markup document",
    "phone/libphonenumber_PhoneNumberMetadata_SEA_JP_CN_excerpt.xml": "an XML or markup document",
    "phone/ph_scam_db_reports/issue-10-001.json": "JSON that is not a STIX bundle",
    "phone/ph_scam_db_reports/issue-12-001.json": "JSON that is not a STIX bundle",
    "phone/ph_scam_db_reports/issue-5-001.json": "JSON that is not a STIX bundle",
    "phone/ph_scam_db_reports/issue-6-001.json": "JSON that is not a STIX bundle",
    "phone/ph_scam_db_reports/issue-9-001.json": "JSON that is not a STIX bundle",
    "phone/ph_scam_db_reports/report.schema.json": "JSON that is not a STIX bundle",
    "stix/tweetfeed_stix_manifest.json": "STIX JSON that is not a bundle",
}


def head_of(rel: str) -> bytes:
    with (FIXTURES / rel).open("rb") as f:
        return f.read(HEAD_BYTES)


def test_every_fixture_is_covered():
    files = {
        str(p.relative_to(FIXTURES))
        for p in FIXTURES.rglob("*")
        if p.is_file() and p.name != "SOURCES.md"
    }
    assert files == set(EXPECTED) | set(REFUSED)


@pytest.mark.parametrize(("rel", "fmt"), sorted(EXPECTED.items()))
def test_detect_fixture(rel, fmt):
    assert fmt in FORMATS
    assert detect_format(head_of(rel), name=Path(rel).name) == fmt


@pytest.mark.parametrize(("rel", "reason"), sorted(REFUSED.items()))
def test_detect_refuses_non_feeds(rel, reason):
    with pytest.raises(FeedFormatError) as info:
        detect_format(head_of(rel), name=Path(rel).name)
    message = str(info.value)
    assert message.startswith(f"{Path(rel).name}: {reason}")
    assert "\n" not in message


def test_detect_large_files_from_a_cut_head():
    # Over 64 KiB: only the head is looked at, and a cut JSON document is still recognised.
    assert len((FIXTURES / "stix/oasis_poisonivy.json").read_bytes()) > HEAD_BYTES
    assert detect_format((FIXTURES / "stix/oasis_poisonivy.json").read_bytes()) == "stix"
    manifest = (FIXTURES / "misp/tweetfeed_feed/manifest.json").read_bytes()
    assert len(manifest) > HEAD_BYTES
    assert detect_format(manifest) == "misp"
    jsonl = (FIXTURES / "spamhaus/spamhaus_drop_v4_2025-04.json").read_bytes()
    assert len(jsonl) > HEAD_BYTES
    assert detect_format(jsonl[:HEAD_BYTES]) == "jsonl"


@pytest.mark.parametrize(
    ("head", "fmt"),
    [
        (b"", "text"),
        (b"\n\n", "text"),
        (b"1.2.3.4\n5.6.7.8\n", "text"),
        (b"\xef\xbb\xbfevil.example\r\nbad.example\r\n", "text"),
        (b"# my list\nurl\nhttp://a.example/\n", "csv"),
        (b"indicator;type\n1.2.3.4;ip\n", "csv"),
        (b"Value\tComment\n1.2.3.4\tscanner\n", "csv"),
        (b"ts|src|host\n1|2|3\n", "csv"),
        (b"+66812345678,+66823456789\n", "text"),
        (b"1.2.3.4,5.6.7.8\n9.9.9.9,8.8.8.8\n", "text"),  # values joined by commas
        (b"1.2.3.4,scanner\n5.6.7.8,brute force\n", "csv"),  # value + remark columns
        (b"1.10.16.0/20 ; SBL256894\n1.19.0.0/16 ; SBL434604\n", "text"),
        (b'{"type": "bundle", "id": "bundle--1", "objects": []}', "stix"),
        (b'{"id": "bundle--1", "objects": [], "type": "bundle"}', "stix"),
        (b'{"Event": {"Attribute": []}}', "misp"),
        (b'{"response": [{"Event": {"Attribute": []}}]}', "misp"),
        (b'[{"Event": {}}, {"Event": {}}]', "misp"),
        (b'{"value": "1.2.3.4"}\n{"value": "5.6.7.8"}\n', "jsonl"),
        (b'{"value": "1.2.3.4"}', "jsonl"),
        (b"[2001:db8::1]:443\n[2001:db8::2]\n", "text"),
        (b"[.]evil.example\n", "text"),
        (b"BEGIN:VCARD\r\nVERSION:3.0\r\nTEL:+66812345678\r\nEND:VCARD\r\n", "text"),
    ],
)
def test_detect_shapes(head, fmt):
    assert detect_format(head) == fmt


@pytest.mark.parametrize(
    ("head", "reason"),
    [
        (b"\x1f\x8b\x08\x00\x00\x00\x00\x00", "binary data, not a text feed"),
        (b"PK\x03\x04\x14\x00\x00\x00", "binary data, not a text feed"),
        (
            b"<!DOCTYPE html>\n<html><body>Just a moment...</body></html>",
            "an HTML page, not a feed",
        ),
        (b'[{"value": "1.2.3.4"}, {"value": "5.6.7.8"}]', "JSON that is not a STIX bundle"),
        (b'{\n  "value": "1.2.3.4"\n}\n', "JSON that is not a STIX bundle"),
    ],
)
def test_detect_refusals(head, reason):
    with pytest.raises(FeedFormatError) as info:
        detect_format(head, name="feed")
    assert str(info.value).startswith(f"feed: {reason}")
