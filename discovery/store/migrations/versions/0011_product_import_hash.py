"""Products remember the hash of the row that made them, so a re-import skips unchanged rows
before settling, storing or indexing them.

Revision ID: 0011_product_import_hash
Revises: 0010_index_pending
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_product_import_hash"
down_revision = "0010_index_pending"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("products", sa.Column("import_hash", sa.String(160), nullable=True))


def downgrade() -> None:
    op.drop_column("products", "import_hash")
