"""Tell a listener each time a transaction that wrote has committed, on one engine.

The response cache drops its answers on every committed write, whatever the table: mission
changes append to the event log, but partners, their sync health, organizations, label mappings,
clients, policies and documents are written without an event, by several stores. One hook on the
engine sees them all, so no writer can be forgotten, today or later.

The call comes after the commit, before the writer's `async with engine.begin()` block returns
(the connection goes back to the pool then, and the pool's checkin event fires): a reader that
saw the old version number computed an answer that the bump invalidates, and one that sees the
new number reads after the commit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["on_committed_write"]

_WROTE = "hub.wrote"  # on the pooled connection's info: a write ran since it was checked out
_WRITES = ("INSERT", "UPDATE", "DELETE", "MERGE", "TRUNCATE", "DROP", "ALTER", "CREATE")


def _is_write(statement: str, cursor: Any, context: Any, many: bool) -> bool:
    head = statement.lstrip()[:8].upper()
    changes_rows = (context is not None and (context.isupdate or context.isdelete)) or (
        head.startswith(("UPDATE", "DELETE"))
    )
    if changes_rows and not many:
        # An UPDATE or DELETE that matched no row changed nothing (the webhook worker's hourly
        # prune, most of the time): nothing to drop. A count the driver does not know (-1)
        # counts as a change, and so does any batch (executemany).
        return getattr(cursor, "rowcount", -1) != 0
    if changes_rows or (context is not None and context.isinsert):
        return True
    return head.startswith(_WRITES)


def on_committed_write(engine: AsyncEngine, listener: Callable[[], None]) -> None:
    """Call `listener` (synchronously: it must not block) when a connection that ran an INSERT,
    UPDATE, DELETE or DDL statement on `engine` goes back to the pool, its transaction over; an
    UPDATE or DELETE that matched no row does not count.

    A rolled-back write calls it too: one needless drop, never a stale answer. (Listening to the
    connections' commit and rollback events instead made a task cancelled during a query, such
    as the live stream's at shutdown, swallow its cancellation with asyncpg.)"""
    sync_engine = engine.sync_engine

    def after_cursor_execute(
        conn: Any, cursor: Any, statement: str, _params: Any, context: Any, many: bool
    ) -> None:
        if _is_write(statement, cursor, context, many):
            conn.info[_WROTE] = True

    def checkin(_dbapi_connection: Any, record: Any) -> None:
        if record is not None and record.info.pop(_WROTE, False):
            listener()

    event.listen(sync_engine, "after_cursor_execute", after_cursor_execute)
    event.listen(sync_engine.pool, "checkin", checkin)
