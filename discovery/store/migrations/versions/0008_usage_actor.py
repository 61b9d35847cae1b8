"""Usage events carry who caused them (`key:<id>[/session]` or `anon:<address>`), so the
popularity counters count callers, not requests.

Revision ID: 0008_usage_actor
Revises: 0007_webhooks
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_usage_actor"
down_revision = "0007_webhooks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("usage_events", sa.Column("actor", sa.String(200), nullable=False, server_default=""))


def downgrade() -> None:
    op.drop_column("usage_events", "actor")
