"""Feed runs against the database: on SQLite and PostgreSQL, snapshot expiry, the anomaly
guard, incremental MISP, the lease, stopping between batches, and the catalogue sync."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta

import pytest

from registry.domain.times import iso, utcnow
from registry.domain.tlp import Viewer
from registry.ingest.catalogue import CatalogueError
from registry.services.errors import Invalid, NotFound
from registry.services.feed_runs import FeedBusy, FeedDisabled
from registry.services.feeds import feed_runs, list_feeds, run_feed, sync_catalogue
from registry.services.lookup import lookup
from registry.storage import feeds as store
from tests.feeds.support import add_feed
from tests.feeds.test_golden_runs import misp_folder, stored
from tests.helpers import FIXTURES


def write_list(path, values) -> str:
    path.write_text("# a partner list\n" + "".join(f"{v}\n" for v in values))
    return "file://" + str(path)


def valid_until(db, feed: str) -> dict[str, object]:
    with db.read() as conn:
        return dict(conn.exec_driver_sql(
            "SELECT i.value, a.valid_until FROM assertion a JOIN indicator i ON i.id = a.indicator_id "
            f"WHERE a.feed = '{feed}'").fetchall())


def test_a_feed_run_on_each_engine(db, tmp_path):
    values = [f"41.0.{n // 250}.{n % 250 + 1}" for n in range(40)] + ["evil-parcel.example", "192.168.1.1",
                                                                       "not a value at all"]
    url = write_list(tmp_path / "list.txt", values)
    add_feed(db, "partner-list", url, "text", confidence=70, tlp="green", labels=["scam"], batch_size=7)
    run = run_feed(db, "partner-list")
    assert (run.status, run.rows, run.new, run.allowlisted, run.rejected, run.expired) == ("ok", 43, 41, 1, 1, 0)
    assert run.rejects == [{"line": 44, "text": "not a value at all",
                            "reason": "'not' is not a valid indicator: not a recognised indicator"}]
    assertion = lookup_one(db, "evil-parcel.example")["matches"][0]["assertions"][0]
    assert (assertion["source"], assertion["feed"], assertion["tlp"], assertion["confidence"], assertion["labels"]) == (
        "partner", "partner-list", "green", 70, ["scam"])
    assert lookup_one(db, "192.168.1.1")["allowlisted"]
    # The file changes: two values gone, one new.
    write_list(tmp_path / "list.txt", values[2:] + ["new-one.example"])
    again = run_feed(db, "partner-list")
    assert (again.status, again.new, again.unchanged, again.allowlisted, again.expired) == ("ok", 1, 39, 1, 2)
    history = feed_runs(db, "partner-list", Viewer.operator())["runs"]
    assert [(r["status"], r["expired"]) for r in history] == [("ok", 2), ("ok", 0)]


def lookup_one(db, value):
    with db.read() as conn:
        return lookup(conn, [value], Viewer.operator(), region="TH", half_lifes={})[0]


def test_snapshot_mode_ends_what_vanished_and_keeps_it_as_history(db, tmp_path):
    path = tmp_path / "list.txt"
    add_feed(db, "snap", write_list(path, ["a-scam.example", "b-scam.example", "c-scam.example"]), "text")
    assert run_feed(db, "snap").new == 3
    write_list(path, ["a-scam.example", "c-scam.example"])
    run = run_feed(db, "snap")
    assert (run.unchanged, run.expired) == (2, 1)
    ends = valid_until(db, "snap")
    assert ends["b-scam.example"] is not None and ends["a-scam.example"] is None
    # Listed means in force (docs/design.md): no longer listed, kept as history saying why.
    gone = lookup_one(db, "b-scam.example")
    assert (gone["listed"], gone["score"], gone["matches"]) == (False, 0, [])
    [ended] = gone["history"]
    assert (ended["source"], ended["feed"], ended["why"]) == ("partner", "snap", "snapshot")
    assert ended["ended"] == ended["valid_until"] == iso(run.started)
    assert end_reasons(db, "snap") == {"a-scam.example": None, "b-scam.example": "snapshot", "c-scam.example": None}
    # It comes back: in force again, an update, its end forgotten.
    write_list(path, ["a-scam.example", "b-scam.example", "c-scam.example"])
    back = run_feed(db, "snap")
    assert (back.updated, back.unchanged, back.expired) == (1, 2, 0)
    assert valid_until(db, "snap")["b-scam.example"] is None
    assert end_reasons(db, "snap")["b-scam.example"] is None
    assert lookup_one(db, "b-scam.example")["listed"] is True


def end_reasons(db, feed: str) -> dict[str, str | None]:
    with db.read() as conn:
        return dict(conn.exec_driver_sql(
            "SELECT i.value, a.end_reason FROM assertion a JOIN indicator i ON i.id = a.indicator_id "
            f"WHERE a.feed = '{feed}'").fetchall())


def test_incremental_mode_expires_nothing(sqlite_db, tmp_path):
    path = tmp_path / "list.txt"
    add_feed(sqlite_db, "inc", write_list(path, ["a-scam.example", "b-scam.example"]), "text", mode="incremental")
    run_feed(sqlite_db, "inc")
    write_list(path, ["c-scam.example"])
    assert run_feed(sqlite_db, "inc").expired == 0
    assert all(v is None for v in valid_until(sqlite_db, "inc").values())


def test_the_anomaly_guard_flags_and_expires_nothing(sqlite_db, tmp_path):
    path = tmp_path / "list.txt"
    full = [f"scam-{n}.example" for n in range(200)]
    add_feed(sqlite_db, "guarded", write_list(path, full), "text")
    for _ in range(3):
        os.utime(path, ns=(1, os.stat(path).st_mtime_ns + 10**9))  # a new version, the same lines
        assert run_feed(sqlite_db, "guarded").anomaly is None
    write_list(path, full[:12])  # 6% of the usual size: a broken export, not 188 takedowns
    run = run_feed(sqlite_db, "guarded")
    assert run.status == "ok" and run.expired == 0
    assert run.anomaly == "12 rows against a median of 200 over the last 3 runs: nothing expired"
    write_list(path, [])  # an empty body from a feed that had hundreds
    empty = run_feed(sqlite_db, "guarded")
    assert empty.anomaly.startswith("an empty feed against a median of 200") and empty.expired == 0
    assert all(v is None for v in valid_until(sqlite_db, "guarded").values())
    listed = list_feeds(sqlite_db, Viewer.operator())[0]
    assert listed["last_run"]["anomaly"] == empty.anomaly and listed["health"] == "anomaly"


def write_misp(tmp_path):
    return "file://" + str(misp_folder(FIXTURES / "misp/tweetfeed_feed", tmp_path / "misp"))


def test_misp_fetches_only_new_or_changed_events(sqlite_db, tmp_path):
    url = write_misp(tmp_path)
    add_feed(sqlite_db, "tweetfeed", url, "misp", tlp="green")
    first = run_feed(sqlite_db, "tweetfeed")
    assert (first.status, first.rows, first.new) == ("ok", 55, 55)
    manifest_path = tmp_path / "misp/manifest.json"
    manifest = json.loads(manifest_path.read_text())
    changed = "3f683153-718d-553a-9f11-83cb317e5974"
    manifest[changed]["timestamp"] = str(int(manifest[changed]["timestamp"]) + 60)
    manifest["00000000-0000-4000-8000-000000000000"] = {"info": "gone", "timestamp": "1"}  # its file is missing
    manifest_path.write_text(json.dumps(manifest))
    second = run_feed(sqlite_db, "tweetfeed")
    assert second.status == "ok"
    assert (second.rows, second.new, second.unchanged, second.rejected) == (38, 0, 38, 1)  # only the changed event
    assert second.rejects[0]["text"] == "event 00000000-0000-4000-8000-000000000000"
    with sqlite_db.read() as conn:
        cursor = json.loads(store.get(conn, "tweetfeed").cursor)["events"]
    assert changed in cursor and "00000000-0000-4000-8000-000000000000" not in cursor  # retried next run
    # The event's tlp:clear tag beats the feed's TLP.
    assert lookup_one(sqlite_db, "193.27.90.102")["matches"][0]["assertions"][0]["tlp"] == "clear"
    assert run_feed(sqlite_db, "tweetfeed").status == "not-modified"


def test_a_feed_held_by_another_process_is_not_run_twice(sqlite_db, tmp_path):
    add_feed(sqlite_db, "held", write_list(tmp_path / "l.txt", ["x-scam.example"]), "text")
    with sqlite_db.write() as conn:
        feed = store.get(conn, "held")
        assert store.take_lease(conn, feed.id, "otherhost:1:abcd", utcnow(), utcnow() + timedelta(minutes=5))
    with pytest.raises(FeedBusy, match="being run by otherhost:1:abcd"):
        run_feed(sqlite_db, "held")
    assert run_feed(sqlite_db, "held", only_if_due=True) is None
    with sqlite_db.write() as conn:  # an expired lease is free again
        conn.exec_driver_sql("UPDATE feed SET lease_until = '2000-01-01 00:00:00.000000'")
    assert run_feed(sqlite_db, "held").status == "ok"


def test_a_lease_of_a_dead_process_on_this_host_is_taken_over(sqlite_db, tmp_path):
    import socket

    add_feed(sqlite_db, "orphan", write_list(tmp_path / "l.txt", ["x-scam.example"]), "text")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    owner = f"{socket.gethostname()}:{dead.stdout.strip()}:dead"
    with sqlite_db.write() as conn:
        feed = store.get(conn, "orphan")
        store.take_lease(conn, feed.id, owner, utcnow(), utcnow() + timedelta(hours=1))
        run_id = store.insert_run(conn, feed.id, "schedule", utcnow())
    run = run_feed(sqlite_db, "orphan")
    assert run.status == "ok"
    runs = {r["id"]: r for r in feed_runs(sqlite_db, "orphan", Viewer.operator())["runs"]}
    assert runs[run_id]["status"] == "interrupted" and "stopped before it finished" in runs[run_id]["error"]


def test_a_stop_request_ends_the_run_after_the_batch_in_hand(sqlite_db, tmp_path):
    values = [f"stop-{n}.example" for n in range(50)]
    add_feed(sqlite_db, "stoppable", write_list(tmp_path / "l.txt", values), "text", batch_size=20)
    run = run_feed(sqlite_db, "stoppable", should_stop=lambda: True)
    assert run.status == "interrupted" and run.new == 20 and "stopped on request after 20 rows" in run.error
    assert len(stored(sqlite_db, "stoppable")) == 20 and run.expired == 0
    with sqlite_db.read() as conn:
        assert store.get(conn, "stoppable").lease_owner is None and store.get(conn, "stoppable").last_modified is None
    assert run_feed(sqlite_db, "stoppable").new == 30  # the next run completes the work


def test_a_batch_commits_several_upsert_steps_at_once(sqlite_db, tmp_path, monkeypatch):
    # Upserts go in steps (memory stays flat); a transaction holds a whole batch of rows, so a
    # stop lands on the first step boundary past the batch size, never inside a step.
    from registry.services.feed_runners import batches

    monkeypatch.setattr(batches, "UPSERT_STEP", 6)
    values = [f"step-{n}.example" for n in range(50)]
    add_feed(sqlite_db, "stepped", write_list(tmp_path / "l.txt", values), "text", batch_size=20)
    run = run_feed(sqlite_db, "stepped", should_stop=lambda: True)
    assert run.status == "interrupted" and "stopped on request after 24 rows" in run.error
    assert len(stored(sqlite_db, "stepped")) == 24
    assert run_feed(sqlite_db, "stepped").new == 26


def test_disabled_and_unknown_feeds(sqlite_db, tmp_path):
    add_feed(sqlite_db, "off", write_list(tmp_path / "l.txt", ["x.example"]), "text", enabled=False)
    with pytest.raises(FeedDisabled):
        run_feed(sqlite_db, "off")
    assert run_feed(sqlite_db, "off", only_if_due=True) is None
    with pytest.raises(NotFound):
        run_feed(sqlite_db, "nope")


def test_tlp_limits_who_sees_a_feed(sqlite_db, tmp_path):
    add_feed(sqlite_db, "amber-feed", write_list(tmp_path / "l.txt", ["x.example"]), "text", tlp="amber")
    run_feed(sqlite_db, "amber-feed")
    assert [f["name"] for f in list_feeds(sqlite_db, Viewer("bank-x", "green"))] == []
    assert [f["name"] for f in list_feeds(sqlite_db, Viewer("bank-x", "amber"))] == ["amber-feed"]
    with pytest.raises(NotFound):
        feed_runs(sqlite_db, "amber-feed", Viewer("bank-x", "green"))


CATALOGUE = """\
name = "{name}"
provider = "new-partner"
provider_name = "New Partner CERT"
provider_country = "KH"
url = "file:data/list.txt"
format = "text"
schedule = "{schedule}"
confidence = 60
tlp = "green"
labels = ["scam"]
"""


def test_sync_loads_changes_and_disables_what_left_the_catalogue(sqlite_db, tmp_path):
    folder = tmp_path / "feeds"
    (folder / "data").mkdir(parents=True)
    write_list(folder / "data/list.txt", ["a-scam.example"])
    (folder / "kh-list.toml").write_text(CATALOGUE.format(name="kh-list", schedule="every 6h"))
    (folder / "kh-other.toml").write_text(CATALOGUE.format(name="kh-other", schedule="every 1d"))
    first = sync_catalogue(sqlite_db, folder)
    assert (first.added, first.orgs_added) == (["kh-list", "kh-other"], ["new-partner"])
    feed = {f["name"]: f for f in list_feeds(sqlite_db, Viewer.operator())}["kh-list"]
    assert feed["url"] == "file://" + str((folder / "data/list.txt").resolve())  # relative to the TOML
    assert run_feed(sqlite_db, "kh-list").new == 1
    (folder / "kh-list.toml").write_text(CATALOGUE.format(name="kh-list", schedule="every 2h"))
    (folder / "kh-other.toml").unlink()
    second = sync_catalogue(sqlite_db, folder)
    assert (second.changed, second.unchanged, second.disabled) == (["kh-list"], [], ["kh-other"])
    feeds = {f["name"]: f for f in list_feeds(sqlite_db, Viewer.operator())}
    assert feeds["kh-list"]["schedule"] == "every 2h" and not feeds["kh-other"]["enabled"]
    with sqlite_db.read() as conn:  # the fetch state survives a definition change
        assert store.get(conn, "kh-list").last_modified is not None


@pytest.mark.parametrize(("text", "error"), [
    ('token = "abc"', "token: secrets never go in the catalogue"),
    ('format = "xml"', "format: 'xml' is not one of"),
    ('schedule = "every 10s"', "schedule: schedule 'every 10s' is more often than once a minute"),
    ('schedule = "61 * * * *"', "is not a valid cron expression"),
    ('url = "ftp://x.example/list"', "url: url 'ftp://x.example/list' must start with https://, http:// or file://"),
    ('tlp = "purple"', "tlp:"),
    ('colum = "url"', "colum: unknown field"),
    ('mode = "snapshot"\nformat = "misp"', "a misp feed brings changes"),
])
def test_a_bad_definition_names_its_file_and_field_and_changes_nothing(sqlite_db, tmp_path, text, error):
    folder = tmp_path / "feeds"
    folder.mkdir()
    base = CATALOGUE.format(name="kh-list", schedule="every 6h")
    keys = {line.split(" = ")[0] for line in text.splitlines()}
    body = "\n".join(line for line in base.splitlines() if line.split(" = ")[0] not in keys) + "\n" + text + "\n"
    (folder / "kh-list.toml").write_text(body)
    (folder / "a-good.toml").write_text(CATALOGUE.format(name="a-good", schedule="every 6h"))
    with pytest.raises(Invalid, match="kh-list.toml: ") as caught:
        sync_catalogue(sqlite_db, folder)
    assert error in caught.value.message
    assert list_feeds(sqlite_db, Viewer.operator()) == []


def test_the_shipped_catalogue_loads(sqlite_db):
    from registry.services.feeds import catalogue_path

    report = sync_catalogue(sqlite_db, catalogue_path())
    feeds = {f["name"]: f for f in list_feeds(sqlite_db, Viewer.operator())}
    demo = sorted(n for n, f in feeds.items() if f["enabled"])
    assert demo == [n for n in sorted(feeds) if n.startswith("demo-")] and len(demo) >= 4
    assert all(f["url"].startswith("file://{demo}/") for n, f in feeds.items() if n.startswith("demo-"))
    assert all(f["url"].startswith("https://") for n, f in feeds.items() if not f["enabled"])
    assert {f["format"] for f in feeds.values()} >= {"text", "csv", "json", "misp", "taxii", "registry-stream"}
    assert len(report.added) == len(feeds)


def test_large_feed_path_parallel_normalising_and_background_commits(sqlite_db, tmp_path, monkeypatch):
    """Feeds over PARALLEL_BYTES normalise in worker processes and commit each batch on the
    writer's thread while the next one is prepared: the same figures, whole batches on a stop."""
    from registry.services import imports

    monkeypatch.setattr(imports, "PARALLEL_BYTES", 0)
    values = [f"par-{n}.scam.example" for n in range(3000)] + ["10.1.2.3", "junk value here"]
    add_feed(sqlite_db, "par", write_list(tmp_path / "l.txt", values), "text", batch_size=500)
    stopped = run_feed(sqlite_db, "par", should_stop=lambda: True)
    assert stopped.status == "interrupted" and stopped.new == 500 == len(stored(sqlite_db, "par"))
    run = run_feed(sqlite_db, "par")
    assert (run.status, run.rows, run.new, run.unchanged, run.allowlisted, run.rejected) == (
        "ok", 3002, 2500, 500, 1, 1)
    assert len(stored(sqlite_db, "par")) == 3001


def test_json_documents_by_value_path(sqlite_db, tmp_path):
    import orjson

    # Larger than the 64 KiB a format sniffer sees, pretty-printed, with per-row hints.
    doc = {"meta": {"generated": "2026-11-30"}, "data": [
        {"attributes": {"ip": f"41.1.{n // 250}.{n % 250 + 1}"}, "tags": ["c2"], "confidence": 90}
        for n in range(3000)] + [{"attributes": {"ip": ""}}, {"attributes": {}}]}
    (tmp_path / "doc.json").write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))
    assert (tmp_path / "doc.json").stat().st_size > 1 << 16
    add_feed(sqlite_db, "doc", "file://" + str(tmp_path / "doc.json"), "json", value_path="data[].attributes.ip")
    run = run_feed(sqlite_db, "doc")
    assert (run.status, run.rows, run.new, run.rejected) == ("ok", 3002, 3000, 2), run.error
    assert [r["reason"] for r in run.rejects] == ["no text value at data[3000].attributes.ip",
                                                  "no text value at data[3001].attributes.ip"]
    assertion = lookup_one(sqlite_db, "41.1.0.1")["matches"][0]["assertions"][0]
    assert assertion["confidence"] == 90 and assertion["labels"] == ["c2"]
    # A top-level list of strings needs no path; an object does.
    (tmp_path / "list.json").write_text('["scam-a.example", "scam-b.example", 7]')
    add_feed(sqlite_db, "list", "file://" + str(tmp_path / "list.json"), "json")
    listed = run_feed(sqlite_db, "list")
    assert (listed.new, listed.rejected) == (2, 1)
    add_feed(sqlite_db, "nopath", "file://" + str(tmp_path / "doc.json"), "json")
    failed = run_feed(sqlite_db, "nopath")
    assert failed.status == "failed" and "give value_path" in failed.error


def test_feed_type_names_become_kinds(sqlite_db, tmp_path):
    (tmp_path / "iocs.csv").write_text(
        "ioc,ioc_type,tags\n"
        "41.2.3.4:443,ip:port,c2\n"
        "evil-host.example,hostname,\n"
        "44d88612fea8a8f36de82e1278abb02f,md5_hash,\n"
        "0812345678,mobile,scam\n"
        "ACC-0001,bank-account,\n"
        "weird.example,gizmo,\n"
        "3:hMCEpFRzMp:hMCEpvzMp,ssdeep,\n"
        "@kbank_help,Telegram ID,scam\n"
        "1234567890,Bank Account,mule\n")
    add_feed(sqlite_db, "typed", "file://" + str(tmp_path / "iocs.csv"), "csv", column="ioc",
             columns={"kind": "ioc_type", "labels": "tags"}, kinds={"mobile": "phone", "bank-account": ""},
             region="TH")
    run = run_feed(sqlite_db, "typed")
    assert (run.rows, run.new, run.rejected) == (9, 6, 3)
    assert set(stored(sqlite_db, "typed")) == {"41.2.3.4", "evil-host.example", "+66812345678",
                                               "md5:44d88612fea8a8f36de82e1278abb02f", "telegram:kbank_help",
                                               "acct:TH:-:1234567890"}
    kept = ("(IPs, domains, URLs, e-mail addresses, phone numbers, bank accounts, crypto wallets, user accounts and "
            "MD5, SHA-1 or SHA-256 file hashes)")
    assert [(r["line"], r["reason"]) for r in run.rejects] == [
        (6, f"a bank-account value: not a kind the registry keeps {kept}"),
        (7, "'weird.example' is not a valid gizmo: unknown kind (expected one of ipv4, ipv6, domain, url, phone, "
            "email, bank-account, crypto-wallet, user-account, file-hash)"),
        (8, f"a ssdeep value: not a kind the registry keeps {kept}")]


def test_health_in_one_word(sqlite_db, tmp_path):
    path = tmp_path / "l.txt"
    add_feed(sqlite_db, "watched", write_list(path, ["x-scam.example"]), "text")

    def health():
        return list_feeds(sqlite_db, Viewer.operator())[0]["health"]

    assert health() == "never run"
    run_feed(sqlite_db, "watched")
    assert health() == "ok"
    path.unlink()
    assert run_feed(sqlite_db, "watched").status == "failed" and health() == "failing"
    write_list(path, ["x-scam.example"])
    run_feed(sqlite_db, "watched")
    with sqlite_db.write() as conn:  # the scheduler has been down for a day: every 1h feed is stale
        conn.exec_driver_sql("UPDATE feed_run SET started = '2000-01-01 00:00:00.000000'")
    feed = list_feeds(sqlite_db, Viewer.operator())[0]
    assert feed["health"] == "stale" and feed["next_due"] <= iso(utcnow())  # overdue: at once


def test_a_feed_platform_reads_at_names_and_its_columns_map_names_the_parts(sqlite_db, tmp_path):
    (tmp_path / "handles.txt").write_text("@kbank_support_th\n@scam_officer_th\n")
    add_feed(sqlite_db, "handles", "file://" + str(tmp_path / "handles.txt"), "text", platform="Telegram")
    run = run_feed(sqlite_db, "handles")
    assert (run.rows, run.new, run.rejected) == (2, 2, 0)
    assert set(stored(sqlite_db, "handles")) == {"telegram:kbank_support_th", "telegram:scam_officer_th"}
    # A header the reader does not know: the feed's columns name the bank and the number.
    (tmp_path / "mules.csv").write_text("ref,acct,institution code\n1,123-4-56789-0,KASI\n2,1234567890,\n")
    add_feed(sqlite_db, "mules", "file://" + str(tmp_path / "mules.csv"), "csv",
             column="acct", columns={"bank": "institution code"})
    mules = run_feed(sqlite_db, "mules")
    assert mules.status == "ok", mules.error
    assert (mules.rows, mules.new, mules.rejected) == (2, 2, 0)
    assert set(stored(sqlite_db, "mules")) == {"acct:TH:KASI:1234567890", "acct:TH:-:1234567890"}
    for fields, said in (({"platform": "myspace"}, "platform: unknown platform 'myspace'"),
                         ({"platform": "line", "kind": "ipv4"}, "platform: a platform is given only with kind"),
                         ({"columns": {"bnak": "x"}}, "columns: unknown field 'bnak'")):
        with pytest.raises(CatalogueError, match=said):
            add_feed(sqlite_db, "bad", "file://" + str(tmp_path / "handles.txt"), "text", **fields)
