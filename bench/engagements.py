#!/usr/bin/env python
"""Engagement loop benchmark: the write service and the report, in one process, no HTTP.

    python bench/engagements.py [--engagements 2000] [--database-url URL]

On a fresh store (SQLite bench/out/engagements.db by default, deleted first; a PostgreSQL URL
is migrated as it is), with 50 missions of one partner and one company: N interests one by one
(`EngagementWriter.express_interest`, one transaction each), N partner updates to COMPLETED in
calls of 100 items (`update`), 200 first clicks of tracked links (`click`), then the company's
report over the year grouped by cause, site and month (`schema.report.engagement_report`).
Prints one line of figures; the notes in bench/RESULTS.md are by hand.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hub.auth import ClientKind, ClientStore
from hub.catalogue.filters import MissionFilter, MissionOrder, Policy
from hub.catalogue.model import MissionDraft, Remote
from hub.clock import ManualClock
from hub.engagement import ContactCipher, Dimension, EngagementStatus
from hub.ingest.engagements import EngagementWriter, UpdateItem
from hub.ingest.service import MissionWriter
from hub.settings import load_settings
from hub.storage.db import make_engine
from hub.storage.engagement_reads import EngagementReads
from hub.storage.migrate import upgrade
from hub.storage.repository import MissionRepository
from schema.report import engagement_report

NOW = datetime(2026, 11, 15, 12, tzinfo=UTC)


@dataclass(frozen=True)
class _Company:
    client_pk: int
    client_id: str
    partner: str | None = None
    policy: Policy = field(default_factory=Policy)


def _missions(count: int) -> list[MissionDraft]:
    return [
        MissionDraft(
            external_id=f"M{i}",
            title=f"Mission {i}",
            application_url=f"https://partner.example/apply/{i}",
            remote=Remote.FULL,
            causes=["education" if i % 2 else "sante"],
        )
        for i in range(count)
    ]


async def run(url: str, count: int) -> str:
    settings = load_settings(database_url=url)
    engine = make_engine(settings)
    await upgrade(engine)
    clock = ManualClock(NOW)
    await MissionWriter(engine, clock).apply("alpha", _missions(50))
    created = await ClientStore(engine, ttl=0, clock=clock).create(ClientKind.COMPANY, "ACME")
    company = _Company(created.record.pk, created.client_id)
    repository = MissionRepository(engine, clock)
    page, _ = await repository.search(MissionFilter(), MissionOrder.RECENT, 50, None)
    writer = EngagementWriter(
        engine,
        clock,
        ContactCipher([]),
        link_base="http://hub.test",
        link_ttl=timedelta(days=30),
        retention=timedelta(days=365),
    )
    start = time.perf_counter()
    interests = [
        await writer.express_interest(
            company, page.items[i % 50].id, f"emp-{i}", site=("Lyon", "Paris")[i % 2]
        )
        for i in range(count)
    ]
    interest_rate = count / (time.perf_counter() - start)
    start = time.perf_counter()
    partner_pk = interests[0].engagement.partner_pk
    for first in range(0, count, 100):
        items = [
            UpdateItem(i.engagement.id, EngagementStatus.COMPLETED, 3.5)
            for i in interests[first : first + 100]
        ]
        await writer.update(partner_pk, items)
    update_rate = count / (time.perf_counter() - start)
    clicks = interests[:200]
    start = time.perf_counter()
    for interest in clicks:
        await writer.click(interest.link.rsplit("/", 1)[1])
    click_ms = (time.perf_counter() - start) / len(clicks) * 1000
    start = time.perf_counter()
    report = await engagement_report(
        EngagementReads(engine, clock),
        settings,
        company.client_pk,
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
        [Dimension.CAUSE, Dimension.SITE, Dimension.MONTH],
    )
    report_ms = (time.perf_counter() - start) * 1000
    await engine.dispose()
    return (
        f"{url.split(':', 1)[0]}, {count} engagements: expressInterest {interest_rate:.0f}/s; "
        f"updateEngagements {update_rate:.0f} items/s (100 a call); first click "
        f"{click_ms:.1f} ms; report {report_ms:.0f} ms ({report.totals.engagements} "
        f"engagements, {report.totals.hours_given} h, {len(report.groups)} groups)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engagements", type=int, default=2000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    url = args.database_url
    if url is None:
        path = Path(__file__).parent / "out" / "engagements.db"
        path.parent.mkdir(exist_ok=True)
        path.unlink(missing_ok=True)
        url = f"sqlite+aiosqlite:///{path}"
    print(asyncio.run(run(url, args.engagements)))


if __name__ == "__main__":
    main()
