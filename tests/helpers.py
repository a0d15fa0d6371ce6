"""Helpers shared by test packages (importable as tests.helpers)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

from registry.services.orgs import add_org
from registry.storage import migrate
from registry.storage.db import Database, normalise_url

FIXTURES = Path(__file__).parent / "fixtures"
PG_URL = os.environ.get("REGISTRY_TEST_DATABASE_URL")
PG_SKIP = "PostgreSQL not configured: set REGISTRY_TEST_DATABASE_URL (CI sets it) to run these on PostgreSQL too"


def pg_schema_url(schema: str) -> str:
    """The test server's URL with its own schema first on the search path."""
    joiner = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{joiner}options=-csearch_path%3D{schema}"


def create_pg_schema() -> tuple[str, str]:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalise_url(PG_URL))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    return schema, pg_schema_url(schema)


def drop_pg_schema(schema: str) -> None:
    admin = create_engine(normalise_url(PG_URL))
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def migrated_sqlite(folder: Path) -> tuple[str, Database]:
    """A migrated SQLite database at ``folder``/registry.db: its URL and an open ``Database``."""
    url = f"sqlite:///{folder / 'registry.db'}"
    db = Database(url)
    migrate.upgrade(db)
    return url, db


def add_member_orgs(db):
    """ccib-th and pdrm-my, the two member agencies most tests write as; returns ``db``."""
    add_org(db, "ccib-th", "Royal Thai Police CCIB", "TH")
    add_org(db, "pdrm-my", "Royal Malaysia Police", "MY")
    return db


def stored_rows(db, table, values) -> dict[str, list[dict]]:
    """The rows of ``table`` (assertion or sighting) about each of ``values``, by id, every column
    as stored: what a write may not change."""
    from sqlalchemy import select

    from registry.storage import tables as t

    out: dict[str, list[dict]] = {value: [] for value in values}
    with db.read() as conn:
        rows = conn.execute(select(t.indicator.c.value, table).join(t.indicator, t.indicator.c.id == table.c.indicator_id)
                            .where(t.indicator.c.value.in_(list(values))).order_by(table.c.id))
        for row in rows:
            fields = dict(row._mapping)
            out[fields.pop("value")].append(fields)
    return out


def kind_value(kind: str, n: int) -> str:
    """A canonical value of ``kind``, distinct for each whole number ``n`` below 60,000 and from
    every other kind's (checksums valid where the kind has one): the TLP matrices' values of every kind."""
    import hashlib
    import ipaddress

    import base58

    from registry.domain.kinds import (
        BANK_ACCOUNT,
        CRYPTO_WALLET,
        DOMAIN,
        EMAIL,
        FILE_HASH,
        IPV4,
        IPV6,
        PHONE,
        URL,
        USER_ACCOUNT,
    )

    seed = hashlib.sha256(f"{kind}-{n}".encode()).digest()
    values = {
        IPV4: lambda: f"45.78.{n // 250}.{n % 250 + 1}",
        IPV6: lambda: str(ipaddress.IPv6Address((0x2A0104F9 << 96) + n + 1)),
        DOMAIN: lambda: f"kind-{n}.tlp-kinds.example",
        URL: lambda: f"http://url-{n}.tlp-kinds.example/pay",
        PHONE: lambda: f"+6682{n:07d}",
        EMAIL: lambda: f"scam-{n}@mail-{n}.tlp-kinds.example",
        BANK_ACCOUNT: lambda: f"acct:TH:KASI:{n:010d}",
        CRYPTO_WALLET: lambda: "tron:" + base58.b58encode_check(b"\x41" + seed[:20]).decode(),
        USER_ACCOUNT: lambda: f"telegram:tlp_kinds_{n}",
        FILE_HASH: lambda: "sha256:" + seed.hex(),
    }
    return values[kind]()


def end_assertions(db, ends: dict[str, str], at) -> None:
    """End the assertions of each value as the registry would (docs/design.md, "Listed means in
    force"), by setting the columns directly: ``expired`` (past its valid_until), ``snapshot``
    (a snapshot feed's end), ``review`` (its review date passed) or ``delisted``, at ``at``; each
    with a new change number and ``modified``, as a real end gets (the disputes workflow and the
    snapshot expiry have tests of their own)."""
    from sqlalchemy import select, update

    from registry.domain.standing import DELISTED, EXPIRED, REVIEW, SNAPSHOT
    from registry.storage import tables as t
    from registry.storage.db import next_seq

    columns = {EXPIRED: {"valid_until": at}, SNAPSHOT: {"valid_until": at, "end_reason": SNAPSHOT},
               REVIEW: {"review_at": at}, DELISTED: {"valid_until": at, "end_reason": DELISTED}}
    a, i = t.assertion.c, t.indicator.c
    with db.write() as conn:
        for value, why in ends.items():
            ids = conn.execute(select(a.id).join_from(t.assertion, t.indicator, i.id == a.indicator_id)
                               .where(i.value == value)).scalars().all()
            assert ids, f"no assertion of {value}"
            for assertion_id in ids:
                conn.execute(update(t.assertion).where(a.id == assertion_id).values(
                    **columns[why], modified=at, seq=next_seq(conn)))
