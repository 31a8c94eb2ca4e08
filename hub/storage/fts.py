"""The SQLite full-text index on missions.search_text: an FTS5 table kept by triggers.

Shared by the migrations: a batch ALTER of `missions` on SQLite copies the table, which drops
its triggers, so a migration that does so must call `restore_sqlite_triggers` afterwards.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["create_sqlite_index", "restore_sqlite_triggers"]

_TRIGGERS = {
    "missions_fts_ai": (
        "CREATE TRIGGER missions_fts_ai AFTER INSERT ON missions BEGIN "
        "INSERT INTO missions_fts(rowid, search_text) VALUES (new.pk, new.search_text); END"
    ),
    "missions_fts_ad": (
        "CREATE TRIGGER missions_fts_ad AFTER DELETE ON missions BEGIN "
        "INSERT INTO missions_fts(missions_fts, rowid, search_text) "
        "VALUES ('delete', old.pk, old.search_text); END"
    ),
    "missions_fts_au": (
        "CREATE TRIGGER missions_fts_au AFTER UPDATE OF search_text ON missions BEGIN "
        "INSERT INTO missions_fts(missions_fts, rowid, search_text) "
        "VALUES ('delete', old.pk, old.search_text); "
        "INSERT INTO missions_fts(rowid, search_text) VALUES (new.pk, new.search_text); END"
    ),
}


def create_sqlite_index(execute: Callable[[str], object]) -> None:
    execute(
        "CREATE VIRTUAL TABLE missions_fts USING fts5("
        "search_text, content='missions', content_rowid='pk', tokenize='unicode61')"
    )
    for statement in _TRIGGERS.values():
        execute(statement)


def restore_sqlite_triggers(execute: Callable[[str], object]) -> None:
    """Put the triggers back after `missions` was copied, and rebuild the index from it."""
    for name, statement in _TRIGGERS.items():
        execute(f"DROP TRIGGER IF EXISTS {name}")
        execute(statement)
    execute("INSERT INTO missions_fts(missions_fts) VALUES ('rebuild')")
