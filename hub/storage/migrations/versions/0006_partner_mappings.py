"""partner mappings: a partner's declarative mapping, its version and when it was set

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("partners") as batch:
        batch.add_column(sa.Column("mapping", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("mapping_version", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("mapping_set_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("partners") as batch:
        batch.drop_column("mapping_set_at")
        batch.drop_column("mapping_version")
        batch.drop_column("mapping")
