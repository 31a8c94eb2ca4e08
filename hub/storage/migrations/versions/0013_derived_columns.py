"""derived columns: the causes and skills a listing is found by and shows (from its match
state), the organization name its partner published (from its raw record)

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from typing import Any

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
            kind: sa.types.TypeEngine[Any] = ARRAY(sa.Text())
        else:  # SQLite adds only virtual generated columns: computed when read
            expression = f"json_extract(match_state, '$.{key}')"
            kind = sa.Text()
        _add(f"shown_{key}", kind, expression, postgresql)
    published = "raw ->> 'organization_name'" if postgresql else _PUBLISHED_SQLITE
    _add("published_organization", sa.Text(), published, postgresql)


_PUBLISHED_SQLITE = "json_extract(raw, '$.organization_name')"


def _add(name: str, kind: sa.types.TypeEngine[Any], expression: str, stored: bool) -> None:
    computed = sa.Computed(sa.text(expression), persisted=stored or None)
    op.add_column("missions", sa.Column(name, kind, computed))


def downgrade() -> None:
    with op.batch_alter_table("missions") as batch:
        batch.drop_column("published_organization")
        batch.drop_column("shown_skills")
        batch.drop_column("shown_causes")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS hub_json_texts(json)")
