"""Shared helpers for the benchmark scripts: deterministic data and measuring."""

from __future__ import annotations

import os
import random
import resource
import time
from collections.abc import Iterator
from contextlib import contextmanager

# Realistic spread of network sizes in blocklists (DROP, FireHOL level1, ET block).
CIDR_LENGTHS = (12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 24, 24, 24, 22, 20)
PHONE_PREFIXES = ("+6681", "+6689", "+6692", "+6662", "+85597", "+85588", "+60123", "+63917", "+8491", "+628121")
TLDS = ("com", "net", "org", "xyz", "top", "co.th", "com.my", "ph", "vn", "shop", "online")
WORDS = ("kbank", "scb", "bangkok", "maybank", "gcash", "bdo", "lhdn", "parcel", "refund", "verify", "secure",
         "login", "update", "promo", "thai", "post", "kerry", "flash", "lazada", "shopee", "support", "account")


# Public unicast first octets: blocklists spread over the whole space, outside the allowlisted
# private, loopback, multicast and reserved ranges.
FIRST_OCTETS = tuple(n for n in range(1, 224) if n not in (10, 100, 127, 169, 172, 192, 198, 203))


def ipv4(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_OCTETS)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


def cidr(rng: random.Random) -> str:
    length = rng.choice(CIDR_LENGTHS)
    address = ipv4(rng)
    a, b, c, d = (int(x) for x in address.split("."))
    n = (a << 24 | b << 16 | c << 8 | d) & ((0xFFFFFFFF << (32 - length)) & 0xFFFFFFFF)
    return f"{n >> 24}.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}/{length}"


def domain(rng: random.Random) -> str:
    name = "-".join(rng.sample(WORDS, 2)) + str(rng.randrange(100000))
    sub = rng.choice(("", "", "www.", "login.", "m."))
    return f"{sub}{name}.{rng.choice(TLDS)}"


def phone(rng: random.Random) -> str:
    prefix = rng.choice(PHONE_PREFIXES)
    digits = 11 - (len(prefix) - 1) if prefix.startswith("+66") else 12 - (len(prefix) - 1)
    if prefix.startswith("+85597") or prefix.startswith("+85588"):
        digits = 6
    if prefix.startswith("+60123"):
        digits = 7
    if prefix.startswith("+63917") or prefix.startswith("+8491"):
        digits = 7
    if prefix.startswith("+628121"):
        digits = 6
    return prefix + "".join(str(rng.randrange(10)) for _ in range(digits))


# The new kinds as people write them (issue 14's mix): a bank name and a number, an e-wallet's
# phone, a labelled USDT address, a platform handle or link, a hash.
BANKS = (("KBank", 10), ("SCB", 10), ("Bangkok Bank", 10), ("Krungthai", 10), ("Maybank", 12), ("CIMB", 10),
         ("BDO", 12), ("BCA", 10), ("Vietcombank", 13), ("ABA", 9))
WALLETS = (("TrueMoney", "08"), ("GCash", "0917"), ("PromptPay", "09"))
PLATFORMS = ("telegram:", "t.me/", "line:@", "tiktok:@", "instagram:", "wa.me/")


def _digits(rng: random.Random, n: int) -> str:
    return "".join(str(rng.randrange(10)) for _ in range(n))


def bank_account(rng: random.Random) -> str:
    if rng.random() < 0.2:
        name, start = rng.choice(WALLETS)
        return f"{name} {start}{_digits(rng, 10 - len(start) + (1 if name == 'GCash' else 0))}"
    name, length = rng.choice(BANKS)
    return f"{name} {_digits(rng, length)}"


def crypto_wallet(rng: random.Random) -> str:
    import base58

    from registry.domain.normalize.crypto_wallet import eip55

    body = rng.randbytes(20)
    r = rng.random()
    if r < 0.6:  # USDT on TRON: the compounds' currency
        return "USDT-TRC20: " + base58.b58encode_check(b"\x41" + body).decode()
    if r < 0.85:
        return "ERC20 0x" + eip55(body.hex())
    return base58.b58encode_check(b"\x00" + body).decode()  # a Bitcoin P2PKH address


def user_account(rng: random.Random) -> str:
    platform = rng.choice(PLATFORMS)
    if platform == "wa.me/":  # a WhatsApp account is its phone number
        return platform + "668" + _digits(rng, 8)
    return platform + rng.choice(WORDS) + "_" + rng.choice(WORDS) + str(rng.randrange(100000))


def file_hash(rng: random.Random) -> str:
    return rng.randbytes(32).hex() if rng.random() < 0.7 else "md5:" + rng.randbytes(16).hex()


NEW_KINDS = (bank_account, bank_account, bank_account, crypto_wallet, crypto_wallet, user_account, user_account,
             file_hash)


def mixed_values(count: int, *, seed: int = 1, cidr_share: float = 0.1, new_kinds: float = 0.0) -> Iterator[str]:
    """``count`` values: IPv4 addresses, CIDRs (``cidr_share``), domains and phone numbers, and
    with ``new_kinds`` that share of bank accounts, crypto wallets, user accounts and file hashes
    (0 keeps the sequence of values the figures before them were taken with)."""
    rng = random.Random(seed)
    other = random.Random(seed + 7919)  # the new kinds' own stream: the old values stay as they were
    for _ in range(count):
        if new_kinds and other.random() < new_kinds:
            yield other.choice(NEW_KINDS)(other)
            continue
        r = rng.random()
        if r < cidr_share:
            yield cidr(rng)
        elif r < 0.45:
            yield ipv4(rng)
        elif r < 0.75:
            yield domain(rng)
        else:
            yield phone(rng)


def write_feed(path, lines: int, new_kinds: float = 0.0) -> None:
    """A plain-list feed of ``lines`` mixed values (the import and feed benchmarks' input)."""
    with open(path, "w") as fh:
        fh.write("# generated benchmark feed\n")
        for value in mixed_values(lines, new_kinds=new_kinds):
            fh.write(value + "\n")


def raw_insert(lines: int, db_path, new_kinds: float = 0.0) -> tuple[float, int]:
    """The baseline of the import and feed benchmarks: the same values, normalised beforehand
    (not timed), inserted with one sqlite3 executemany into a table with a unique index on the
    value. Returns (seconds, rows)."""
    import sqlite3

    from registry.domain.normalize import NormalizeError, normalize

    rows = []
    for value in mixed_values(lines, new_kinds=new_kinds):
        try:
            for v in normalize(value, None, "TH"):
                rows.append((v.kind, v.value, "2026-11-22 00:00:00", "2026-11-22 00:00:00"))
        except NormalizeError:
            pass
    raw = sqlite3.connect(db_path)
    raw.execute("PRAGMA journal_mode=WAL")
    raw.execute("PRAGMA synchronous=NORMAL")
    raw.execute("CREATE TABLE indicator (id INTEGER PRIMARY KEY, kind TEXT, value TEXT UNIQUE, first_seen TEXT, last_seen TEXT)")
    with Timer() as t_raw:
        raw.executemany("INSERT OR IGNORE INTO indicator (kind, value, first_seen, last_seen) VALUES (?, ?, ?, ?)", rows)
        raw.commit()
    raw.close()
    return t_raw.seconds, len(rows)


def schema_url(postgres: str, schema: str) -> str:
    """The PostgreSQL URL ``postgres`` with ``schema`` first on the search path."""
    return f"{postgres}{'&' if '?' in postgres else '?'}options=-csearch_path%3D{schema}"


def postgres_admin(postgres: str):
    """An engine on the server itself, to create and drop the benchmarks' schemas."""
    from sqlalchemy import create_engine

    from registry.storage.db import normalise_url

    return create_engine(normalise_url(postgres))


@contextmanager
def fresh_schema(postgres: str, name: str) -> Iterator[str]:
    """The URL of a new, empty schema on the PostgreSQL server at ``postgres``, dropped after."""
    from sqlalchemy import text

    schema = f"bench_{name}_{os.getpid()}"
    admin = postgres_admin(postgres)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema_url(postgres, schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def new_kinds_option(parser) -> None:
    parser.add_argument("--new-kinds", type=float, default=0.0, metavar="SHARE",
                        help="share of rows of the new kinds (bank and e-wallet accounts, crypto wallets, "
                             "user accounts, file hashes), e.g. 0.1")


def postgres_option(parser) -> None:
    """``--postgres URL`` (default: REGISTRY_BENCH_POSTGRES), as every script that offers it spells it."""
    parser.add_argument("--postgres", default=os.environ.get("REGISTRY_BENCH_POSTGRES"),
                        help="a PostgreSQL URL: the registry lives in a schema of its own there (default: SQLite)")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def children_peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


class Timer:
    """Wall seconds (``seconds``) and this process's CPU seconds (``cpu``): on a shared machine
    the CPU time moves less with what else runs."""

    def __enter__(self):
        self.start = time.perf_counter()
        self.cpu_start = time.process_time()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start
        self.cpu = time.process_time() - self.cpu_start
