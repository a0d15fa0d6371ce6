"""The `registry` command through Click's runner, and once as the installed console script."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from registry.cli import main

FIXTURES = Path(__file__).parent.parent / "fixtures"


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("REGISTRY_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("REGISTRY_INSTANCE_PATH", str(tmp_path / "instance"))
    return tmp_path


@pytest.fixture
def cli(env):
    runner = CliRunner()

    def invoke(*args, ok=True):
        result = runner.invoke(main, [str(a) for a in args], catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    invoke("org", "add", "ccib-th", "--name", "Royal Thai Police CCIB", "--country", "TH")
    invoke("org", "add", "spamhaus", "--name", "The Spamhaus Project")
    return invoke


def test_import_spamhaus_drop_and_look_up_an_address_inside(cli):
    drop = FIXTURES / "spamhaus" / "spamhaus_drop_2025-01-17.txt"
    result = cli("import", drop, "--org", "spamhaus", "--tlp", "clear", "--confidence", "80",
                 "--label", "spam-infrastructure", "--json")
    report = json.loads(result.stdout)
    assert (report["read"], report["new"], report["rejected"]) == (1385, 1385, 0)
    again = json.loads(cli("import", drop, "--org", "spamhaus", "--tlp", "clear", "--confidence", "80",
                           "--label", "spam-infrastructure", "--json").stdout)
    assert (again["new"], again["updated"], again["unchanged"]) == (0, 0, 1385)
    answers = json.loads(cli("lookup", "--json", "1.10.16.77", "9.9.9.10").stdout)
    assert answers[0]["listed"] and answers[0]["matches"][0]["match"] == "cidr"
    assert answers[0]["matches"][0]["assertions"][0]["labels"] == ["spam-infrastructure"]
    assert answers[1]["listed"] is False


def test_import_phone_csv_with_region_from_org(cli, tmp_path):
    numbers = tmp_path / "scam-numbers.csv"
    numbers.write_text("number,note\n081-234-5678,DSI impostor\n02-123-4567,bank hotline\n12,junk\n", encoding="utf-8")
    result = cli("import", numbers, "--org", "ccib-th", "--kind", "phone", "--tlp", "amber",
                 "--label", "call-centre-scam", "--json")
    report = json.loads(result.stdout)
    assert (report["new"], report["rejected"]) == (2, 1)
    assert report["rejects"][0]["line"] == 4 and "'12'" in report["rejects"][0]["reason"]
    human = cli("lookup", "081-234-5678", "--region", "TH").stdout
    assert "LISTED" in human and "+66812345678" in human and "TLP:AMBER" in human and "call-centre-scam" in human


def test_lookup_reads_values_from_a_file_in_input_order(cli, tmp_path):
    cli("import", FIXTURES / "spamhaus" / "spamhaus_drop_2025-01-17.txt", "--org", "spamhaus")
    values = tmp_path / "values.txt"
    values.write_text("\ufeff# case 114\n1.10.16.77\r\nnot-a-thing\r\n191\r\n", encoding="utf-8")
    answers = json.loads(cli("lookup", "--json", "--file", values).stdout)
    assert [a["query"] for a in answers] == ["1.10.16.77", "not-a-thing", "191"]
    assert answers[0]["listed"] and "error" in answers[1] and answers[2]["allowlisted"]


def test_lookup_takes_a_kind_and_a_platform(cli, tmp_path):
    listed = tmp_path / "mules.txt"
    listed.write_text("acct:TH:KASI:1234567890\ntelegram:kbank_support_th\nacct:TH:TRUEMONEY:+66891234567\n",
                      encoding="utf-8")
    assert json.loads(cli("import", listed, "--org", "ccib-th", "--json").stdout)["new"] == 3
    answers = json.loads(cli("lookup", "--json", "--kind", "bank-account", "--region", "TH", "1234567890",
                             "089-123-4567").stdout)
    assert [(a["value"], [(m["match"], m["value"]) for m in a["matches"]]) for a in answers] == [
        ("acct:TH:-:1234567890", [("account-number", "acct:TH:KASI:1234567890")]),
        ("acct:TH:-:0891234567", []),  # digits at an unknown bank: not the wallet keyed by +66891234567
    ]
    human = cli("lookup", "--platform", "telegram", "@KBank_Support_TH", "--region", "TH").stdout
    assert "[user-account telegram:kbank_support_th]  LISTED" in human
    phone = json.loads(cli("lookup", "--json", "0891234567", "--region", "TH").stdout)[0]
    assert [(m["match"], m["value"]) for m in phone["matches"]] == [("same-number", "acct:TH:TRUEMONEY:+66891234567")]


def test_lookup_names_an_unknown_kind_or_platform(cli):
    platform = cli("lookup", "--platform", "myspace", "@name", ok=False)
    assert platform.exit_code == 2 and "unknown platform 'myspace'" in platform.output
    kind = cli("lookup", "--kind", "bank", "1234567890", ok=False)
    assert kind.exit_code == 2 and "'bank' is not one of" in kind.output and "bank-account" in kind.output
    both = cli("lookup", "--kind", "phone", "--platform", "line", "@name", ok=False)
    assert both.exit_code == 2 and "only with kind user-account" in both.output


def test_search_within(cli):
    cli("import", FIXTURES / "spamhaus" / "spamhaus_drop_2025-01-17.txt", "--org", "spamhaus")
    result = json.loads(cli("search", "--within", "1.10.0.0/16", "--json").stdout)
    assert [r["value"] for r in result["results"]] == ["1.10.16.0/20"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tlp", "purple"], "unknown TLP 'purple'"),
        (["--confidence", "101"], "101 is not in the range 0<=x<=100"),
        (["--org", "nobody"], "unknown org 'nobody'"),
        (["--format", "yaml"], "'yaml' is not one of"),
    ],
)
def test_bad_options_exit_2_with_one_line(cli, tmp_path, args, message):
    feed = tmp_path / "list.txt"
    feed.write_text("1.2.3.4\n")
    base = ["import", feed, "--org", "ccib-th"]
    if "--org" in args:
        base = ["import", feed]
    result = cli(*base, *args, ok=False)
    assert result.exit_code == 2
    assert message in result.output


def test_unreadable_and_binary_files_exit_2_and_write_nothing(cli, tmp_path):
    missing = cli("import", tmp_path / "nope.txt", "--org", "ccib-th", ok=False)
    assert missing.exit_code == 2 and "no such file" in missing.output
    binary = tmp_path / "blob.bin"
    binary.write_bytes(b"1.2.3.4\n" + bytes(range(256)) * 10)
    result = cli("import", binary, "--org", "ccib-th", ok=False)
    assert result.exit_code == 2 and "binary" in result.output
    assert json.loads(cli("lookup", "--json", "1.2.3.4").stdout)[0]["listed"] is False


def test_runaway_line_aborts_the_whole_file(cli, tmp_path):
    feed = tmp_path / "huge.txt"
    with feed.open("wb") as fh:
        fh.write(b"5.6.7.8\n" * 100)
        fh.write(b"a" * (3 << 20))
        fh.write(b"\n9.9.9.10\n")
    result = cli("import", feed, "--org", "ccib-th", ok=False)
    assert result.exit_code == 2 and "line 101" in result.output
    assert json.loads(cli("lookup", "--json", "5.6.7.8").stdout)[0]["listed"] is False


def test_file_with_nothing_usable_exits_1(cli, tmp_path):
    feed = tmp_path / "junk.txt"
    feed.write_text("nope\nnothing here\n")
    result = cli("import", feed, "--org", "ccib-th", ok=False)
    assert result.exit_code == 1 and "rejected 2" in result.output


def test_empty_feed_is_fine(cli):
    result = cli("import", FIXTURES / "spamhaus" / "spamhaus_edrop_2024-10_deprecated_empty.txt", "--org", "spamhaus", "--json")
    assert json.loads(result.stdout)["read"] == 0


def test_installed_console_script_runs(env):
    exe = shutil.which("registry", path=str(Path(sys.executable).parent))
    assert exe, "the console script `registry` is not installed next to this Python"
    run_env = {**os.environ}
    subprocess.run([exe, "init"], check=True, env=run_env, capture_output=True)
    subprocess.run([exe, "org", "add", "pdrm-my", "--name", "PDRM", "--country", "MY"], check=True, env=run_env)
    feed = env / "l.txt"
    feed.write_text("+60 12-345 6789\nevil.example\n")
    done = subprocess.run([exe, "import", str(feed), "--org", "pdrm-my", "--json"], check=True, env=run_env,
                          capture_output=True, text=True)
    assert json.loads(done.stdout)["new"] == 2
    out = subprocess.run([exe, "lookup", "--json", "012-345 6789", "--region", "MY"], check=True, env=run_env,
                         capture_output=True, text=True)
    assert json.loads(out.stdout)[0]["value"] == "+60123456789" and json.loads(out.stdout)[0]["listed"]


def test_demo_loads_orgs_keys_and_feeds_once(env):
    runner = CliRunner()
    first = runner.invoke(main, ["demo"], catch_exceptions=False)
    assert first.exit_code == 0, first.output
    assert "feed demo-spamhaus-drop: ok, rows 1385, new 1385" in first.output
    assert "feed demo-tweetfeed-misp: ok, rows 55, new 55" in first.output
    keys = (env / "instance" / "demo-keys.txt").read_text().splitlines()[1:]
    assert [line.split()[:2] for line in keys] == [
        ["ccib-th", "contributor"], ["pdrm-my", "reader"], ["bank-x", "reader"], ["registry-ops", "operator"]]
    second = runner.invoke(main, ["demo"], catch_exceptions=False)
    assert "feed demo-spamhaus-drop: not-modified" in second.output and "demo API keys" not in second.output
    runs = json.loads(runner.invoke(main, ["feeds", "runs", "demo-spamhaus-drop", "--json"]).stdout)
    assert [(r["status"], r["trigger"], r["new"]) for r in runs] == [("not-modified", "demo", 0), ("ok", "demo", 1385)]
    answer = json.loads(runner.invoke(main, ["lookup", "--json", "+66 81 234 5678"]).stdout)[0]
    assert answer["listed"] and answer["matches"][0]["assertions"][0]["source"] == "ccib-th"
    # Every demo file lands whole, and the agencies' reports hold each of the new kinds.
    assert all(" rejected 0" in line for line in first.output.splitlines() if line.startswith(("ccib", "pdrm", "pnp", "kh")))
    reported = {
        "KBank 123-4-56789-0": ("bank-account", {"ccib-th"}),
        "TrueMoney 081-234-5678": ("bank-account", {"ccib-th"}),  # an e-wallet whose phone ccib-th lists too
        "GCash 0917 123 4567": ("bank-account", {"pnp-acg-ph"}),
        "USDT-TRC20: THQ1J6jMbyC1RZUhVsdbHehE5HP4KNvkF4": ("crypto-wallet", {"kh-police"}),
        "0x69C5A54cE1123ce1D517bda48fa837C53211726b": ("crypto-wallet", {"kh-police"}),
        "https://t.me/kbank_support_th": ("url", set()),  # a link: the account is found through it (url-account)
        "telegram:kbank_support_th": ("user-account", {"ccib-th", "kh-police"}),
        "line:kbank.officer": ("user-account", {"ccib-th"}),
        "wa.me/855971234567": ("user-account", {"kh-police"}),
        "sha256:f8deb1b96001813132235e8423bbc711aafc213c23d45886a83196d75717fca9": ("file-hash", {"ccib-th", "pnp-acg-ph"}),
    }
    answers = json.loads(runner.invoke(main, ["lookup", "--json", "--region", "TH", *reported]).stdout)
    for (value, (kind, sources)), answer in zip(reported.items(), answers, strict=True):
        exact = [m for m in answer["matches"] if m["match"] == "exact"]
        assert answer["kind"] == kind and {a["source"] for m in exact for a in m["assertions"]} == sources, value
