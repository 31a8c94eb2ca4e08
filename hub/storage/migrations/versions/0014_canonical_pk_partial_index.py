"""missions.canonical_pk indexed only where it is set

The index serves the members of a merged mission (`canonical_pk = ?`, `IN (...)`, joins), all
of which imply `canonical_pk IS NOT NULL`. Indexing the NULLs too (every listing that heads or
is alone in its cluster: most of the catalogue) let SQLite, once `ANALYZE` (or `PRAGMA
optimize`) had given it statistics, answer a collapsed search's `canonical_pk IS NULL` through
this index and sort the whole catalogue: 630 ms a page instead of 1 ms at 200,000 missions. As a
partial index it cannot serve that condition, and the partial indexes of the shown listings
(ix_missions_shown_*) answer it on both databases; it is also smaller.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_SET = sa.text("canonical_pk IS NOT NULL")


def upgrade() -> None:
    op.drop_index("ix_missions_canonical_pk", table_name="missions")
    op.create_index(
        "ix_missions_canonical_pk",
        "missions",
        ["canonical_pk"],
        postgresql_where=_SET,
        sqlite_where=_SET,
    )


def downgrade() -> None:
    op.drop_index("ix_missions_canonical_pk", table_name="missions")
    op.create_index("ix_missions_canonical_pk", "missions", ["canonical_pk"])
