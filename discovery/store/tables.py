"""The records database schema (SQLAlchemy Core). Migrations in `migrations/` create it."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

products = Table(
    "products",
    metadata,
    Column("sku", String(255), primary_key=True),
    Column("parent_sku", String(255), index=True),
    Column("data", JSON, nullable=False),
    # sha256 of the canonical JSON: an unchanged row is recognised without a diff.
    Column("content_hash", String(64), nullable=False),
    Column("withdrawn", Boolean, nullable=False, default=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

assets = Table(
    "assets",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("sha256", String(64), nullable=False, index=True),
    Column("filename", String(1024), nullable=False, index=True),
    Column("data", JSON, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

vectors = Table(
    "vectors",
    metadata,
    Column("target", String(300), primary_key=True),  # global doc id, e.g. product:SKU
    Column("field", String(32), primary_key=True),  # text_vector | image_vector
    Column("model", String(200), nullable=False),
    Column("dim", Integer, nullable=False),
    Column("vector", LargeBinary, nullable=False),  # float32 little-endian
    Column("content_hash", String(64), nullable=False),  # what was embedded
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("kind", String(64), nullable=False),
    Column("state", String(16), nullable=False, index=True),
    Column("progress", Float, nullable=False, default=0.0),
    Column("counts", JSON, nullable=False),
    Column("rejects", JSON, nullable=False),
    Column("dead_letters", JSON, nullable=False),
    Column("params", JSON, nullable=False),
    Column("error", Text),
    Column("created_by", String(200)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(200)),
    Column("action", String(64), nullable=False),
    Column("target", String(300), nullable=False),
    Column("detail", JSON, nullable=False),
    Index("ix_audit_target", "target"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("hash", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("name", String(200)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked", Boolean, nullable=False, default=False),
)
