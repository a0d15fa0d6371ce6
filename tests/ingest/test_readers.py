"""Golden-file tests: real feed samples (tests/fixtures, see SOURCES.md) through the line
parsers. Each asserts the exact number of records, the exact skipped lines with reasons,
and a few exact raw values."""

from __future__ import annotations

from pathlib import Path

import pytest

from registry.ingest.csvrows import parse_csv
from registry.ingest.plainlist import parse_text
from registry.ingest.records import FeedFormatError, Record, Skipped

FIXTURES = Path(__file__).parent.parent / "fixtures"


def read(parser, rel: str, **options) -> tuple[list[Record], list[Skipped]]:
    path = FIXTURES / rel
    with path.open("rb") as stream:
        items = list(parser(stream, name=path.name, **options))
    records = [i for i in items if isinstance(i, Record)]
    skipped = [i for i in items if isinstance(i, Skipped)]
    assert len(records) + len(skipped) == len(items)
    return records, skipped


def values(records: list[Record]) -> list[str]:
    return [r.value for r in records]


# ---------------------------------------------------------------------------------------
# Plain lists


@pytest.mark.parametrize(
    ("rel", "count", "first", "last"),
    [
        ("spamhaus/spamhaus_drop_2025-01-17.txt", 1385, "1.10.16.0/20", "223.254.0.0/16"),
        ("spamhaus/spamhaus_dropv6_2025-01-15.txt", 78, "2001:678:6c4::/48", "2c0f:6c0::/28"),
        ("spamhaus/spamhaus_edrop_2023-12.txt", 289, "2.56.247.0/24", "221.227.188.0/22"),
        ("spamhaus/spamhaus_edrop_2024-10_deprecated_empty.txt", 0, None, None),
        ("firehol/firehol_level1.netset", 2744, "0.0.0.0/8", "224.0.0.0/3"),
        ("firehol/spamhaus_drop.netset", 926, "1.10.16.0/20", "223.254.0.0/16"),
        ("firehol/et_block.netset", 1161, "1.10.16.0/20", "223.254.0.0/16"),
        ("firehol/dshield.netset", 18, "45.135.232.0/24", "195.54.160.0/24"),
        ("firehol/dshield_top_1000.ipset", 1000, "1.15.111.150", "223.238.215.181"),
        ("firehol/feodo.ipset", 0, None, None),
        ("firehol/sslbl.ipset", 0, None, None),
        ("plain_ip_lists/et_compromised-ips_2026-08-21.txt", 539, "101.100.216.61", "97.74.93.167"),
        (
            "plain_ip_lists/criticalpath_avanzato_c2_mixed_v4_v6_first5000lines.txt",
            5000,
            "93.71.143.16",
            "15.156.197.56",
        ),
        (
            "phishing/openphish_feed_2026-08-22.txt",
            300,
            "https://api.msuto.com/",
            "http://gleeful-mousse-699032.netlify.app/",
        ),
        (
            "phishing/openphish_feed_2025-05-30_ip_and_punycode.txt",
            300,
            "https://iman124.com/",
            "http://trezorstrat.webflow.io/",
        ),
        (
            "phishing/criticalpath_AtomSpam_urls_first300lines.txt",
            300,
            "http://00luminarious.sa.com/45op/",
            "http://jeffkoretke.com/panana/jdhdjk/a2FybEBkb3lsZXNlZWxiYWNoLmNvbQ==\u2026",
        ),
        (
            "phone/tr_spam_numbers_fossify_import_single_line.txt",
            199,
            "+902127053327",
            "+908509449501",
        ),
    ],
)
def test_plain_list_golden(rel, count, first, last):
    records, skipped = read(parse_text, rel)
    assert skipped == []
    assert len(records) == count
    if count:
        assert records[0].value == first
        assert records[-1].value == last
    for r in records:
        assert r.value == r.value.strip() and r.value
        assert r.kind is None and r.labels == () and r.confidence is None


def test_spamhaus_drop_remarks_and_line_numbers():
    records, _ = read(parse_text, "spamhaus/spamhaus_drop_2025-01-17.txt")
    first = records[0]
    assert (first.line_no, first.value, first.line) == (
        5,
        "1.10.16.0/20",
        "1.10.16.0/20 ; SBL256894",
    )
    # Four `;` header lines, then one CIDR per line, then `; EOF`.
    assert [r.line_no for r in records] == list(range(5, 5 + 1385))
    assert not any("SBL" in r.value or "EOF" in r.value for r in records)


def test_spamhaus_dropv6_remark_stripped():
    records, _ = read(parse_text, "spamhaus/spamhaus_dropv6_2025-01-15.txt")
    assert records[12].value == "2401:1760::/48"
    assert records[12].line == "2401:1760::/48 ; SBL655827"


def test_firehol_header_is_comments_and_bare_ips_kept():
    records, _ = read(parse_text, "firehol/et_block.netset")
    by_line = {r.line_no: r.value for r in records}
    assert by_line[40] == "5.2.158.159"  # bare IPs between CIDRs
    assert by_line[44] == "5.182.210.132"
    assert min(by_line) > 23  # `# Entries : 1161 subnets, ...` is a comment, not a value


def test_avanzato_ipv6_lines():
    records, _ = read(
        parse_text, "plain_ip_lists/criticalpath_avanzato_c2_mixed_v4_v6_first5000lines.txt"
    )
    by_line = {r.line_no: r.value for r in records}
    assert by_line[2384] == "2600:9000:2006:400:19:e4a2:8080:93a1"
    assert by_line[3873] == "2600:9000:2008:ee00:5:f422:f300:5e2"
    assert by_line[4988] == "2a02:4c00:0:4010::2"
    assert [r for r in records if ":" in r.value] == [
        r for r in records if r.line_no in (2384, 3873, 4988)
    ]


def test_openphish_punycode_and_sslip():
    records, _ = read(parse_text, "phishing/openphish_feed_2025-05-30_ip_and_punycode.txt")
    by_line = {r.line_no: r.value for r in records}
    assert by_line[243] == "http://38.54.8.194.sslip.io/"
    assert by_line[296] == "http://m.xn--wqr44au58h7ev.com/"


def test_atomspam_truncated_urls_are_still_records():
    records, _ = read(parse_text, "phishing/criticalpath_AtomSpam_urls_first300lines.txt")
    truncated = [r for r in records if r.value.endswith("\u2026")]
    assert len(truncated) == 63
    assert records[2].value == (
        "http://0ee307c.wcomhost.com/de/619ec3113ac40c03f1fa/clients/pass.php\u2026"
    )


def test_fossify_single_line_gives_each_number():
    records, _ = read(parse_text, "phone/tr_spam_numbers_fossify_import_single_line.txt")
    assert {r.line_no for r in records} == {1}
    assert all(r.value.startswith("+90") and "," not in r.value for r in records)
    assert records[1].value == "+902127065148"
    assert len(records[0].line) == 500  # the raw line, clipped for reports
    # The same numbers as the SpamBlocker CSV, in the same order.
    csv_records, _ = read(parse_csv, "phone/tr_spam_numbers_SpamBlocker.csv", column="number")
    assert values(records) == values(csv_records)


def test_vcard_contacts_give_tel_values():
    records, skipped = read(parse_text, "phone/th_scam_numbers_mijchachip.vcf")
    assert skipped == []
    assert len(records) == 26
    assert (records[0].line_no, records[0].value) == (5, "020-795-271")
    assert records[1].value == "092-131-1014"
    assert records[-1].value == "027-689-389"
    assert records[0].line == "TEL;HOME:020-795-271"


# ---------------------------------------------------------------------------------------
# CSV


def test_feodotracker_quoted_header_not_in_comment():
    records, skipped = read(
        parse_csv, "abusech/feodotracker_ipblocklist_2024-04-04.csv", column="dst_ip"
    )
    assert skipped == []
    assert len(records) == 28
    assert (records[0].line_no, records[0].value) == (10, "192.9.135.73")
    assert records[-1].value == "172.233.221.61"  # before `# END 28 entries`, no final newline
    assert records[0].line == (
        '"2023-05-23 17:51:44","192.9.135.73","1194","online","2024-04-01","Pikabot"'
    )
    # The value column is found without being named.
    auto, _ = read(parse_csv, "abusech/feodotracker_ipblocklist_2024-04-04.csv")
    assert auto == records


def test_threatfox_header_in_comment_and_comma_space_separator():
    records, skipped = read(
        parse_csv,
        "abusech/threatfox_full_urls_2025-12-07_first509lines.csv",
        column="ioc_value",
        columns={
            "kind": "ioc_type",
            "labels": "tags",
            "confidence": "confidence_level",
            "first_seen": "first_seen_utc",
            "description": "malware_printable",
        },
    )
    assert skipped == []
    assert len(records) == 500
    first = records[0]
    assert first.line_no == 10
    assert first.value == "http://195.133.9.204/skare.odd"
    assert first.kind == "url"
    assert first.labels == ("ClickFix", "Fake OS Update", "xHamster")
    assert first.confidence == 100
    assert first.first_seen == "2025-12-07 13:05:49"
    assert first.description == "Unknown malware"
    second = records[1]
    assert (second.value, second.labels, second.confidence) == (
        "https://shilohbn.ru.com",
        ("c2", "dcrat"),
        50,
    )
    assert records[-1].value == "http://www.igizenshop.com/ms04/"
    assert records[-1].line_no == 509
    assert not any(r.value.startswith(('"', " ")) for r in records)


def test_threatfox_none_cells_are_empty():
    records, _ = read(
        parse_csv,
        "abusech/threatfox_full_urls_2025-12-07_first509lines.csv",
        columns={"description": "malware_alias", "first_seen": "last_seen_utc"},
    )
    # Row 1: malware_alias "None", last_seen_utc "".
    assert records[0].description is None
    assert records[0].first_seen is None
    assert records[1].description == "DarkCrystal RAT"


def test_urlhaus_header_in_comment_labels_from_tags():
    records, skipped = read(
        parse_csv,
        "abusech/urlhaus_csv_online_2026-08-18_first21lines.csv",
        column="url",
        columns={"labels": "tags", "kind": "threat", "first_seen": "dateadded"},
    )
    assert skipped == []
    assert len(records) == 12
    assert records[0].value == "http://120.84.215.27:44835/i"
    assert records[0].labels == ()  # "None"
    assert records[1].labels == ("176-65-139-212", "elf", "mirai", "ua-wget")
    assert records[1].kind == "malware_download"
    assert records[1].first_seen == "2026-08-18 16:05:19"
    assert records[-1].value == "http://176.65.139.212/eclipse.powerpc"
    assert records[-1].line_no == 21


def test_sslbl_rows_longer_than_header():
    records, skipped = read(
        parse_csv, "abusech/sslbl_sslipblacklist_2015-10-15.csv", column="DstIP"
    )
    assert skipped == []
    assert len(records) == 83
    assert (records[0].line_no, records[0].value) == (10, "104.130.17.100")
    assert records[0].line == "104.130.17.100,443,URLzone C&C"
    assert records[-1].value == "95.215.108.70"
    # The third, unnamed field is reachable by position.
    described, _ = read(
        parse_csv, "abusech/sslbl_sslipblacklist_2015-10-15.csv", columns={"description": 2}
    )
    assert described[0].description == "URLzone C&C"
    assert described[0].value == "104.130.17.100"


def test_phishtank_quoted_urls_and_mojibake():
    records, skipped = read(
        parse_csv, "phishing/phishtank_online-valid_2019-05-15_first1200lines.csv", column="url"
    )
    assert skipped == []
    assert len(records) == 1199
    assert records[0].value == "http://paypals-gift-cards-business.gitlab.io/paypal.com"
    assert records[-1].value == (
        "https://onedrive.live.com/survey?resid=83391049B51F4B24!1431&amp;authkey=!AEO-iAQUK-I4ix0"
    )
    by_line = {r.line_no: r for r in records}
    assert by_line[67].value == "https://onedriveauth-login.firebaseapp.com/onedrive-sign-in,0"
    assert by_line[132].value == "https://spectrocoin.com/ru/купить-биткоины.html"
    # Double-encoded UTF-8 (valid UTF-8, C1 controls included) is kept as is.
    mojibake = "http://eve292929.dothome.co.kr/1122/?sec=SusanR\xc3\x83\xc2\x83\xc3\x82\xc2\x83"
    assert by_line[1084].value.startswith(mojibake)
    assert by_line[1084].value.endswith("nisch")
    assert by_line[1116].value.startswith(mojibake)
    assert by_line[1116].line.endswith(",2019-05-14T03:07:43+00:00,yes,Other")
    # The value column is found by name without being given (`url`, not `phish_detail_url`).
    auto, _ = read(parse_csv, "phishing/phishtank_online-valid_2019-05-15_first1200lines.csv")
    assert values(auto) == values(records)
    targets, _ = read(
        parse_csv,
        "phishing/phishtank_online-valid_2019-05-15_first1200lines.csv",
        columns={"description": "target"},
    )
    assert targets[0].description == "Other"
    assert by_line[132].line.endswith(',yes,"ABN AMRO Bank"')


def test_spamblocker_one_column_csv():
    records, skipped = read(parse_csv, "phone/tr_spam_numbers_SpamBlocker.csv", column="number")
    assert skipped == []
    assert len(records) == 199
    assert (records[0].line_no, records[0].value) == (2, "+902127053327")
    assert records[-1].value == "+908509449501"
    auto, _ = read(parse_csv, "phone/tr_spam_numbers_SpamBlocker.csv")
    assert auto == records


FTC = "phone/us_ftc_dnc_complaint_numbers_2021-07-08_first1000lines.csv"


def test_ftc_dnc_blank_numbers_are_skipped():
    records, skipped = read(parse_csv, FTC, column="Company_Phone_Number")
    assert len(records) == 955
    assert len(skipped) == 44
    assert {s.reason for s in skipped} == {"empty value in column Company_Phone_Number"}
    assert skipped[0] == Skipped(
        33,
        ",2021-07-07 00:22:04,2021-07-05 18:05:00,Cohoctah,Michigan,517,"
        '"Calls pretending to be government, businesses, or family and friends",Y',
        "empty value in column Company_Phone_Number",
    )
    assert skipped[1].line_no == 43
    assert (records[0].line_no, records[0].value) == (2, "4703352559")
    assert records[3].value == "70611454600144"  # bad length: normalisation rejects it
    assert records[-1].value == "2622161472"
    assert records[-1].line_no == 1000
    assert len(records) + len(skipped) == 999
    # CRLF line ends leave no `\r` anywhere.
    assert not any("\r" in r.line for r in records)
    # Case-insensitive column names; the auto pick finds the same column.
    lower, _ = read(parse_csv, FTC, column="company_phone_number")
    auto, _ = read(parse_csv, FTC)
    assert lower == records == auto


def test_ftc_quoted_subject_with_commas():
    records, _ = read(parse_csv, FTC, columns={"description": "Subject"})
    subjects = {r.description for r in records}
    assert "Calls pretending to be government, businesses, or family and friends" in subjects
    assert "Warranties  & protection plans" in subjects


def test_citizenlab_keyboy_multiline_fields():
    records, skipped = read(
        parse_csv,
        "threat_reports/citizenlab_201611_KeyBoy_iocs.csv",
        column="value",
        columns={"kind": "type", "description": "comment", "first_seen": "date"},
    )
    assert skipped == []
    assert len(records) == 33
    assert (records[0].line_no, records[0].kind, records[0].value) == (
        2,
        "md5",
        "495adb1b9777002ecfe22aaf52fcee93",
    )
    assert records[0].description == "Wab32res.dll payload, KeyBoy 20160509"
    assert records[0].first_seen == "20161107"
    yara = [r for r in records if r.kind == "yara"]
    assert [r.line_no for r in yara] == [18, 42, 68, 99, 144, 178, 204, 231, 247]
    assert yara[1].value.startswith("rule new_keyboy_header_codes\n{\n    meta:\n")
    assert 'author = "Matt Brooks, @cmatthewbrooks"' in yara[1].value
    assert "\r" not in yara[1].value
    by_value = {r.value: r for r in records}
    assert by_value["www.about.jkub.com"].line_no == 9
    assert by_value["112.10.117.47"].line_no == 270
    assert records[-1].value == "112.10.117.47"
    assert records[-1].kind == "ip-dst"
    assert len(yara[0].line) == 500  # the multi-line row's raw text, clipped


def test_citizenlab_endless_mayfly_13_columns_trailing_blank_line():
    records, skipped = read(
        parse_csv,
        "threat_reports/citizenlab_201905_EndlessMayfly_iocs.csv",
        columns={"kind": "type"},
    )
    assert skipped == []
    assert [(r.kind, r.value) for r in records][-2:] == [
        ("ip-dst", "217.182.54.223"),
        ("ip-dst", "51.255.101.144"),
    ]
    assert len(records) == 6


def test_tweetfeed_headerless_by_position():
    records, skipped = read(
        parse_csv,
        "mixed/tweetfeed_today_2026-08-22.csv",
        column=3,
        columns={"kind": 2, "labels": 4, "first_seen": 0},
        has_header=False,
    )
    assert skipped == []
    assert len(records) == 59
    first = records[0]
    assert (first.line_no, first.value, first.kind, first.labels, first.first_seen) == (
        1,
        "cvqgs36nhw-wtrkblpw-3i2d0e-cvq79c.pages.dev",
        "domain",
        ("ransomware",),
        "2026-08-22 02:53:35",
    )
    assert records[2].labels == ()  # empty tags cell
    assert records[-1].value == "84.247.187.67"
    assert records[-1].kind == "ip"
    assert records[-1].labels == ("C2", "RAT")
    assert any(r.labels == ("infostealer", "malvertising", "malware") for r in records)
    assert {r.kind for r in records} <= {"url", "domain", "ip", "sha256", "md5"}
    # A string of digits is a position too (what a command line passes).
    as_text, _ = read(parse_csv, "mixed/tweetfeed_today_2026-08-22.csv", column="3")
    assert values(as_text) == values(records)


def test_headerless_csv_needs_a_column_number():
    with pytest.raises(FeedFormatError) as info:
        read(parse_csv, "mixed/tweetfeed_today_2026-08-22.csv")
    assert str(info.value) == (
        "tweetfeed_today_2026-08-22.csv: line 1: no header row; give the value column by "
        "number (0-based)"
    )
    with pytest.raises(FeedFormatError, match="must be given as a number"):
        read(parse_csv, "mixed/tweetfeed_today_2026-08-22.csv", column="value", has_header=False)


def test_missing_column_names_the_header():
    with pytest.raises(FeedFormatError) as info:
        read(parse_csv, "abusech/feodotracker_ipblocklist_2024-04-04.csv", column="ip_addr")
    message = str(info.value)
    assert message.startswith(
        "feodotracker_ipblocklist_2024-04-04.csv: line 9: no column 'ip_addr'"
    )
    assert "first_seen_utc, dst_ip, dst_port, c2_status, last_online, malware" in message
    assert "\n" not in message
    with pytest.raises(FeedFormatError, match="no column 'tag' for the labels"):
        read(
            parse_csv,
            "abusech/urlhaus_csv_online_2026-08-18_first21lines.csv",
            columns={"labels": "tag"},
        )


def test_no_known_value_column_names_the_header():
    with pytest.raises(FeedFormatError) as info:
        read(parse_csv, "misp/tweetfeed_feed/hashes_first50lines.csv", has_header=True)
    assert "no value column among the header's columns" in str(info.value)
