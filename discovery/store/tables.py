"""The records database schema (SQLAlchemy Core). Migrations in `migrations/` create it."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
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
    # "<hash of the mapped row and the import's settings>:<content_hash it produced>", set by
    # imports only (any other write clears it): a re-import skips a row whose hash matches.
    Column("import_hash", String(160), nullable=True),
    Column("withdrawn", Boolean, nullable=False, default=False),
    # Indexed: catalog caches catch up by the rows stamped since their last look (0013).
    Column("updated_at", DateTime(timezone=True), nullable=False, index=True),
)

assets = Table(
    "assets",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("sha256", String(64), nullable=False, index=True),
    Column("filename", String(1024), nullable=False, index=True),
    Column("data", JSON, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, index=True),
)

# One vector per (target, field, model): while a model switch re-embeds into the next
# generation, a target holds the active model's vector and the next one's (migration 0012).
vectors = Table(
    "vectors",
    metadata,
    Column("target", String(300), primary_key=True),  # global doc id, e.g. product:SKU
    Column("field", String(32), primary_key=True),  # text_vector | image_vector
    Column("model", String(200), primary_key=True),
    Column("dim", Integer, nullable=False),
    Column("vector", LargeBinary, nullable=False),  # float32 little-endian
    Column("content_hash", String(64), nullable=False),  # what was embedded
)

# Which model's vectors a field's searches use (`active`), the one a switch is re-embedding
# into (`pending`) and the one it replaced (`previous`: a process whose index has not yet
# followed the swap still answers with it), each with what builds it (`*_spec`: name,
# pretrained tag). No row: the configured model, as before any `discovery models use`.
vector_generations = Table(
    "vector_generations",
    metadata,
    Column("field", String(32), primary_key=True),
    Column("active", String(200), nullable=False),
    Column("active_spec", JSON, nullable=False),
    Column("pending", String(200)),
    Column("pending_spec", JSON),
    Column("previous", String(200)),
    Column("previous_spec", JSON),
    Column("updated_at", DateTime(timezone=True), nullable=False),
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

# --- jobs: chunks and queues (used by indexer/jobs; migration 0002_job_chunks) ---------------
# A job's work is split into chunks; each chunk is a row so that its state, attempts, lease and
# outcome survive a broker restart. Chunk 0 of every chunked job is its plan (the split itself).

job_chunks = Table(
    "job_chunks",
    metadata,
    Column("job_id", String(36), ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
    Column("chunk_no", Integer, primary_key=True),
    # pending | running | retrying | done | failed | cancelled
    Column("state", String(16), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("counts", JSON, nullable=False),
    Column("rejects", JSON, nullable=False),
    Column("dead_letters", JSON, nullable=False),
    Column("error", Text),
    Column("links", JSON),  # what the chunk's linking did (migration 0009_job_chunk_links)
    # Who runs it and until when; a lease that runs out means no live worker holds the chunk.
    Column("lease_owner", String(200)),
    Column("lease_expires_at", DateTime(timezone=True)),
    # Which queue its message went to, and when: a message in a queue that vanished is re-sent.
    Column("queue_id", String(100)),
    Column("enqueued_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Index("ix_job_chunks_state", "state"),
)

# In-process runners beat here; a pending chunk sent to a runner that stopped beating is re-sent.
job_queues = Table(
    "job_queues",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("heartbeat_at", DateTime(timezone=True), nullable=False),
)
