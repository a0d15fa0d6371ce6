"""The kinds of issue 14 through the parsers: feed type names, values written across several
columns or keys (a bank and a number, a platform and a handle, a file's hashes), the plain list's
spaced forms, and MISP attributes and objects. Each record is then normalised, as an import does,
so the tests say what lands."""

from __future__ import annotations

import io
import json

import pytest

from registry.domain.normalize import NormalizeError, normalize
from registry.ingest.csvrows import parse_csv
from registry.ingest.jsonl import parse_jsonl
from registry.ingest.misp import ATTRIBUTE_KINDS, parse_event
from registry.ingest.plainlist import plain_values
from registry.ingest.records import FeedFormatError, Record, Skipped
from registry.ingest.vocabulary import feed_kind, feed_platform, map_kinds

SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
MD5 = "d41d8cd98f00b204e9800998ecf8427e"
SHA1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709"


def landed(items, region: str = "TH") -> list[str]:
    """What each item becomes: its canonical values, the reason it is rejected, or why it was skipped."""
    out = []
    for item in map_kinds(items):
        if isinstance(item, Skipped):
            out.append(f"skipped: {item.reason}")
            continue
        try:
            values = normalize(item.value, item.kind, region, item.platform, bank=item.bank, country=item.country)
        except NormalizeError as exc:
            out.append(f"rejected: {exc}")
            continue
        out.extend(v.value for v in values)
    return out


def csv_rows(text: str, **options) -> list[Record | Skipped]:
    return list(parse_csv(io.BytesIO(text.encode()), name="t.csv", **options))


def jsonl_rows(*objects: dict) -> list[Record | Skipped]:
    return list(parse_jsonl(io.BytesIO("".join(json.dumps(o) + "\n" for o in objects).encode()), name="t.jsonl"))


# -- type names ------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "kind", "platform"), [
    ("Bank Account", "bank-account", None), ("bank_account", "bank-account", None), ("IBAN", "bank-account", None),
    ("bank-account-nr", "bank-account", None), ("e-wallet", "bank-account", None),
    ("btc", "crypto-wallet", None), ("Bitcoin", "crypto-wallet", None), ("wallet", "crypto-wallet", None),
    ("USDT", "crypto-wallet", None), ("xmr", "crypto-wallet", None),
    ("telegram", "user-account", "telegram"), ("LINE ID", "user-account", "line"),
    ("twitter-id", "user-account", "x"), ("WhatsApp account", "user-account", "whatsapp"),
    ("username", "user-account", None),
    ("md5", "file-hash", None), ("SHA-256", "file-hash", None), ("sha1_hash", "file-hash", None),
    ("filename|sha256", "file-hash", None), ("hash", "file-hash", None),
    ("ip-dst", None, None), ("email_address", "email", None),
])
def test_feed_type_names(name, kind, platform):
    assert feed_kind(name) == (True, kind)
    assert feed_platform(name) == platform


@pytest.mark.parametrize("name", ["sha512", "ssdeep", "imphash", "filename", "filename|ssdeep", "tlsh", "ja3"])
def test_types_not_kept_are_skipped_naming_what_is_kept(name):
    assert feed_kind(name) == (False, None)
    (skipped,) = map_kinds([Record(1, "x", "x", kind=name)])
    assert isinstance(skipped, Skipped) and "bank accounts, crypto wallets, user accounts" in skipped.reason


def test_a_type_column_gives_kinds_platforms_and_a_misp_file_name_its_hash():
    rows = csv_rows("value,type\n@kbank_help,Telegram\n1234567890,Bank Account\n"
                    f"KBankPlus.apk|{SHA256},filename|sha256\n{MD5},md5\nTR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t,USDT\n",
                    columns={"kind": "type"})
    assert landed(rows) == ["telegram:kbank_help", "acct:TH:-:1234567890", f"sha256:{SHA256}", f"md5:{MD5}",
                            "tron:TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"]


# -- several columns, one value ----------------------------------------------------------------

def test_bank_and_number_columns_are_one_account():
    rows = csv_rows("Bank Name,Account No,Country\nKBank,123-4-56789-0,TH\nMaybank,1234 5678 9012,\n"
                    ",9876543210,TH\nBDO,,PH\nNobank,1234567890,TH\n")
    assert landed(rows) == [
        "acct:TH:KASI:1234567890", "acct:MY:MBBE:123456789012", "acct:TH:-:9876543210",
        "skipped: empty value in column Account No",
        "rejected: '1234567890' is not a valid bank-account: unknown bank 'Nobank' in TH (not in the bank table) "
        "(bank 'Nobank', country 'TH')"]


def test_a_country_column_is_strict_the_region_only_a_default():
    rows = csv_rows("bank,account_number,country\nMaybank,123456789012,TH\n")
    assert landed(rows) == ["rejected: '123456789012' is not a valid bank-account: 'Maybank' is a bank of MY, not "
                            "TH (bank 'Maybank', country 'TH')"]
    no_country = csv_rows("bank,account_number\nMaybank,123456789012\n,1234567890\n")
    assert landed(no_country, region="TH") == ["acct:MY:MBBE:123456789012", "acct:TH:-:1234567890"]


def test_platform_and_handle_columns_are_one_account():
    rows = csv_rows("platform,username\nTelegram,@KBank_Help\nmyspace,someone\n,line:@scam.officer\n")
    assert landed(rows) == [
        "telegram:kbank_help",
        "rejected: 'someone' is not a valid user-account: unknown platform 'myspace' (one of telegram, line, "
        "whatsapp, facebook, instagram, tiktok, x, wechat, zalo, viber, signal)",
        "line:@scam.officer"]


def test_a_named_value_column_and_a_column_map_take_the_parts_too():
    given = csv_rows("id,acct,bank\n1,1234567890,KBank\n", column="acct")
    assert landed(given) == ["acct:TH:KASI:1234567890"]
    by_position = csv_rows("1,1234567890,KBank\n2,@kbank_help,telegram\n", has_header=False,
                           columns={"value": 1, "bank": 2})
    assert landed(by_position[:1]) == ["acct:TH:KASI:1234567890"]
    platforms = csv_rows("2,@kbank_help,telegram\n", has_header=False, columns={"value": 1, "platform": 2})
    assert landed(platforms) == ["telegram:kbank_help"]
    with pytest.raises(FeedFormatError, match="unknown Record fields"):
        csv_rows("ioc,b\n1,2\n", columns={"value": "ioc", "bnak": "b"})


def test_hash_columns_are_one_file_and_a_value_column_wins_over_them():
    rows = csv_rows(f"sha256_hash,md5_hash,sha1_hash,file_name\n{SHA256},{MD5},{SHA1},a.apk\n"
                    f"{SHA256[:-1]},,,b.apk\n,,,c.apk\n")
    assert landed(rows) == [f"sha256:{SHA256}",
                            f"rejected: 'sha256:{SHA256[:-1]}' is not a valid file-hash: sha256 has 64 hex digits, "
                            "not 63",
                            "skipped: no hash in columns sha256_hash, md5_hash, sha1_hash"]
    (record,) = rows[:1]
    assert normalize(record.value, record.kind)[0].detail == f"sha1:{SHA1},md5:{MD5}"  # the one file's other hashes
    # URLhaus' payload list: the URL is the value, the hash its payload's
    assert landed(csv_rows(f"url,md5\nhttp://evil.example/a.apk,{MD5}\n")) == ["http://evil.example/a.apk"]


def test_a_bank_column_beside_another_value_column_is_no_account():
    # A phishing list naming the bank a page imitates: the URL is the value, the bank nothing to it.
    assert landed(csv_rows("url,bank\nhttp://kbank-login.example/,KBank\n")) == ["http://kbank-login.example/"]


@pytest.mark.parametrize(("header", "kind"), [("iban", "bank-account"), ("account_number", "bank-account"),
                                              ("wallet", "crypto-wallet"), ("handle", "user-account"),
                                              ("file_hash", "file-hash")])
def test_a_value_column_named_for_a_kind_gives_its_rows_that_kind(header, kind):
    (record,) = csv_rows(f"{header}\nsomething\n")
    assert record.kind == kind


def test_json_lines_take_the_same_keys():
    rows = jsonl_rows(
        {"bank": "KBank", "account_number": "123-4-56789-0", "country": "TH"},
        {"platform": "line", "handle": "@scam.officer"},
        {"md5": MD5, "sha256": SHA256, "sha1": None},
        {"md5": ""},
        {"value": "45.77.10.9", "country": "TH"},  # a country beside an IP is no account's
        {"iban": "GB82 WEST 1234 5698 7654 32"},
        {"account_number": "1234567890"},
    )
    assert landed(rows) == ["acct:TH:KASI:1234567890", "line:@scam.officer", f"sha256:{SHA256}",
                            "skipped: no hash under md5", "45.77.10.9", "acct:GB:-:WEST12345698765432",
                            "acct:TH:-:1234567890"]


# -- plain lists: the forms written with spaces ----------------------------------------------------

@pytest.mark.parametrize(("line", "values"), [
    ("KBank 123-4-56789-0", ["KBank 123-4-56789-0"]),
    ("1234567890 KBank", ["1234567890 KBank"]),
    ("GB82 WEST 1234 5698 7654 32", ["GB82 WEST 1234 5698 7654 32"]),
    ("USDT-TRC20: TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", ["USDT-TRC20: TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"]),
    (f"md5:{MD5} sha256:{SHA256}", [f"md5:{MD5} sha256:{SHA256}"]),
    ("- TrueMoney 081 234 5678 # victim's transfer", ["TrueMoney 081 234 5678"]),
    ("1.2.3.4 scanner", ["1.2.3.4"]),  # as before: a value and a remark
    ("081 234 5678 call centre", ["081 234 5678"]),
])
def test_plain_list_lines_of_the_spaced_kinds(line, values):
    assert plain_values(line) == values


# -- MISP ------------------------------------------------------------------------------------------

def event(*attributes: dict, objects: tuple = ()) -> bytes:
    return json.dumps({"Event": {"uuid": "e5e5e5e5-0000-4000-8000-000000000001", "timestamp": "1700000000",
                                 "Attribute": list(attributes), "Object": list(objects)}}).encode()


def attr(kind: str, value: str, to_ids: bool = True, relation: str | None = None) -> dict:
    out = {"type": kind, "value": value, "to_ids": to_ids, "timestamp": "1700000000"}
    if relation:
        out["object_relation"] = relation
    return out


def misp_landed(data: bytes, **options) -> tuple[list[str], int]:
    parsed = parse_event(data, **options)
    return landed(parsed.records), parsed.ignored


def test_misp_attributes_of_the_new_kinds():
    got, ignored = misp_landed(event(
        attr("bank-account-nr", "acct:TH:KASI:1234567890"), attr("bank-account-nr", "9876543210"),
        attr("iban", "GB82WEST12345698765432"), attr("btc", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"),
        attr("xmr", "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A"),
        attr("md5", MD5), attr("sha1", SHA1), attr("filename|sha256", f"KBank|Plus.apk|{SHA256}"),
        attr("twitter-id", "scam_export"), attr("text", "telegram:kbank_support_th", to_ids=False),
        attr("text", "tron:TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"), attr("text", "Ransom note, see the report"),
        attr("sha512", "00"), attr("dash", "XbC9..."),
    ), to_ids_only=False)
    assert got == ["acct:TH:KASI:1234567890", "acct:TH:-:9876543210", "acct:GB:-:WEST12345698765432",
                   "btc:bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
                   "xmr:44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A",
                   f"md5:{MD5}", f"sha1:{SHA1}", f"sha256:{SHA256}", "x:scam_export", "telegram:kbank_support_th",
                   "tron:TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"]
    assert ignored == 3  # free text, a SHA-512, a Dash address
    assert {"bank-account-nr", "iban", "btc", "xmr", "md5", "sha1", "sha256", "filename|sha256"} <= set(ATTRIBUTE_KINDS)


def test_misp_objects_are_one_value_each():
    file_object = {"name": "file", "Attribute": [
        attr("filename", "KBankPlus.apk", relation="filename"), attr("md5", MD5, relation="md5"),
        attr("sha1", SHA1, relation="sha1"), attr("sha256", SHA256, relation="sha256"),
        attr("size-in-bytes", "1024", relation="size-in-bytes")]}
    bank = {"name": "bank-account", "Attribute": [
        attr("bank-account-nr", "123-4-56789-0", relation="account"), attr("bic", "KASITHBK", relation="swift"),
        attr("text", "Kasikornbank", relation="institution-name")]}
    iban = {"name": "bank-account", "Attribute": [attr("iban", "GB82WEST12345698765432", relation="iban"),
                                                  attr("bank-account-nr", "12345698765432", relation="account")]}
    telegram = {"name": "telegram-account", "Attribute": [attr("text", "kbank_support_th", False, "username"),
                                                          attr("text", "+66812345678", False, "phone")]}
    facebook = {"name": "facebook-account", "Attribute": [attr("text", "kbank.help.page", False, "account-name")]}
    user = {"name": "user-account", "Attribute": [attr("text", "line", False, "account-type"),
                                                  attr("text", "@scam.officer", False, "username")]}
    unix = {"name": "user-account", "Attribute": [attr("text", "unix", False, "account-type"),
                                                  attr("text", "root", False, "username")]}
    domain_ip = {"name": "domain-ip", "Attribute": [attr("domain", "evil-objects.example", relation="domain"),
                                                    attr("ip-dst", "45.77.10.9", relation="ip")]}
    got, ignored = misp_landed(event(objects=(file_object, bank, iban, telegram, facebook, user, unix, domain_ip)))
    assert got == [f"sha256:{SHA256}", "acct:TH:KASI:1234567890", "acct:GB:-:WEST12345698765432",
                   "telegram:kbank_support_th", "facebook:kbankhelppage", "line:@scam.officer",
                   "evil-objects.example", "45.77.10.9"]
    assert ignored == 0  # the unix account's attributes are read one by one: not flagged for IDS, passed over
    records = parse_event(event(objects=(file_object,))).records
    assert normalize(records[0].value, records[0].kind)[0].detail == f"sha1:{SHA1},md5:{MD5}"


def test_misp_file_object_without_ids_flags_is_passed_over():
    hashes = {"name": "file", "Attribute": [attr("md5", MD5, False, "md5"), attr("sha256", SHA256, False, "sha256")]}
    assert misp_landed(event(objects=(hashes,))) == ([], 0)
    assert misp_landed(event(objects=(hashes,)), to_ids_only=False)[0] == [f"sha256:{SHA256}"]
