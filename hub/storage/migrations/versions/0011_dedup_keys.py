"""mission_dedup_keys: the index the duplicate linking finds candidates by

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
    op.create_table(
        "mission_dedup_keys",
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("partner_pk", sa.Integer(), nullable=False),
        sa.Column(
            "mission_pk",
            sa.Integer(),
            sa.ForeignKey(
                "missions.pk", name="fk_mission_dedup_keys_mission_pk_missions", ondelete="CASCADE"
            ),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("key", "partner_pk", "mission_pk", name="pk_mission_dedup_keys"),
    )
    op.create_index("ix_mission_dedup_keys_mission_pk", "mission_dedup_keys", ["mission_pk"])
    # The listings already stored get their keys.
    from hub.storage.duplicate_candidates import backfill_keys

    backfill_keys(op.get_bind())


def downgrade() -> None:
    op.drop_index("ix_mission_dedup_keys_mission_pk", table_name="mission_dedup_keys")
    op.drop_table("mission_dedup_keys")
