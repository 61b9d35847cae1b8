"""Tag index: one row per (target, tag), the review queue's table.

Revision ID: 0003_tag_index
Revises: 0002_job_chunks
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_tag_index"
down_revision = "0002_job_chunks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tag_index",
        sa.Column("target", sa.String(300), primary_key=True),
        sa.Column("tag", sa.String(200), primary_key=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("model", sa.String(200)),
        sa.Column("impact", sa.Integer, nullable=False, server_default="0"),
        sa.Column("collections", sa.String(2000), nullable=False, server_default=""),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_tag_index_status_tag", "tag_index", ["status", "tag"])


def downgrade() -> None:
    op.drop_table("tag_index")
