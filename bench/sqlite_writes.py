#!/usr/bin/env python
"""What a SQLite write transaction of a sync's batch costs, by how the rows are sent and how the
connection is set: the measurements behind hub/storage/bulk.py's multi-row INSERTs and
hub/storage/db.py's page cache and WAL checkpoints.

    python bench/sqlite_writes.py --from bench/out/ingest.db [--missions 50000] [--rounds 2]

`--from` is a store a sync filled (bench/ingest.py leaves one at bench/out/ingest.db). The
missions are read from it once, then written again into fresh files of the same schema (the
missions table, its indexes and its full-text trigger), in one process, for each variant:

- one row a statement (executemany) against 200 rows a statement, in one transaction;
- transactions of 500 and 2,000 rows, with SQLite's defaults and with the hub's settings;
- the hub's way without the full-text trigger: what the FTS5 index costs a mission.

Prints seconds per variant and round; compare within one run (the machine is shared).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from hub.storage.db import SQLITE_CACHE_KIB, SQLITE_CHECKPOINT_PAGES  # noqa: E402

ROWS_A_STATEMENT = 200


def load(path: str, missions: int) -> tuple[list[str], list[tuple[Any, ...]], list[str]]:
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    columns = [c[1] for c in source.execute("PRAGMA table_xinfo(missions)") if c[6] == 0]
    rows = source.execute(
        f"SELECT {', '.join(columns)} FROM missions ORDER BY pk LIMIT ?", (missions,)
    ).fetchall()
    schema = [
        sql
        for (sql,) in source.execute(
            "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND tbl_name LIKE 'missions%'"
            " AND name NOT LIKE 'sqlite_%'"
        )
    ]
    return columns, rows, schema


def write(
    folder: str,
    columns: list[str],
    rows: list[tuple[Any, ...]],
    schema: list[str],
    *,
    transaction: int,
    many: bool,
    hub_settings: bool,
    full_text: bool = True,
) -> float:
    path = os.path.join(folder, "w.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    if hub_settings:
        db.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        db.execute(f"PRAGMA wal_autocheckpoint={SQLITE_CHECKPOINT_PAGES}")
    for sql in schema:
        if not full_text and sql.startswith("CREATE TRIGGER missions_fts"):
            continue
        with contextlib.suppress(sqlite3.OperationalError):  # the full-text index's own
            db.execute(sql)  # tables, made with it
    one = "(" + ", ".join("?" for _ in columns) + ")"
    head = f"INSERT INTO missions ({', '.join(columns)}) VALUES "
    started = time.perf_counter()
    for first in range(0, len(rows), transaction):
        part = rows[first : first + transaction]
        db.execute("BEGIN")
        if many:
            db.executemany(head + one, part)
        else:
            for start in range(0, len(part), ROWS_A_STATEMENT):
                chunk = part[start : start + ROWS_A_STATEMENT]
                values = [value for row in chunk for value in row]
                db.execute(head + ", ".join(one for _ in chunk), values)
        db.execute("COMMIT")
    seconds = time.perf_counter() - started
    db.close()
    return seconds


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench/sqlite_writes.py")
    parser.add_argument("--from", dest="source", required=True, help="a store a sync filled")
    parser.add_argument("--missions", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    columns, rows, schema = load(args.source, args.missions)
    print(f"{len(rows):,} missions of {args.source}, {len(columns)} columns")
    variants = [
        ("one transaction, one row a statement", dict(transaction=len(rows), many=True)),
        ("one transaction, 200 rows a statement", dict(transaction=len(rows), many=False)),
        ("transactions of 500, SQLite's defaults", dict(transaction=500, many=False)),
        ("transactions of 2,000, SQLite's defaults", dict(transaction=2000, many=False)),
    ]
    with tempfile.TemporaryDirectory(prefix="sqlite-writes-") as folder:
        for round_ in range(1, args.rounds + 1):
            for label, options in variants:
                seconds = write(folder, columns, rows, schema, hub_settings=False, **options)
                print(f"round {round_}  {label:46s} {seconds:6.2f} s")
            seconds = write(
                folder, columns, rows, schema, transaction=500, many=False, hub_settings=True
            )
            print(f"round {round_}  {'transactions of 500, the hub settings':46s} {seconds:6.2f} s")
            bare = write(
                folder,
                columns,
                rows,
                schema,
                transaction=500,
                many=False,
                hub_settings=True,
                full_text=False,
            )
            print(
                f"round {round_}  {'the same without the full-text trigger':46s} {bare:6.2f} s"
                f"  (the index: {1e6 * (seconds - bare) / len(rows):.0f} µs a mission)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
