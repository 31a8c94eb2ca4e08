"""shown labels: the causes and skills a listing is found by, derived from its match state

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

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
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        op.execute(_FUNCTION)
    for key in ("causes", "skills"):
        if postgresql:  # stored: computed when the row is written
            expression = f"hub_json_texts(match_state -> '{key}')"
            kind: sa.types.TypeEngine[object] = ARRAY(sa.Text())
        else:  # SQLite adds only virtual generated columns: computed when read
            expression = f"json_extract(match_state, '$.{key}')"
            kind = sa.Text()
        op.add_column(
            "missions",
            sa.Column(
                f"shown_{key}", kind, sa.Computed(sa.text(expression), persisted=postgresql or None)
            ),
        )


def downgrade() -> None:
    with op.batch_alter_table("missions") as batch:
        batch.drop_column("shown_skills")
        batch.drop_column("shown_causes")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS hub_json_texts(json)")
