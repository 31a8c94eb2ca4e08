"""Every id a pull listed, kept in a SQLite file of the sync's own instead of in memory.

Two things need every external id a pull delivered: the connector's `Run`, to refuse a second
copy of an id, and the absence check at the end of a complete pull (hub.ingest.service
`close_absent`), which closes the partner's open missions the pull did not list. A Python set of
a million ids costs over 100 MB; here they are the rows of two tables in a file in the sync's
temporary directory, compared exactly as they are (UTF-8 bytes, lone surrogates kept: no hashing,
so two different ids are never taken for one), in about as much memory as SQLite's page cache
(`CACHE_KIB`), whatever the size of the feed.

`delivered` holds the ids of the drafts and withdrawals delivered (first copies), `refused` the
ids of records refused before delivery (a malformed record's mission is kept open); the pull
writes them, closes the file, and only then says it is done; the sync opens the file again for
the absence check (hub.sync.runner). With the pull in a process of its own (hub.ingest.pulling)
the ids never cross the pipe and live in one place, the file.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Iterator, MutableSet, Set
from types import TracebackType

__all__ = ["CACHE_KIB", "IdTable", "ListedIds"]

CACHE_KIB = 4096  # SQLite's page cache for the file: the memory a pull's ids cost in all

_TABLES = ("delivered", "refused")


def _key(value: str) -> bytes:
    return value.encode("utf-8", "surrogatepass")  # one bytes string per str, and back


def _value(key: bytes) -> str:
    return key.decode("utf-8", "surrogatepass")


class IdTable(MutableSet[str]):
    """One table of ids in the file, as a set of str (what the connector's `Run` takes as its
    `seen`)."""

    def __init__(self, db: sqlite3.Connection, table: str) -> None:
        assert table in _TABLES
        self._db = db
        self._has = f"SELECT 1 FROM {table} WHERE id = ?"
        self._add = f"INSERT OR IGNORE INTO {table} (id) VALUES (?)"
        self._discard = f"DELETE FROM {table} WHERE id = ?"
        self._all = f"SELECT id FROM {table}"
        self._count = f"SELECT count(*) FROM {table}"

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, str):
            return False
        return self._db.execute(self._has, (_key(value),)).fetchone() is not None

    def add(self, value: str) -> None:
        self._db.execute(self._add, (_key(value),))

    def update(self, values: Iterable[str]) -> None:
        self._db.executemany(self._add, ((_key(value),) for value in values))

    def discard(self, value: str) -> None:
        self._db.execute(self._discard, (_key(value),))

    def __iter__(self) -> Iterator[str]:
        for (key,) in self._db.execute(self._all):
            yield _value(key)

    def __len__(self) -> int:
        return int(self._db.execute(self._count).fetchone()[0])


class ListedIds(Set[str]):
    """The ids a pull listed: those it delivered and those of the records it refused, as one
    set (the absence check's `seen`). `ListedIds(path)` creates the file or opens it again;
    `close()` (or leaving `with`) writes it for another process to open."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        # One transaction from open to close, no journal, no sync: the file is scratch, its
        # directory goes with the sync, and nothing reads it before it is closed.
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        try:
            db.execute("PRAGMA journal_mode = OFF")
            db.execute("PRAGMA synchronous = OFF")
            db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
            for table in _TABLES:
                db.execute(
                    f"CREATE TABLE IF NOT EXISTS {table} (id BLOB PRIMARY KEY) WITHOUT ROWID"
                )
            db.execute("BEGIN")
        except BaseException:
            db.close()
            raise
        self._db = db
        self.delivered = IdTable(db, "delivered")
        self.refused = IdTable(db, "refused")

    def refuse(self, external_id: str | None) -> None:
        """A record refused before delivery: its id is listed (its mission stays open), unless
        it is a later copy of one delivered."""
        if external_id is not None and external_id not in self.delivered:
            self.refused.add(external_id)

    def __contains__(self, value: object) -> bool:
        return value in self.delivered or value in self.refused

    def __iter__(self) -> Iterator[str]:
        yield from self.delivered
        query = "SELECT id FROM refused WHERE id NOT IN (SELECT id FROM delivered)"
        for (key,) in self._db.execute(query):
            yield _value(key)

    def __len__(self) -> int:
        query = (
            "SELECT (SELECT count(*) FROM delivered)"
            " + (SELECT count(*) FROM refused WHERE id NOT IN (SELECT id FROM delivered))"
        )
        return int(self._db.execute(query).fetchone()[0])

    def close(self) -> None:
        if self._db.in_transaction:
            self._db.execute("COMMIT")
        self._db.close()

    def __enter__(self) -> ListedIds:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
