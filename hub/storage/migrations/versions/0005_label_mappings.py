"""label mappings the operator adds: per partner, or global synonyms

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "label_mappings",
        sa.Column("pk", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("partner_pk", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("label_key", sa.String(length=200), nullable=False),
        sa.Column("target", sa.String(length=60), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_pk"], ["partners.pk"], name="fk_label_mappings_partner_pk_partners"
        ),
        sa.PrimaryKeyConstraint("pk", name="pk_label_mappings"),
        sa.UniqueConstraint(
            "partner_pk", "kind", "label_key", name="uq_label_mappings_partner_pk_kind_label_key"
        ),
    )


def downgrade() -> None:
    op.drop_table("label_mappings")
