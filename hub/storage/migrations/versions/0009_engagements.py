"""engagements: interests, statuses and hours; their events in the one ordered log

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "engagements",
        sa.Column("pk", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("mission_pk", sa.Integer(), nullable=False),
        sa.Column("partner_pk", sa.Integer(), nullable=False),
        sa.Column("company_pk", sa.Integer(), nullable=False),
        sa.Column("employee_ref", sa.String(length=200), nullable=False),
        sa.Column("site", sa.String(length=100), nullable=True),
        sa.Column("department", sa.String(length=100), nullable=True),
        sa.Column("team", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("hours_planned", sa.Float(), nullable=True),
        sa.Column("hours_given", sa.Float(), nullable=True),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cause", sa.String(length=40), nullable=True),
        sa.Column("skill", sa.String(length=60), nullable=True),
        sa.Column("organization_pk", sa.Integer(), nullable=True),
        sa.Column("link_token", sa.String(length=64), nullable=True),
        sa.Column("link_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("clicked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("contact_sealed", sa.Text(), nullable=True),
        sa.Column("contact_erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_pk"], ["clients.pk"], name=op.f("fk_engagements_company_pk_clients")
        ),
        sa.ForeignKeyConstraint(
            ["mission_pk"], ["missions.pk"], name=op.f("fk_engagements_mission_pk_missions")
        ),
        sa.ForeignKeyConstraint(
            ["organization_pk"],
            ["organizations.pk"],
            name=op.f("fk_engagements_organization_pk_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["partner_pk"], ["partners.pk"], name=op.f("fk_engagements_partner_pk_partners")
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_engagements")),
        sa.UniqueConstraint("id", name=op.f("uq_engagements_id")),
        sa.UniqueConstraint("link_token", name=op.f("uq_engagements_link_token")),
    )
    op.create_index("ix_engagements_company_created", "engagements", ["company_pk", "created_at"])
    op.create_index(
        "ix_engagements_company_employee", "engagements", ["company_pk", "employee_ref"]
    )
    op.create_index("ix_engagements_partner_pk", "engagements", ["partner_pk"])
    op.create_index("ix_engagements_mission_pk", "engagements", ["mission_pk"])
    op.create_table(
        "engagement_history",
        sa.Column("pk", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("engagement_pk", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("hours_given", sa.Float(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["engagement_pk"],
            ["engagements.pk"],
            name=op.f("fk_engagement_history_engagement_pk_engagements"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_engagement_history")),
    )
    op.create_index(
        "ix_engagement_history_engagement_pk", "engagement_history", ["engagement_pk"]
    )
    op.create_table(
        "engagement_costs",
        sa.Column("company_pk", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("amount", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_pk"], ["clients.pk"], name=op.f("fk_engagement_costs_company_pk_clients")
        ),
        sa.PrimaryKeyConstraint("company_pk", "kind", "label", name=op.f("pk_engagement_costs")),
    )
    # Engagement events share the mission events' log (and its positions): a wider type, and
    # the engagement each is about. On SQLite the table is copied, keeping AUTOINCREMENT.
    with op.batch_alter_table(
        "mission_events", recreate="auto", table_kwargs={"sqlite_autoincrement": True}
    ) as batch:
        batch.alter_column("type", type_=sa.String(length=30), existing_nullable=False)
        batch.add_column(sa.Column("engagement_pk", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_mission_events_engagement_pk_engagements"),
            "engagements",
            ["engagement_pk"],
            ["pk"],
        )
        batch.create_index("ix_mission_events_engagement_pk", ["engagement_pk"])


    _grant_company_scopes()


_ENGAGEMENT_SCOPES = ("engagements:read", "engagements:write")


def _grant_company_scopes() -> None:
    """Company clients get the engagement scopes, as new ones do by default (hub.auth.caller):
    the loop is the companies' side of the API; a token asks for less with `scope`."""
    clients = sa.table(
        "clients", sa.column("pk", sa.Integer), sa.column("kind"), sa.column("scopes", sa.JSON)
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(clients.c.pk, clients.c.scopes).where(clients.c.kind == "company"))
    for pk, scopes in rows.all():
        wanted = [*(scopes or []), *(s for s in _ENGAGEMENT_SCOPES if s not in (scopes or []))]
        if wanted != scopes:
            bind.execute(clients.update().where(clients.c.pk == pk).values(scopes=wanted))


def downgrade() -> None:
    with op.batch_alter_table(
        "mission_events", recreate="auto", table_kwargs={"sqlite_autoincrement": True}
    ) as batch:
        batch.drop_index("ix_mission_events_engagement_pk")
        batch.drop_constraint(
            op.f("fk_mission_events_engagement_pk_engagements"), type_="foreignkey"
        )
        batch.drop_column("engagement_pk")
        batch.alter_column("type", type_=sa.String(length=10), existing_nullable=False)
    op.drop_table("engagement_costs")
    op.drop_index("ix_engagement_history_engagement_pk", table_name="engagement_history")
    op.drop_table("engagement_history")
    op.drop_index("ix_engagements_mission_pk", table_name="engagements")
    op.drop_index("ix_engagements_partner_pk", table_name="engagements")
    op.drop_index("ix_engagements_company_employee", table_name="engagements")
    op.drop_index("ix_engagements_company_created", table_name="engagements")
    op.drop_table("engagements")
