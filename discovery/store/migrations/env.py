"""Alembic environment: runs against the connection the records module hands it."""

from __future__ import annotations

from alembic import context

from discovery.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reached through `alembic` on the command line
    raise RuntimeError("run migrations through discovery.store.database.migrate()")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
