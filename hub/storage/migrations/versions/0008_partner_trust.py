"""partner trust: who owns an organization record, and the operator's partner priority

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs (nullable): no table copy on SQLite. Existing organizations have no
    # owner: identifiers still find them, no partner's write changes them.
    op.add_column("organizations", sa.Column("partner_pk", sa.Integer(), nullable=True))
    op.create_index("ix_organizations_partner_pk", "organizations", ["partner_pk"])
    op.add_column("partners", sa.Column("priority", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("partners") as batch:
        batch.drop_column("priority")
    op.drop_index("ix_organizations_partner_pk", table_name="organizations")
    with op.batch_alter_table("organizations") as batch:
        batch.drop_column("partner_pk")
