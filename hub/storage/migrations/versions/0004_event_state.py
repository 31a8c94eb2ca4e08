"""event state after each change; hub_state

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN: no table copy on SQLite (mission_events has no triggers anyway).
    op.add_column("mission_events", sa.Column("state", sa.JSON(), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        # Log positions must never be reused, even once old events are pruned: SQLite reuses
        # the largest rowid + 1 unless the table is AUTOINCREMENT.
        with op.batch_alter_table(
            "mission_events", recreate="always", table_kwargs={"sqlite_autoincrement": True}
        ):
            pass
    op.create_table(
        "hub_state",
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_hub_state"),
    )


def downgrade() -> None:
    op.drop_table("hub_state")
    with op.batch_alter_table("mission_events") as batch:
        batch.drop_column("state")
