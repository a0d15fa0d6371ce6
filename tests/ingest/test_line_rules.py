"""The plain-list rules and the CSV quirks, on small inputs written here."""

from __future__ import annotations

import io

import pytest

from registry.ingest.csvrows import parse_csv
from registry.ingest.plainlist import parse_text, plain_values
from registry.ingest.records import FeedFormatError, Record, Skipped


def text_items(data: str | bytes) -> list[Record | Skipped]:
    raw = data.encode() if isinstance(data, str) else data
    return list(parse_text(io.BytesIO(raw), name="list.txt"))


def csv_items(data: str | bytes, **options) -> list[Record | Skipped]:
    raw = data.encode() if isinstance(data, str) else data
    return list(parse_csv(io.BytesIO(raw), name="feed.csv", **options))


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        # comments, blanks, remarks
        ("", []),
        ("   ", []),
        ("# comment", []),
        ("; EOF", []),
        ("  # indented comment", []),
        ("1.10.16.0/20 ; SBL256894", ["1.10.16.0/20"]),
        ("evil.example # seen 2024", ["evil.example"]),
        ("evil.example\t; remark", ["evil.example"]),
        ("http://a.example/#frag", ["http://a.example/#frag"]),
        ("http://a.example/x;y=1", ["http://a.example/x;y=1"]),
        ("- evil.example", ["evil.example"]),
        ("* 1.2.3.4", ["1.2.3.4"]),
        ("\u2022 +66 81 234 5678", ["+66 81 234 5678"]),
        # a value and a remark
        ("1.2.3.4 scanner", ["1.2.3.4"]),
        ("1.2.3.4 80", ["1.2.3.4"]),
        ("evil.example\tphishing kit, seen twice", ["evil.example"]),
        ("1.2.3.4 scanner, brute force", ["1.2.3.4"]),
        # several indicators on a line
        ("1.2.3.4 evil.example", ["1.2.3.4", "evil.example"]),
        ("1.2.3.4 5.6.7.8", ["1.2.3.4", "5.6.7.8"]),
        ("- 9ygw2[.]com - 185.183.162[.]169", ["9ygw2[.]com", "185.183.162[.]169"]),
        ("a@evil.example b@evil.example", ["a@evil.example", "b@evil.example"]),
        ("2001:db8::1 evil.example", ["2001:db8::1", "evil.example"]),
        ("2001:db8:0:0:0:0:0:1 [2001:db8::2]:443", ["2001:db8:0:0:0:0:0:1", "[2001:db8::2]:443"]),
        ("evil.example 12:00:00", ["evil.example"]),  # a time is not an IPv6 address
        ("evil.example 00:11:22:33:44:55", ["evil.example"]),
        # ranges
        ("1.2.3.4-1.2.3.9", ["1.2.3.4-1.2.3.9"]),
        ("1.2.3.4 - 1.2.3.9", ["1.2.3.4 - 1.2.3.9"]),
        ("2001:db8::1 - 2001:db8::ff", ["2001:db8::1 - 2001:db8::ff"]),
        # hosts files
        ("0.0.0.0 evil.example", ["evil.example"]),
        ("127.0.0.1\tevil.example www.evil.example", ["evil.example", "www.evil.example"]),
        (":: evil.example", ["evil.example"]),
        ("127.0.0.1 localhost", []),
        ("::1 localhost ip6-localhost ip6-loopback", []),
        ("255.255.255.255 broadcasthost", []),
        ("0.0.0.0", ["0.0.0.0"]),
        # phone numbers
        ("+66 81 234 5678", ["+66 81 234 5678"]),
        ("081 234 5678", ["081 234 5678"]),
        ("081-234-5678", ["081-234-5678"]),
        ("(02) 123 4567", ["(02) 123 4567"]),
        ("+1 (555) 010-9999", ["+1 (555) 010-9999"]),
        ("081 234 5678 call centre scam", ["081 234 5678"]),
        ("+66 81 234 5678 ; reported 3 times", ["+66 81 234 5678"]),
        ("0812345678 0823456789", ["0812345678", "0823456789"]),
        ("+85597123*", ["+85597123*"]),
        ("1669", ["1669"]),
        ("- 2021-04-08 - 1-909-741-1518 (repeat)", ["1-909-741-1518"]),
        ("2024-01-01 10:00:00 1.2.3.4", ["1.2.3.4"]),
        # comma-separated values
        (
            "+902127053327,+902127065148,+902129220066",
            ["+902127053327", "+902127065148", "+902129220066"],
        ),
        ("a.example, b.example ,c.example,", ["a.example", "b.example", "c.example"]),
        ("+66 81 234 5678, +66 82 345 6789", ["+66 81 234 5678", "+66 82 345 6789"]),
        ("1.2.3.4,scanner", ["1.2.3.4", "scanner"]),
        # URLs keep their commas; a comma before another scheme separates
        ("http://a.example/x,y,z", ["http://a.example/x,y,z"]),
        ("http://a.example/x, https://b.example/", ["http://a.example/x", "https://b.example/"]),
        (
            "hxxp://a[.]example/1,hxxps[:]//b[.]example/2",
            ["hxxp://a[.]example/1", "hxxps[:]//b[.]example/2"],
        ),
        # defanged and odd values come through raw
        ("1[.]2[.]3[.]4", ["1[.]2[.]3[.]4"]),
        ("http://jeffkoretke.com/x\u2026", ["http://jeffkoretke.com/x\u2026"]),
        ("  evil.example  ", ["evil.example"]),
    ],
)
def test_plain_values(line, expected):
    assert plain_values(line) == expected


def test_records_carry_line_numbers_and_raw_lines():
    data = "; header\n\n1.2.3.4 ; SBL1\r\n+66 81 234 5678,+66 82 345 6789\rlast.example"
    assert text_items(data) == [
        Record(3, "1.2.3.4", "1.2.3.4 ; SBL1"),
        Record(4, "+66 81 234 5678", "+66 81 234 5678,+66 82 345 6789"),
        Record(4, "+66 82 345 6789", "+66 81 234 5678,+66 82 345 6789"),
        Record(5, "last.example", "last.example"),
    ]


def test_long_raw_line_is_clipped_to_500():
    value = "http://a.example/" + "x" * 900
    (record,) = text_items(value + "\n")
    assert record.value == value
    assert record.line == value[:500]


def test_vcard_mode():
    data = (
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Scammer\r\nTEL;TYPE=CELL:+66 81 234 5678\r\n"
        "item1.TEL:tel:+66-2-123-4567\r\nEMAIL;TYPE=INTERNET:scam@evil.example\r\n"
        "NOTE:1.2.3.4\r\nEND:VCARD\r\n"
    )
    assert [(r.line_no, r.value) for r in text_items(data)] == [
        (4, "+66 81 234 5678"),
        (5, "+66-2-123-4567"),
        (6, "scam@evil.example"),
    ]


# ---------------------------------------------------------------------------------------
# CSV


def test_csv_semicolon_pipe_and_tab_delimiters_are_sniffed():
    for d in (";", "|", "\t"):
        data = f"value{d}type{d}note\n1.2.3.4{d}ip{d}a, b\nevil.example{d}domain{d}\n"
        items = csv_items(data, columns={"kind": "type"})
        assert [(r.value, r.kind) for r in items] == [("1.2.3.4", "ip"), ("evil.example", "domain")]


def test_csv_sniffing_is_not_fooled_by_semicolons_in_urls():
    data = "id,url\n1,http://a.example/?a=1&amp;b=2\n2,http://b.example/\n3,http://c.example/;x\n"
    assert [r.value for r in csv_items(data)] == [
        "http://a.example/?a=1&amp;b=2",
        "http://b.example/",
        "http://c.example/;x",
    ]


def test_csv_explicit_delimiter():
    items = csv_items("ip;port\n1.2.3.4;80\n", delimiter=";")
    assert [r.value for r in items] == ["1.2.3.4"]
    with pytest.raises(FeedFormatError, match="one character"):
        csv_items("a\n", delimiter=";;")


def test_csv_short_rows_and_empty_values():
    data = "id,url,tags\n1,http://a.example/,x\n2\n3,,y\n4,None,z\n5,  ,\n6,http://b.example/\n"
    items = csv_items(data, columns={"labels": "tags"})
    assert items == [
        Record(2, "http://a.example/", "1,http://a.example/,x", labels=("x",)),
        Skipped(3, "2", "row has 1 fields, no column url"),
        Skipped(4, "3,,y", "empty value in column url"),
        Skipped(5, "4,None,z", "empty value in column url"),
        Skipped(6, "5,  ,", "empty value in column url"),
        Record(7, "http://b.example/", "6,http://b.example/"),
    ]


def test_csv_headerless_column_number_names_itself_in_reasons():
    items = csv_items("a,1.2.3.4\nb,\nc\n", column=1, has_header=False)
    assert items == [
        Record(1, "1.2.3.4", "a,1.2.3.4"),
        Skipped(2, "b,", "empty value in column 1"),
        Skipped(3, "c", "row has 1 fields, no column 1"),
    ]


def test_csv_comments_blank_lines_and_repeated_header():
    data = (
        "# banner, with commas\n\nurl,tag\n# between rows\nhttp://a.example/,x\n\n"
        "url,tag\nhttp://b.example/,y\n# END 2 entries"
    )
    items = csv_items(data)
    assert [(r.line_no, r.value) for r in items] == [
        (5, "http://a.example/"),
        (8, "http://b.example/"),
    ]


def test_csv_multiline_field_with_hash_lines_inside():
    data = 'value,comment\n1.2.3.4,"line one\n# not a comment\n\nline four"\n5.6.7.8,x\n'
    items = csv_items(data, columns={"description": "comment"})
    assert [(r.line_no, r.value) for r in items] == [(2, "1.2.3.4"), (6, "5.6.7.8")]
    assert items[0].description == "line one\n# not a comment\n\nline four"
    assert items[0].line == '1.2.3.4,"line one\n# not a comment\n\nline four"'


def test_csv_labels_split_on_commas_else_whitespace():
    data = 'url,tags\nhttp://a/,"c2, elf,#mirai,c2"\nhttp://b/,#phishing #kit\nhttp://c/,Fake OS Update\n'
    items = csv_items(data, columns={"labels": "tags"})
    assert [r.labels for r in items] == [
        ("c2", "elf", "mirai"),
        ("phishing", "kit"),
        ("Fake", "OS", "Update"),
    ]


def test_csv_confidence_cells():
    data = "ip,conf\n1.1.1.1,75\n2.2.2.2,80.0\n3.3.3.3,high\n4.4.4.4,\n"
    items = csv_items(data, columns={"confidence": "conf"})
    assert [r.confidence for r in items] == [75, 80, None, None]


def test_csv_column_by_name_is_case_and_separator_insensitive():
    data = "Phone Number,Reported By\n+66 81 234 5678,ccib\n"
    for spec in ("phone number", "PHONE_NUMBER", "Phone-Number", 0, "0"):
        assert [r.value for r in csv_items(data, column=spec)] == ["+66 81 234 5678"]
    # and the well-known name is found without being given
    assert [r.value for r in csv_items(data)] == ["+66 81 234 5678"]


def test_csv_value_in_column_map():
    items = csv_items("a,b\n1.2.3.4,x\n", has_header=True, columns={"value": "a", "kind": "b"})
    assert [(r.value, r.kind) for r in items] == [("1.2.3.4", "x")]


def test_csv_unknown_header_with_a_named_column():
    # `foo,bar` is not recognisable as a header, but naming a column in it says it is one.
    items = csv_items("foo,bar\nx,1.2.3.4\n", column="bar")
    assert [(r.line_no, r.value) for r in items] == [(2, "1.2.3.4")]


def test_csv_errors():
    with pytest.raises(FeedFormatError) as info:
        csv_items("first_seen,port\n2024-01-01,80\n")
    assert str(info.value) == (
        "feed.csv: line 1: no value column among the header's columns (first_seen, port); "
        "give the column"
    )
    with pytest.raises(FeedFormatError, match="unknown Record fields in the column map: tlp"):
        csv_items("url\nhttp://a/\n", columns={"tlp": "x"})
    with pytest.raises(FeedFormatError, match="must be 0 or more"):
        csv_items("url\nhttp://a/\n", column=-1)


def test_csv_oversized_field_is_a_skipped_row():
    big = "x" * 200_000
    data = f'url,comment\nhttp://a/,"{big}"\nhttp://b/,ok\n'
    items = csv_items(data)
    assert isinstance(items[0], Skipped)
    assert items[0].line_no == 2
    assert items[0].reason.startswith("bad CSV row: field larger than field limit")
    assert len(items[0].line) == 500
    assert items[1] == Record(3, "http://b/", "http://b/,ok")


def test_csv_one_column_without_header():
    items = csv_items("+902127053327\n+902127065148\n")
    assert [r.value for r in items] == ["+902127053327", "+902127065148"]


def test_csv_empty_and_comment_only_files():
    assert csv_items("") == []
    assert csv_items("# nothing here\n# END 0 entries\n") == []
    assert csv_items("# id,dateadded,url\n") == []
