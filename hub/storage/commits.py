"""Tell a listener each time a transaction that wrote has committed, on one engine.

The response cache drops its answers on every committed write, whatever the table: mission
changes append to the event log, but partners, their sync health, organizations, label mappings,
clients, policies and documents are written without an event, by several stores. One hook on the
engine sees them all, so no writer can be forgotten, today or later.

The call comes after the commit, before the writer's `async with engine.begin()` block returns
(the connection goes back to the pool then): a reader that saw the old version number therefore
computed an answer that the bump invalidates, and one that sees the new number reads after the
commit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["on_committed_write"]

_WROTE = "hub.wrote"  # on the pooled connection's info: a write ran in this transaction
_COMMITTED = "hub.committed"  # ... and its transaction committed
_WRITES = ("INSERT", "UPDATE", "DELETE", "MERGE", "TRUNCATE", "DROP", "ALTER", "CREATE")


def _is_write(statement: str, context: Any) -> bool:
    if context is not None and (context.isinsert or context.isupdate or context.isdelete):
        return True
    return statement.lstrip()[:8].upper().startswith(_WRITES)


def on_committed_write(engine: AsyncEngine, listener: Callable[[], None]) -> None:
    """Call `listener` (synchronously: it must not block) after each committed transaction that
    ran an INSERT, UPDATE, DELETE or DDL statement on `engine`."""
    sync_engine = engine.sync_engine

    def after_cursor_execute(
        conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool
    ) -> None:
        if _is_write(statement, context):
            conn.info[_WROTE] = True

    def commit(conn: Any) -> None:
        if conn.info.pop(_WROTE, False):
            conn.info[_COMMITTED] = True

    def rollback(conn: Any) -> None:
        conn.info.pop(_WROTE, None)

    def returned(record: Any) -> None:
        if record is not None and record.info.pop(_COMMITTED, False):
            listener()

    # `reset` and `checkin` both come once the commit is done; whichever comes first tells.
    def reset(_dbapi_connection: Any, record: Any, _state: Any) -> None:
        returned(record)

    def checkin(_dbapi_connection: Any, record: Any) -> None:
        returned(record)

    event.listen(sync_engine, "after_cursor_execute", after_cursor_execute)
    event.listen(sync_engine, "commit", commit)
    event.listen(sync_engine, "rollback", rollback)
    event.listen(sync_engine.pool, "reset", reset)
    event.listen(sync_engine.pool, "checkin", checkin)
