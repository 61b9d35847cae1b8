"""Collections: the registry of nestable asset folders (id, path, name, parent).

Revision ID: 0005_collections
Revises: 0004_asset_links
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_collections"
down_revision = "0004_asset_links"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "collections",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("path", sa.String(1000), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("parent_id", sa.String(32)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(200)),
    )
    op.create_index("ix_collections_parent_id", "collections", ["parent_id"])


def downgrade() -> None:
    op.drop_table("collections")
