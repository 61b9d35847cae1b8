"""A chunk records what its linking did (links made by how, suggested, ambiguous), so a
job's report lists them.

Revision ID: 0009_job_chunk_links
Revises: 0008_usage_actor
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_job_chunk_links"
down_revision = "0008_usage_actor"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("job_chunks", sa.Column("links", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("job_chunks", "links")
