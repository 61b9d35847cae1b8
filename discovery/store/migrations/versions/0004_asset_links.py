"""Asset links: row per (asset, sku), so a product finds its assets.

Revision ID: 0004_asset_links
Revises: 0003_tag_index
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_asset_links"
down_revision = "0003_tag_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "asset_links",
        sa.Column("asset_id", sa.String(64), primary_key=True),
        sa.Column("sku", sa.String(255), primary_key=True),
        sa.Column("how", sa.String(32), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
    )
    op.create_index("ix_asset_links_sku", "asset_links", ["sku"])
    # Links of assets stored before this table existed.
    conn = op.get_bind()
    assets = sa.table("assets", sa.column("id", sa.String), sa.column("data", sa.JSON))
    links = sa.table(
        "asset_links", sa.column("asset_id"), sa.column("sku"), sa.column("how"), sa.column("position")
    )
    rows = []
    for asset_id, data in conn.execute(sa.select(assets.c.id, assets.c.data)):
        seen: set[str] = set()
        for position, link in enumerate((data or {}).get("product_skus") or []):
            sku = str(link.get("sku") or "")
            if sku and sku not in seen:
                seen.add(sku)
                rows.append({"asset_id": asset_id, "sku": sku, "how": str(link.get("how") or ""), "position": position})
    if rows:
        op.bulk_insert(links, rows)


def downgrade() -> None:
    op.drop_table("asset_links")
