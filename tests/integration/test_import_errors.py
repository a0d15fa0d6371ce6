"""`registry import` of a bad file, as the installed command on SQLite and PostgreSQL: one line on
stderr naming the file (and line) and what is wrong, no traceback, exit 2, nothing written; a
file nothing could be used from exits 1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from registry.services.orgs import add_org
from tests.helpers import FIXTURES

REGISTRY = Path(sys.executable).parent / "registry"
DEEP = "[" * 1000 + "]" * 1000
BUNDLE = '{"type": "bundle", "id": "bundle--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "objects": %s}'
INDICATOR = ('{"type": "indicator", "spec_version": "2.1", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3a", '
             '"created": "2026-01-01T00:00:00Z", "modified": "2026-01-01T00:00:00Z", "pattern_type": "stix", '
             '"pattern": "[domain-name:value = \'far.example\']", "valid_from": %s}')

# (file name, content, extra options, what the one line says)
BAD_FILES = [
    ("deep.jsonl", '{"value": ' + DEEP + "}\n", [], "deep.jsonl: line 1: JSON nested deeper than 100 levels"),
    ("deep-second.jsonl", '{"value": "a.example"}\n{"value": ' + DEEP + "}\n", [],
     "deep-second.jsonl: line 2: JSON nested deeper than 100 levels"),
    ("deep-forced.jsonl", '{"value": ' + DEEP + "}\n", ["--format", "jsonl"],
     "deep-forced.jsonl: line 1: JSON nested deeper than 100 levels"),
    ("deep.json", "\n\n" + DEEP, [], "deep.json: line 3: JSON nested deeper than 100 levels"),
    ("deep-bundle.json", BUNDLE % f"[{DEEP}]", [], "deep-bundle.json: line 1: JSON nested deeper than 100 levels"),
    ("deep-stix.json", BUNDLE % f"[{DEEP}]", ["--format", "stix"],
     "deep-stix.json: JSON nested deeper than 100 levels"),
    ("number-object.json", BUNDLE % "[5]", [], "number-object.json: objects[0] is a number, not a STIX object"),
    ("list.json", '[["a.example"]]', [], "list.json: JSON that is not a STIX bundle"),
]


@pytest.fixture
def run(db, tmp_path):
    add_org(db, "ccib-th", "Royal Thai Police CCIB", "TH")
    env = {**os.environ, "REGISTRY_DATABASE_URL": db.engine.url.render_as_string(hide_password=False),
           "REGISTRY_INSTANCE_PATH": str(tmp_path / "instance")}

    def invoke(path: Path, *options: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(REGISTRY), "import", str(path), "--org", "ccib-th", *options], env=env,
                              capture_output=True, text=True, timeout=120)

    return invoke


def indicators(db) -> int:
    with db.read() as conn:
        return conn.execute(text("SELECT count(*) FROM indicator")).scalar_one()


def test_bad_files_are_one_line_and_exit_2(db, run, tmp_path):
    for name, content, options, said in BAD_FILES:
        path = tmp_path / name
        path.write_text(content)
        done = run(path, *options)
        assert done.returncode == 2, (name, done.stderr[-2000:])
        assert done.stderr.strip().splitlines() == [done.stderr.strip()], (name, done.stderr[-2000:])
        assert said in done.stderr and "Traceback" not in done.stderr, (name, done.stderr)
    assert indicators(db) == 0


def test_a_stix_time_past_year_9999_costs_the_object_that_time_not_a_traceback(db, run, tmp_path):
    path = tmp_path / "far.json"
    path.write_text(BUNDLE % f"[{INDICATOR % json.dumps('9999-12-31T23:59:59-14:00')}]")
    done = run(path, "--json")
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout)["new"] == 1


def test_a_file_nothing_could_be_used_from_exits_1(db, run, tmp_path):
    for name, content in (("objects.jsonl", '[1]\n"x"\n{"value": 5}\n'), ("short.csv", "value,kind\n,ipv4\n,url\n")):
        path = tmp_path / name
        path.write_text(content)
        done = run(path, "--json")
        assert done.returncode == 1, (name, done.stdout, done.stderr)
        report = json.loads(done.stdout)
        assert (report["new"], report["rejected"]) == (0, content.count("\n") - name.endswith(".csv"))


# -- files mixing every kind (issue 14): counted, each rejection with its value, kind tried and reason,
#    the rest lands -------------------------------------------------------------------------------

MIXED = FIXTURES / "mixed"
TOO_SHORT_TELEGRAM = "a Telegram username has 5 to 32 letters, digits or underscores, starting with a letter"

# (file, options, (read, new, rejected), {line: reason}, canonical values stored)
MIXED_FILES = [
    ("scam_case_all_kinds.txt", [], (28, 17, 11), {
        3: "'999.77.10.9' is not a valid ipv4: octet 999 is greater than 255",
        12: "'KBank 12-34' is not a valid bank-account: account number too short for Kasikornbank (TH): 4 digits, "
            "expected 10",
        14: "'GB82 WEST 1234 5698 7654 33' is not a valid bank-account: wrong IBAN checksum (the check digits do not "
            "match)",
        15: "'acct:TH:ZZZZ9:1234567890' is not a valid bank-account: unknown bank code ZZZZ9 in TH",
        17: "'USDT-TRC20: TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6u' is not a valid crypto-wallet: TRON checksum does not "
            "match (a mistyped address?)",
        19: "'bitcoin:bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5?amount=0.1' is not a valid crypto-wallet: bech32 "
            "checksum does not match (a mistyped address?)",
        21: "'ERC20 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD' is not a valid crypto-wallet: mixed case that fails "
            "its EIP-55 checksum (a mistyped address?)",
        24: f"'telegram:ab' is not a valid user-account: {TOO_SHORT_TELEGRAM}",
        25: "'myspace:scam_user' is not a valid indicator: not a recognised indicator",
        27: "'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85' is not a valid file-hash: "
            "sha256 has 64 hex digits, not 63",
        29: "'sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce' is not a valid file-hash: "
            "unsupported hash algorithm 'sha512' (md5, sha1 or sha256)",
    }, ["45.77.10.9", "2a01:4f9::1", "evil-mixed.example", "https://evil-mixed.example/pay", "+66812345678",
        "scam@evil-mixed.example", "acct:TH:KASI:1234567890", "acct:MY:MBBE:123456789012",
        "acct:TH:TRUEMONEY:+66812345678", "acct:GB:-:WEST12345698765432",
        "tron:TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "btc:bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
        "evm:0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", "telegram:kbank_support_th", "line:scam.officer",
        "md5:900150983cd24fb0d6963f7d28e17f72",
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"]),
    # separate bank, number and country columns
    ("mule_accounts.csv", [], (10, 6, 5), {
        7: "'1234567890' is not a valid bank-account: unknown bank 'Nobank' in TH (not in the bank table) "
           "(bank 'Nobank', country 'TH')",
        8: "'12-34' is not a valid bank-account: account number too short for Kasikornbank (TH): 4 digits, "
           "expected 10 (bank 'KBank', country 'TH')",
        9: "'123456789012' is not a valid bank-account: 'Maybank' is a bank of MY, not TH (bank 'Maybank', "
           "country 'TH')",
        11: "'GB82 WEST 1234 5698 7654 33' is not a valid bank-account: wrong IBAN checksum (the check digits do "
            "not match)",
        12: "empty value in column account_number",
    }, ["acct:TH:KASI:1234567890", "acct:TH:SICO:1112223334", "acct:MY:MBBE:123456789012", "acct:TH:-:9876543210",
        "acct:PH:GXCH:+639171234567", "acct:GB:-:WEST12345698765432"]),
    # separate platform and handle columns
    ("user_accounts.csv", [], (7, 4, 3), {
        5: "'scam_user' is not a valid user-account: unknown platform 'myspace' (one of telegram, line, whatsapp, "
           "facebook, instagram, tiktok, x, wechat, zalo, viber, signal)",
        6: f"'@ab' is not a valid user-account: {TOO_SHORT_TELEGRAM}",
        8: "'@nobody_here' is not a valid user-account: looks like an email address; an @name needs its platform "
           "(give --platform)",
    }, ["telegram:kbank_support_th", "line:@scam.officer", "whatsapp:+66812345678", "telegram:other_scam_th"]),
    # MalwareBazaar's hash columns: one row is one file
    ("file_hashes.csv", [], (3, 1, 3), {
        4: "'sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad md5:n/a' is not a valid "
           "file-hash: a hash is hexadecimal digits only",
        5: "'sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f2001' is not a valid file-hash: sha256 "
           "has 64 hex digits, not 61",
        6: "no hash in columns sha256_hash, md5_hash, sha1_hash",
    }, ["sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"]),
]


def stored_values(db) -> list[str]:
    with db.read() as conn:
        return sorted(conn.execute(text("SELECT value FROM indicator")).scalars())


@pytest.mark.parametrize(("name", "options", "counts", "rejects", "values"), MIXED_FILES, ids=[f[0] for f in MIXED_FILES])
def test_a_file_mixing_the_kinds_lands_the_good_and_names_each_bad_value(db, run, name, options, counts, rejects,
                                                                         values):
    done = run(MIXED / name, "--json", *options)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert (report["read"], report["new"], report["rejected"]) == counts
    assert {r["line"]: r["reason"] for r in report["rejects"]} == rejects
    assert stored_values(db) == sorted(values)


def test_kind_bank_account_and_a_region_read_digits_alone(db, run, tmp_path):
    path = tmp_path / "numbers.txt"
    path.write_text("123-4-56789-0\n1234567890123\n12\nKBank 111-2-33333-4\n")
    done = run(path, "--json", "--kind", "bank-account", "--region", "TH")
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert (report["new"], report["rejected"]) == (3, 1)
    assert report["rejects"][0]["reason"] == ("'12' is not a valid bank-account: account number too short for TH: "
                                              "2 digits, expected 10 to 14")
    assert stored_values(db) == ["acct:TH:-:1234567890", "acct:TH:-:1234567890123", "acct:TH:KASI:1112333334"]


def test_platform_reads_at_names_and_keeps_other_platforms_honest(db, run, tmp_path):
    path = tmp_path / "names.txt"
    path.write_text("@KBank_Support_TH\nt.me/other_scam_th\n@ab\nline:@scam.officer\n")
    done = run(path, "--json", "--platform", "Telegram")
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert (report["new"], report["rejected"]) == (2, 2)
    assert [r["reason"] for r in report["rejects"]] == [
        f"'@ab' is not a valid user-account: {TOO_SHORT_TELEGRAM}",
        "'line:@scam.officer' is not a valid user-account: a line account, given as telegram"]
    assert stored_values(db) == ["telegram:kbank_support_th", "telegram:other_scam_th"]
    for options, said in ((["--platform", "myspace"], "unknown platform 'myspace'"),
                          (["--platform", "line", "--kind", "ipv4"], "a platform goes with --kind user-account")):
        refused = run(path, *options)
        assert refused.returncode == 2 and said in refused.stderr, refused.stderr
