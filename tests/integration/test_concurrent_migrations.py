"""The API and a worker start together against an empty database and both migrate it: two
real processes, released at the same instant, must both succeed (PostgreSQL: advisory lock;
SQLite: a lock file)."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]

# Each process imports everything first, then waits for the same instant to open the records
# (which migrates), so the two migrations overlap.
MIGRATE_AT = """
import sys, time
from discovery.store.records import Records
start = float(sys.argv[2])
time.sleep(max(0.0, start - time.time()))
Records.open(sys.argv[1]).close()
print("migrated")
"""


def _migrate_together(url: str, processes: int = 2) -> list[subprocess.CompletedProcess[str]]:
    start = time.time() + 4.0  # the imports (sqlalchemy, alembic, numpy) finish well before
    running = [
        subprocess.Popen(
            [sys.executable, "-c", MIGRATE_AT, url, str(start)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    done = []
    for proc in running:
        out, err = proc.communicate(timeout=60)
        done.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return done


def _driver(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


@pytest.fixture
def empty_postgres_database(postgres_url: str) -> Iterator[str]:
    """A database of its own, created empty for this test and dropped after it."""
    name = f"discovery_migrate_{uuid.uuid4().hex[:10]}"
    admin = create_engine(_driver(postgres_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _tables(url: str) -> set[str]:
    engine = create_engine(_driver(url))
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_two_processes_migrating_an_empty_postgres_database_at_once_both_succeed(
    empty_postgres_database: str,
) -> None:
    results = _migrate_together(empty_postgres_database)
    for result in results:
        assert result.returncode == 0, result.stderr[-2000:]
        assert "migrated" in result.stdout
    assert {"products", "assets", "api_keys", "alembic_version"} <= _tables(empty_postgres_database)


def test_two_processes_migrating_a_new_sqlite_database_at_once_both_succeed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'records.db'}"
    results = _migrate_together(url)
    for result in results:
        assert result.returncode == 0, result.stderr[-2000:]
    assert {"products", "assets", "api_keys", "alembic_version"} <= _tables(url)
