"""Engine setup and the unit of work.

SQLite: WAL, a busy timeout, a larger page cache, and ``BEGIN IMMEDIATE`` for write transactions so
two writers queue on the lock instead of failing when a read lock is upgraded. PostgreSQL:
psycopg 3 with a small pool. ``Database.read()`` is one snapshot on both engines;
``Database.write()`` commits when its block ends and rolls back on
any exception, so an import lands whole or not at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, select
from sqlalchemy.engine import make_url

from registry.storage import tables as t
from registry.storage.caches import OPTION, Caches

BUSY_TIMEOUT_MS = 30_000


def normalise_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` mean psycopg 3 here."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


class Database:
    def __init__(self, url: str, *, echo: bool = False, mmap_bytes: int = 0, caches: Caches | None = None) -> None:
        """``mmap_bytes``: SQLite only, how much of the file readers map (the web server's
        lookups probe the value index at random); 0 reads page by page, which keeps a long
        import's or feed run's resident memory at its working set.

        ``caches``: what this database's readers keep between calls (storage.caches), carried
        by every connection of its engine; a new Database starts with empty ones unless given
        some (a forked process's copy of its parent's)."""
        self.caches = caches if caches is not None else Caches()
        options = {OPTION: self.caches}
        self.url = normalise_url(url)
        parsed = make_url(self.url)
        self.dialect = parsed.get_backend_name()
        if self.dialect == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            self.engine = create_engine(self.url, echo=echo, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000},
                                        execution_options=options)
            _setup_sqlite(self.engine, mmap_bytes)
        else:
            # A schema of one's own goes in the URL: ?options=-csearch_path%3Dname
            self.engine = create_engine(self.url, echo=echo, pool_size=5, max_overflow=10, pool_pre_ping=True,
                                        execution_options=options)

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction: committed at the end of the block, rolled back on error."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(registry_write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction: its statements see one snapshot, so a batch's several queries
        never see half of a write committed meanwhile (docs/design.md, "Data flow of a lookup").
        SQLite: one transaction (WAL readers keep the snapshot of their first read);
        PostgreSQL: REPEATABLE READ (READ COMMITTED, its default, takes one per statement)."""
        with self.engine.connect() as conn:
            if self.dialect != "sqlite":
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn

    def is_initialised(self) -> bool:
        from sqlalchemy import inspect

        return inspect(self.engine).has_table("indicator")

    def dispose(self) -> None:
        signal = self.caches.derived.pop("event-signal", None)  # storage.event_signal's watcher thread
        if signal is not None:
            signal.stop()
        self.engine.dispose()


def _setup_sqlite(engine: Engine, mmap_bytes: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # We issue BEGIN ourselves (below); pysqlite's implicit transactions would defer it.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        # Foreign keys stay unenforced on SQLite (its default): with them on, every indicator
        # insert also probes the assertion table, a large share of a bulk import's time. The storage
        # layer writes references itself; PostgreSQL enforces them.
        # 64 MiB of page cache: the value index of a million rows stays in memory on imports.
        cur.execute("PRAGMA cache_size=-65536")
        cur.execute("PRAGMA temp_store=MEMORY")
        if mmap_bytes > 0:  # reads through a memory map of the file instead of a call per page
            cur.execute(f"PRAGMA mmap_size={int(mmap_bytes)}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        immediate = conn.get_execution_options().get("registry_write")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def next_seq(conn: Connection, count: int = 1) -> int:
    """Reserve ``count`` change-sequence numbers; returns the first."""
    if count <= 0:
        raise ValueError("count must be positive")
    last = conn.execute(
        t.counter.update().where(t.counter.c.name == "seq").values(value=t.counter.c.value + count).returning(t.counter.c.value)
    ).scalar_one()
    return last - count + 1


def current_seq(conn: Connection) -> int:
    return conn.execute(select(t.counter.c.value).where(t.counter.c.name == "seq")).scalar_one()
