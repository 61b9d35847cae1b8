"""Products and assets are indexed by when they were last written: the per-process catalog
caches (`name_records`) catch up by the rows stamped since their last look, and ask the
newest stamp and the count before each import chunk. Without the index each of those read
the whole table, ~50 ms a look at 100,000 rows.

Revision ID: 0013_updated_at_indexes
Revises: 0012_vector_generations
"""

from __future__ import annotations

from alembic import op

revision = "0013_updated_at_indexes"
down_revision = "0012_vector_generations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_products_updated_at", "products", ["updated_at"])
    op.create_index("ix_assets_updated_at", "assets", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_assets_updated_at", table_name="assets")
    op.drop_index("ix_products_updated_at", table_name="products")
