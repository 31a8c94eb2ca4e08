#!/usr/bin/env python
"""What PostgreSQL's own work costs when missions are written: a bare COPY of the rows, then
with the generated columns, then with every index, and the generated columns' expressions alone.

    .venv/bin/python bench/pg_copy_costs.py [--database-url URL] [--rounds 2]

The store must hold missions (bench/ingest.py leaves its baseline's 100,000 in `benchingest`).
Their stored columns are exported once (binary COPY), then copied, in one transaction each,
into three scratch tables made like `missions`: bare (defaults only), with its generated columns
(`search_tsv`, `shown_causes`, `shown_skills`, `published_organization`), and with its indexes
too; each round truncates and copies again; the wall time of each COPY is reported, and its
ratio to the bare one of the same round. Then, the rows read once first, each generated
expression is evaluated over the same rows (`SELECT count(expr)`, `--rounds` times), beside
`array_to_tsvector` of the hub's folded words (a lead for `search_tsv`), and the rows whose
stripped `to_tsvector` differs from it are counted.
The scratch tables are dropped at the end. Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import sys
import time

import asyncpg

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/benchingest"
TABLES = {
    "bare": "INCLUDING DEFAULTS",
    "generated columns": "INCLUDING DEFAULTS INCLUDING GENERATED",
    "generated columns and indexes": "INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING INDEXES",
}
EXPRESSIONS = {
    "to_tsvector('simple', search_text)": "to_tsvector('simple', search_text)",
    "array_to_tsvector of the words": "array_to_tsvector(string_to_array(search_text, ' '))",
    "hub_json_texts, causes and skills": (
        "cardinality(hub_json_texts(match_state -> 'causes'))"
        " + cardinality(hub_json_texts(match_state -> 'skills'))"
    ),
    "raw ->> 'organization_name'": "raw ->> 'organization_name'",
}


async def main(url: str, rounds: int) -> int:
    if "@127.0.0.1" not in url and "@localhost" not in url:
        raise SystemExit("bench: only a loopback database is measured")
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        columns = [
            r["column_name"]
            for r in await conn.fetch(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'missions'"
                " AND is_generated = 'NEVER' ORDER BY ordinal_position"
            )
        ]
        count = await conn.fetchval("SELECT count(*) FROM missions")
        if not count:
            raise SystemExit("bench: the store holds no missions (run bench/ingest.py first)")
        exported = io.BytesIO()
        await conn.copy_from_table("missions", columns=columns, output=exported, format="binary")
        data = exported.getvalue()
        print(f"{count:,} missions, {len(data) / count:,.0f} bytes a row (binary COPY)")
        names = {label: f"bench_copy_{i}" for i, label in enumerate(TABLES)}
        for label, including in TABLES.items():
            await conn.execute(f"DROP TABLE IF EXISTS {names[label]}")
            await conn.execute(f"CREATE TABLE {names[label]} (LIKE missions {including})")
        try:
            for round_ in range(1, rounds + 1):
                seconds: dict[str, float] = {}
                for label, table in names.items():
                    await conn.execute(f"TRUNCATE {table}")
                    started = time.perf_counter()
                    async with conn.transaction():
                        await conn.copy_to_table(
                            table, source=io.BytesIO(data), columns=columns, format="binary"
                        )
                    seconds[label] = time.perf_counter() - started
                bare = seconds["bare"]
                print(f"round {round_}: COPY of the rows")
                for label, s in seconds.items():
                    print(
                        f"  {label:32s} {s:6.2f} s  {1e6 * s / count:6.1f} µs a row"
                        f"  {s / bare:5.2f}× bare"
                    )
        finally:
            for table in names.values():
                await conn.execute(f"DROP TABLE IF EXISTS {table}")
        # One backend, as a COPY evaluates them (a parallel scan would split the time), and the
        # rows read once before any expression is timed: the first to run would otherwise
        # pay for reading them (a cold cache made to_tsvector look 3x dearer than it is).
        await conn.fetchval(
            "SELECT count(search_text || match_state::text || raw::text) FROM missions"
        )
        for round_ in range(1, rounds + 1):
            print(f"round {round_}: the generated columns' expressions (SELECT count(expr)):")
            for label, expression in EXPRESSIONS.items():
                started = time.perf_counter()
                await conn.fetchval(f"SELECT count({expression}) FROM missions")
                s = time.perf_counter() - started
                print(f"  {label:36s} {s:6.2f} s  {1e6 * s / count:6.1f} µs a row")
        differ = await conn.fetchval(
            "SELECT count(*) FROM missions WHERE strip(to_tsvector('simple', search_text))"
            " <> array_to_tsvector(string_to_array(search_text, ' '))"
        )
        print(f"rows whose stripped to_tsvector differs from array_to_tsvector: {differ:,}")
    finally:
        await conn.close()
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(sys.argv[1:])
    raise SystemExit(asyncio.run(main(args.database_url, args.rounds)))
