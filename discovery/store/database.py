"""The records database itself: its engine (SQLite's pragmas, PostgreSQL's pool) and its schema
migrations, which several processes may start at once and which take turns."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, text

MIGRATIONS = Path(__file__).with_name("migrations")
# The PostgreSQL advisory lock the schema migration holds: any fixed 64-bit number that
# nothing else in the database uses (this one spells "discmigr" in ASCII).
MIGRATION_LOCK_KEY = 0x646973636D696772


def make_engine(url: str) -> Engine:
    """An engine for the records URL; SQLite gets WAL and a busy timeout so the API and
    in-process jobs can write side by side."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


# One migration of a database at a time. The API and a worker start together against an empty
# database (compose): both creating the tables failed with a unique violation in PostgreSQL's
# catalog. The second now waits, then finds the schema at head and does nothing.


@contextmanager
def _sqlite_migration_lock(engine: Engine) -> Iterator[None]:
    """A lock file beside a SQLite database, taken before the first connection: connecting
    switches a new database to WAL, itself a write two processes must not race on."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    with open(f"{database}.migrate-lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _postgres_migration_lock(conn: Connection) -> None:
    """An advisory lock held until the migration's transaction ends."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration. Safe to call at every start, from several
    processes at once (they take turns)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with _sqlite_migration_lock(engine), engine.begin() as conn:
        _postgres_migration_lock(conn)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
