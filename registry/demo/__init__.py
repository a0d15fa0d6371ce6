"""Demo data for `make run`: a few member agencies and indicators from bundled sample feeds."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from registry.services.imports import import_file
from registry.services.keys import create_key, list_keys
from registry.services.orgs import add_org
from registry.services.submit import Provenance
from registry.storage import orgs as org_store
from registry.storage.db import Database

DATA = Path(__file__).parent / "data"

ORGS = (
    ("ccib-th", "Royal Thai Police CCIB", "TH"),
    ("pdrm-my", "Royal Malaysia Police (PDRM) CCID", "MY"),
    ("pnp-acg-ph", "Philippine National Police Anti-Cybercrime Group", "PH"),
    ("kh-police", "Cambodian National Police, Anti-Cybercrime Department", "KH"),
    ("spamhaus", "The Spamhaus Project", None),
    ("dshield", "SANS Internet Storm Center (DShield)", None),
    ("openphish", "OpenPhish", None),
    ("abusech", "abuse.ch", "CH"),
    ("bank-x", "Bank X fraud team (a reader capped at TLP:GREEN)", "TH"),
    ("registry-ops", "Registry operators", None),
)

DEMO_KEYS = (
    ("ccib-th", "contributor", "red"),
    ("pdrm-my", "reader", None),
    ("bank-x", "reader", "green"),
    ("registry-ops", "admin", "red"),
)


@dataclass(frozen=True)
class DemoImport:
    file: str
    provenance: Provenance
    column: str | None = None


IMPORTS = (
    DemoImport("spamhaus_drop_2025-01-17.txt", Provenance("spamhaus", feed="spamhaus-drop", tlp="clear", confidence=80, labels=("spam-infrastructure",))),
    DemoImport("dshield_top_1000.ipset", Provenance("dshield", feed="dshield-top-1000", tlp="clear", confidence=40, labels=("scanner",))),
    DemoImport("openphish_feed_2026-08-22.txt", Provenance("openphish", feed="openphish", tlp="clear", confidence=70, labels=("phishing",))),
    DemoImport("feodotracker_ipblocklist_2024-04-04.csv", Provenance("abusech", feed="feodotracker", tlp="clear", confidence=75, labels=("c2", "botnet")), column="dst_ip"),
    DemoImport("ccib-th-scam-numbers.csv", Provenance("ccib-th", tlp="amber", confidence=80, labels=("call-centre-scam",), kind="phone"), column="number"),
    DemoImport("pdrm-my-scam.txt", Provenance("pdrm-my", tlp="green", confidence=70, labels=("macau-scam",))),
    DemoImport("pnp-acg-ph-smishing.txt", Provenance("pnp-acg-ph", tlp="amber", confidence=65, labels=("smishing",))),
)


def load_demo(db: Database, keys_file: Path | None = None) -> Iterator[str]:
    """Add the demo orgs (if missing), demo keys (on a registry with none, written to
    ``keys_file``) and import the demo files; yields one line per step."""
    for slug, name, country in ORGS:
        with db.read() as conn:
            exists = org_store.get(conn, slug) is not None
        if not exists:
            add_org(db, slug, name, country)
            yield f"org {slug}: added"
    if keys_file is not None and not list_keys(db):
        lines = []
        for org, role, max_tlp in DEMO_KEYS:
            created = create_key(db, org, role, max_tlp, name="demo")
            lines.append(f"{org:<13} {role:<12} {created['max_tlp']:<13} {created['key']}")
        keys_file.parent.mkdir(parents=True, exist_ok=True)
        keys_file.write_text("# demo API keys: org, role, max TLP, key\n" + "\n".join(lines) + "\n")
        keys_file.chmod(0o600)
        yield f"demo API keys written to {keys_file}"
    for item in IMPORTS:
        _, report = import_file(db, DATA / item.file, item.provenance, column=item.column)
        yield (
            f"{item.file}: read {report.read}, new {report.new}, unchanged {report.unchanged}, "
            f"allowlisted {report.allowlisted}, rejected {report.rejected}"
        )
