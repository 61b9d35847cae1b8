"""Job chunks and in-process queue heartbeats: what crash recovery of jobs needs.

Revision ID: 0002_job_chunks
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_job_chunks"
down_revision = "0001"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "job_chunks",
        sa.Column("job_id", sa.String(36), sa.ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("chunk_no", sa.Integer, primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("counts", sa.JSON, nullable=False),
        sa.Column("rejects", sa.JSON, nullable=False),
        sa.Column("dead_letters", sa.JSON, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("lease_owner", sa.String(200)),
        sa.Column("lease_expires_at", TZ),
        sa.Column("queue_id", sa.String(100)),
        sa.Column("enqueued_at", TZ),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("finished_at", TZ),
    )
    op.create_index("ix_job_chunks_state", "job_chunks", ["state"])
    op.create_table(
        "job_queues",
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("heartbeat_at", TZ, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("job_queues")
    op.drop_index("ix_job_chunks_state", table_name="job_chunks")
    op.drop_table("job_chunks")
