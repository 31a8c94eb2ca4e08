"""Sync each pulled partner on its interval, skipping partners whose circuit is open; on each
tick, first mark FAILED the runs whose process is gone and expire the missions whose end date
has passed (through the one write service, which tells subscribers)."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from hub.background import Steps
from hub.settings import Settings
from hub.storage import last_runs
from hub.sync.partners import pulled_partners
from hub.sync.runner import SyncReport, SyncRunner

__all__ = ["Scheduler"]

logger = logging.getLogger("hub.sync")


class Scheduler:
    def __init__(self, engine: AsyncEngine, runner: SyncRunner, settings: Settings) -> None:
        self.engine = engine
        self.runner = runner
        self.settings = settings
        # A tick is a step: stopping lets a sync under way end, up to the grace period, rather
        # than cancel its writes (hub/background.py).
        self.steps = Steps("scheduler", grace_seconds=30.0)

    async def due(self, now: datetime) -> list[str]:
        """Partners whose interval has passed since their last run and whose circuit is closed."""
        rows = await last_runs(self.engine)
        intervals = {p.name: p.interval_seconds or 900 for p in await pulled_partners(self.engine)}
        out = []
        for name, circuit_open_until, last_started in rows:
            if name not in intervals:
                continue
            if circuit_open_until is not None and circuit_open_until > now:
                continue
            if last_started is None or last_started + timedelta(seconds=intervals[name]) <= now:
                out.append(name)
        return out

    async def tick(self, now: datetime | None = None) -> list[SyncReport]:
        now = now or self.runner.clock.now()
        await self.runner.reap(now)
        expired = await self.runner.writer.expire()
        if expired.results:
            logger.info("%d missions past their end date expired", len(expired.results))
        reports = []
        for name in await self.due(now):
            reports.append(await self.runner.sync(name))
        return reports

    async def run_forever(self) -> None:
        while not self.steps.stopping:
            try:
                with self.steps.step():
                    await self.tick()
            except Exception:  # the loop must outlive any one failure
                logger.exception("scheduler tick failed")
            await asyncio.sleep(self.settings.scheduler_tick_seconds)
