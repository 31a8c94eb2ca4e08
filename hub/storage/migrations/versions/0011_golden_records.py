"""golden records: a merged mission's golden record kept with its shown listing

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (nullable): no table copy on SQLite. hub.storage.match_states.refresh,
    # which runs after every migration, fills it for the merged missions already stored.
    op.add_column("missions", sa.Column("golden", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("missions") as batch:
        batch.drop_column("golden")
