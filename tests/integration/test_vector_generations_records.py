"""Vectors per (target, field, model) and the image generation, on SQLite and PostgreSQL:
migration 0012 keeps the vectors a database held, a target holds the active and the next
generation's vectors side by side, and a write drops only models no generation needs."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from discovery.store.database import MIGRATIONS, make_engine
from discovery.store.records import Records


def _driver(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'records.db'}"
        return
    base = request.getfixturevalue("postgres_url")
    name = f"discovery_vecgen_{uuid.uuid4().hex[:10]}"
    admin = create_engine(_driver(base), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _upgrade(url: str, revision: str) -> None:
    engine = make_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    engine.dispose()


def test_migration_keeps_the_vectors_and_lets_a_target_hold_two_models(url: str) -> None:
    _upgrade(url, "0009_job_chunk_links")
    engine = make_engine(url)
    vec = np.arange(4, dtype="<f4").tobytes()
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO vectors (target, field, model, dim, vector, content_hash) "
                "VALUES (:t, :f, :m, 4, :v, 'h')"
            ),
            {"t": "asset:a", "f": "image_vector", "m": "tiny@r1", "v": vec},
        )
    engine.dispose()
    records = Records.open(url)  # migrates to head
    try:
        assert records.vector_counts() == [("image_vector", "tiny@r1", 1)]
        records.vectors.begin(
            "image_vector", active="tiny@r1", active_spec={"model": "tiny"}, pending="tiny-b@r1",
            pending_spec={"model": "tiny-b"},
        )  # fmt: skip
        records.put_vectors("image_vector", "tiny-b@r1", [("asset:a", np.ones(4, np.float32), "h")])
        assert sorted(records.vector_counts()) == [("image_vector", "tiny-b@r1", 1), ("image_vector", "tiny@r1", 1)]
        # Readers get the active generation's vector unless they name a model.
        assert records.get_vectors("image_vector", ["asset:a"])["asset:a"][0] == "tiny@r1"
        assert records.get_vectors("image_vector", ["asset:a"], model="tiny-b@r1")["asset:a"][0] == "tiny-b@r1"

        assert records.vectors.activate("image_vector", "tiny-b@r1")
        gen = records.vectors.generation("image_vector")
        assert gen is not None and (gen.active, gen.pending, gen.previous) == ("tiny-b@r1", None, "tiny@r1")
        assert records.get_vectors("image_vector", ["asset:a"])["asset:a"][0] == "tiny-b@r1"
        # A write of the active model drops the target's vectors no generation needs any more.
        records.put_vectors("image_vector", "tiny-b@r1", [("asset:a", np.ones(4, np.float32), "h2")])
        assert records.vector_counts() == [("image_vector", "tiny-b@r1", 1)]
    finally:
        records.close()
