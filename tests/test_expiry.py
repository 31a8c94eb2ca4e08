"""Missions past their end date become EXPIRED: on the scheduler's tick and when a sync writes or
sees them again; they leave searches, and subscribers see them leave their filter."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select

from hub.catalogue.filters import MissionFilter
from hub.catalogue.match_state import MatchState
from hub.catalogue.model import MissionDraft
from hub.clock import ManualClock
from hub.ingest.service import MissionWriter
from hub.live.matching import Matcher
from hub.settings import Settings
from hub.storage.db import make_engine
from hub.storage.event_reads import EventRow
from hub.storage.repository import MissionRepository
from hub.storage.tables import mission_events, missions
from hub.sync import SyncRunner
from hub.sync.scheduler import Scheduler
from schema.subscription import judge
from tests.conftest import TEST_NOW, GraphQL, Store, run


def _draft(ext: str, end_days: float | None) -> MissionDraft:
    return MissionDraft(
        external_id=ext,
        title=f"Mission {ext}",
        application_url=f"https://p.example/{ext}",
        end_at=TEST_NOW + timedelta(days=end_days) if end_days is not None else None,
    )


def _open_ids(data: GraphQL) -> set[str]:
    found = data("{ missions(first: 50) { edges { node { title } } } }")["missions"]["edges"]
    return {edge["node"]["title"].removeprefix("Mission ") for edge in found}


def _events(settings: Settings) -> list[EventRow]:
    async def go() -> list[EventRow]:
        engine = make_engine(settings)
        try:
            return await MissionRepository(engine).events_after(0, 100)
        finally:
            await engine.dispose()

    return run(go())  # type: ignore[no-any-return]


def _seen_by_a_subscriber(rows: list[EventRow]) -> list[tuple[str, str]]:
    """What a subscriber to open missions (the default filter) is told, event by event."""
    matcher = Matcher(MissionFilter())
    told = []
    for row in rows:
        kind = judge(matcher, row)
        if kind is not None:
            told.append((row.mission.external_id, kind.name))
    return told


def _tick(settings: Settings, clock: ManualClock) -> None:
    async def go() -> None:
        engine = make_engine(settings)
        try:
            async with httpx.AsyncClient() as http:
                runner = SyncRunner(engine, http, settings, clock=clock)
                await Scheduler(engine, runner, settings).tick()
        finally:
            await engine.dispose()

    run(go())


def test_the_scheduler_expires_missions_past_their_end(settings: Settings, data: GraphQL) -> None:
    clock = ManualClock(TEST_NOW)  # the writer's and scheduler's (the API's tokens keep theirs)
    store = Store(settings, clock)
    store.ingest("alpha", [_draft("soon", 2), _draft("later", 30), _draft("open-ended", None)])
    _tick(settings, clock)
    assert _open_ids(data) == {"soon", "later", "open-ended"}  # nothing has ended yet
    clock.advance(days=3)
    _tick(settings, clock)
    assert _open_ids(data) == {"later", "open-ended"}  # searches show open missions
    expired = data("{ missions(filter: {status: [EXPIRED]}) { edges { node { title status } } } }")
    assert [edge["node"] for edge in expired["missions"]["edges"]] == [
        {"title": "Mission soon", "status": "EXPIRED"}
    ]
    rows = _events(settings)
    last = rows[-1]
    assert (last.mission.external_id, last.type) == ("soon", "CLOSED")
    assert MatchState.from_json(last.state or {}).status == "EXPIRED"
    assert _seen_by_a_subscriber(rows)[-1] == ("soon", "CLOSED")  # it left the filter
    _tick(settings, clock)
    assert len(_events(settings)) == len(rows)  # once


def test_a_write_expires_what_has_ended_without_flashing_it_open(
    settings: Settings, data: GraphQL
) -> None:
    clock = ManualClock(TEST_NOW)
    store = Store(settings, clock)
    report = store.ingest("alpha", [_draft("open", 5), _draft("ended", -1)])
    assert report.counts() == {"refused": 0, "created": 2, "closed": 0, "expired": 1}
    assert _open_ids(data) == {"open"}
    rows = _events(settings)
    # The ended one's creation carries its EXPIRED state: subscribers to open missions hear of
    # the open one only.
    assert _seen_by_a_subscriber(rows) == [("open", "PUBLISHED")]
    # Seen again, unchanged: it stays EXPIRED, nothing is written, nobody is told.
    again = store.ingest("alpha", [_draft("open", 5), _draft("ended", -1)])
    assert again.counts() == {"refused": 0, "unchanged": 2, "closed": 0}
    assert len(_events(settings)) == len(rows)
    # An open mission whose partner now sends an end date in the past expires as it is written.
    clock.advance(hours=1)
    moved = store.ingest("alpha", [_draft("open", -0.5)])
    assert moved.counts()["expired"] == 1
    assert _open_ids(data) == set()
    assert _seen_by_a_subscriber(_events(settings))[-1] == ("open", "CLOSED")
    statuses = _statuses(settings)
    assert statuses == {"open": "EXPIRED", "ended": "EXPIRED"}


def _statuses(settings: Settings) -> dict[str, Any]:
    async def go() -> dict[str, Any]:
        engine = make_engine(settings)
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(select(missions.c.external_id, missions.c.status))
                return dict(rows.all())
        finally:
            await engine.dispose()

    return run(go())  # type: ignore[no-any-return]


def test_an_expired_mission_extended_by_its_partner_opens_again(
    store: Store, settings: Settings, data: GraphQL
) -> None:
    store.ingest("alpha", [_draft("m", -1)])
    assert _open_ids(data) == set()
    store.ingest("alpha", [_draft("m", 10)])  # the partner moved the end date
    assert _open_ids(data) == {"m"}
    assert _seen_by_a_subscriber(_events(settings)) == [("m", "PUBLISHED")]


def test_mission_writer_expire_publishes_its_events(settings: Settings, clock: ManualClock) -> None:
    published: list[list[int]] = []

    async def go() -> int:
        engine = make_engine(settings)

        async def publish(seqs: list[int]) -> None:
            published.append(seqs)

        try:
            writer = MissionWriter(engine, clock, publish)
            await writer.apply("alpha", [_draft("a", 1), _draft("b", 1), _draft("c", 9)])
            clock.advance(days=2)
            expired = await writer.expire()
            async with engine.connect() as conn:
                closed = (
                    await conn.execute(
                        select(mission_events.c.seq).where(mission_events.c.type == "CLOSED")
                    )
                ).scalars()
                assert list(closed) == expired.event_seqs
            return len(expired.results)
        finally:
            await engine.dispose()

    assert run(go()) == 2
    assert len(published) == 2 and len(published[-1]) == 2  # the creation, then the expiry
