"""Index documents owed after a records write (a review decision): a row per target, written
in the decision's transaction, removed once the rebuilt document is committed.

Revision ID: 0010_index_pending
Revises: 0009_job_chunk_links
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_index_pending"
down_revision = "0009_job_chunk_links"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "index_pending",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("target", sa.String(300), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_index_pending_target", "index_pending", ["target"])


def downgrade() -> None:
    op.drop_table("index_pending")
