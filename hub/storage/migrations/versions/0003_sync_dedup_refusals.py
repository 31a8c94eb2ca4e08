"""sync state, dedup link, refused records, unmapped labels

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hub.storage.fts import restore_sqlite_triggers

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("partners") as batch:
        batch.add_column(sa.Column("interval_seconds", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("state", sa.JSON(), nullable=False, server_default="{}"))
        batch.add_column(sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("consecutive_failures", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("circuit_open_until", sa.DateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column("last_error", sa.Text(), nullable=True))
        batch.add_column(sa.Column("last_good_snapshot_size", sa.Integer(), nullable=True))
    with op.batch_alter_table("missions") as batch:
        batch.add_column(sa.Column("canonical_pk", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("missed_syncs", sa.Integer(), nullable=False, server_default="0")
        )
        batch.create_foreign_key(
            "fk_missions_canonical_pk_missions", "missions", ["canonical_pk"], ["pk"]
        )
        batch.create_index("ix_missions_canonical_pk", ["canonical_pk"])
    if op.get_bind().dialect.name == "sqlite":
        # The batch copied `missions`, dropping the full-text triggers: put them back.
        restore_sqlite_triggers(op.execute)
    op.create_table(
        "refused_records",
        sa.Column("pk", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("partner_pk", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("sync_run_pk", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_pk"], ["partners.pk"], name="fk_refused_records_partner_pk_partners"
        ),
        sa.ForeignKeyConstraint(
            ["sync_run_pk"], ["sync_runs.pk"], name="fk_refused_records_sync_run_pk_sync_runs"
        ),
        sa.PrimaryKeyConstraint("pk", name="pk_refused_records"),
    )
    op.create_index(
        "ix_refused_records_partner_at", "refused_records", ["partner_pk", "at"], unique=False
    )
    op.create_table(
        "unmapped_labels",
        sa.Column("partner_pk", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_pk"], ["partners.pk"], name="fk_unmapped_labels_partner_pk_partners"
        ),
        sa.PrimaryKeyConstraint("partner_pk", "kind", "label", name="pk_unmapped_labels"),
    )


def downgrade() -> None:
    op.drop_table("unmapped_labels")
    op.drop_index("ix_refused_records_partner_at", table_name="refused_records")
    op.drop_table("refused_records")
    with op.batch_alter_table("missions") as batch:
        batch.drop_index("ix_missions_canonical_pk")
        batch.drop_constraint("fk_missions_canonical_pk_missions", type_="foreignkey")
        batch.drop_column("missed_syncs")
        batch.drop_column("canonical_pk")
    if op.get_bind().dialect.name == "sqlite":
        restore_sqlite_triggers(op.execute)
    with op.batch_alter_table("partners") as batch:
        for column in (
            "last_good_snapshot_size",
            "last_error",
            "circuit_open_until",
            "consecutive_failures",
            "failing_since",
            "last_success_at",
            "state",
            "interval_seconds",
        ):
            batch.drop_column(column)
