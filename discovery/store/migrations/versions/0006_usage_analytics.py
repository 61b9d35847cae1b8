"""Usage analytics: the search log and usage events (views, downloads, clicks).

Revision ID: 0006_usage_analytics
Revises: 0005_collections
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_usage_analytics"
down_revision = "0005_collections"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "search_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", TZ, nullable=False),
        sa.Column("q", sa.String(500), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False, server_default=""),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("took_ms", sa.Float, nullable=False),
    )
    op.create_index("ix_search_log_q", "search_log", ["q"])
    op.create_index("ix_search_log_at", "search_log", ["at"])
    op.create_table(
        "usage_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", TZ, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("target", sa.String(300), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False, server_default=""),
        sa.Column("query", sa.String(500), nullable=False, server_default=""),
        sa.Column("detail", sa.String(100), nullable=False, server_default=""),
    )
    op.create_index("ix_usage_events_target", "usage_events", ["target"])
    op.create_index("ix_usage_events_at", "usage_events", ["at"])


def downgrade() -> None:
    op.drop_table("usage_events")
    op.drop_table("search_log")
