"""derived columns: the causes and skills a listing is found by and shows (from its match
state), the organization name its partner published (from its raw record)

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# A JSON array of text as a text array, in its order ('{}' for null): immutable, so that a
# generated column may use it.
_FUNCTION = """
CREATE OR REPLACE FUNCTION hub_json_texts(value json) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT coalesce(array_agg(item ORDER BY at), '{}')
  FROM json_array_elements_text(value) WITH ORDINALITY AS items(item, at)
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # Stored, computed when a row is written; one ALTER TABLE, so the table is rewritten
        # once for the three columns.
        op.execute(_FUNCTION)
        op.execute(
            "ALTER TABLE missions"
            " ADD COLUMN shown_causes text[]"
            " GENERATED ALWAYS AS (hub_json_texts(match_state -> 'causes')) STORED,"
            " ADD COLUMN shown_skills text[]"
            " GENERATED ALWAYS AS (hub_json_texts(match_state -> 'skills')) STORED,"
            " ADD COLUMN published_organization text"
            " GENERATED ALWAYS AS (raw ->> 'organization_name') STORED"
        )
        return
    # SQLite adds only virtual generated columns: computed when read.
    for name, expression in (
        ("shown_causes", "json_extract(match_state, '$.causes')"),
        ("shown_skills", "json_extract(match_state, '$.skills')"),
        ("published_organization", "json_extract(raw, '$.organization_name')"),
    ):
        op.add_column("missions", sa.Column(name, sa.Text(), sa.Computed(sa.text(expression))))


def downgrade() -> None:
    with op.batch_alter_table("missions") as batch:
        batch.drop_column("published_organization")
        batch.drop_column("shown_skills")
        batch.drop_column("shown_causes")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS hub_json_texts(json)")
