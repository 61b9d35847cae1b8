"""Vectors keyed by (target, field, model), so a model switch can re-embed into a new
generation beside the active one; `vector_generations` names the active model per field.

Revision ID: 0012_vector_generations
Revises: 0011_product_import_hash
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_vector_generations"
down_revision = "0011_product_import_hash"
branch_labels = None
depends_on = None

_COLUMNS = "target, field, model, dim, vector, content_hash"


def _vectors_table(name: str, key: tuple[str, ...]) -> None:
    # A new table and a copy: changing a primary key in place is not portable (SQLite).
    op.create_table(
        name,
        sa.Column("target", sa.String(300), nullable=False),
        sa.Column("field", sa.String(32), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("dim", sa.Integer(), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint(*key, name=f"pk_{name}"),
    )
    op.execute(f"INSERT INTO {name} ({_COLUMNS}) SELECT {_COLUMNS} FROM vectors")
    op.drop_table("vectors")
    op.rename_table(name, "vectors")


def upgrade() -> None:
    _vectors_table("vectors_by_model", ("target", "field", "model"))
    op.create_table(
        "vector_generations",
        sa.Column("field", sa.String(32), primary_key=True),
        sa.Column("active", sa.String(200), nullable=False),
        sa.Column("active_spec", sa.JSON(), nullable=False),
        sa.Column("pending", sa.String(200), nullable=True),
        sa.Column("pending_spec", sa.JSON(), nullable=True),
        sa.Column("previous", sa.String(200), nullable=True),
        sa.Column("previous_spec", sa.JSON(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("vector_generations")
    # Keep one vector per (target, field): the generation that searches used is lost with the table.
    op.execute(
        "DELETE FROM vectors WHERE EXISTS (SELECT 1 FROM vectors AS o WHERE o.target = vectors.target "
        "AND o.field = vectors.field AND o.model > vectors.model)"
    )
    _vectors_table("vectors_by_target", ("target", "field"))
