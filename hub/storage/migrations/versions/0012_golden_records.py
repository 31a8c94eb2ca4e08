"""golden records and shown listings: a merged mission's golden record kept with its shown
listing; partial indexes over the listings a collapsed search shows

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# What a collapsed search shows (hub.storage.tables): open listings not merged into another.
_SHOWN = "status = 'OPEN' AND canonical_pk IS NULL"
_SHOWN_INDEXES = {
    "ix_missions_shown_sort": ["sort_date", "pk"],
    "ix_missions_shown_remote_sort": ["remote", "sort_date", "pk"],
}


def upgrade() -> None:
    # A plain ADD COLUMN (nullable): no table copy on SQLite. hub.storage.match_states.refresh,
    # which runs after every migration, fills it for the merged missions already stored.
    op.add_column("missions", sa.Column("golden", sa.Text(), nullable=True))
    for name, columns in _SHOWN_INDEXES.items():
        op.create_index(
            name,
            "missions",
            columns,
            postgresql_where=sa.text(_SHOWN),
            sqlite_where=sa.text(_SHOWN),
        )


def downgrade() -> None:
    for name in _SHOWN_INDEXES:
        op.drop_index(name, table_name="missions")
    with op.batch_alter_table("missions") as batch:
        batch.drop_column("golden")
