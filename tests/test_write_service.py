"""The one write service: each call one transaction, its events published once, after commit;
stored match states derived again, with no hand backfill, when their shape changes."""

from __future__ import annotations

from sqlalchemy import func, select, update

from hub.catalogue.match_state import MatchState
from hub.catalogue.model import Location, MissionDraft, Refusal
from hub.clock import ManualClock
from hub.ingest.service import MissionWriter, Source
from hub.settings import Settings
from hub.storage.db import make_engine
from hub.storage.migrate import upgrade
from hub.storage.tables import hub_state, mission_events, missions, refused_records
from tests.conftest import run
from tests.test_dedup import CASES
from tests.test_dedup import _draft as dedup_draft


def _draft(ext: str, title: str = "Aide aux devoirs") -> MissionDraft:
    return MissionDraft(
        external_id=ext,
        title=title,
        application_url=f"https://p.example/{ext}",
        causes=["education"],
        locations=[Location(postal_code="69001", city="Lyon")],
        places_total=3,
        places_remaining=2,
    )


def test_events_are_published_once_after_commit(settings: Settings, clock: ManualClock) -> None:
    async def go() -> None:
        engine = make_engine(settings)
        calls: list[tuple[list[int], int]] = []

        async def publish(seqs: list[int]) -> None:
            # Another connection already sees them: the transaction has committed.
            async with engine.connect() as conn:
                visible = (
                    await conn.execute(select(func.count()).where(mission_events.c.seq.in_(seqs)))
                ).scalar_one()
            calls.append((seqs, visible))

        writer = MissionWriter(engine, clock, publish)
        try:
            await writer.apply("alpha", [_draft("a1"), _draft("a2")])
            report = await writer.apply(
                "alpha",
                [_draft("a1", "Aide aux devoirs au collège"), Refusal("a9", "no title")],
                source=Source.PUSH,
                close=["a2"],
            )
            assert report.counts() == {"refused": 1, "updated": 1, "closed": 1}
            await writer.apply("alpha", [_draft("a1", "Aide aux devoirs au collège")])
            clock.advance(minutes=5)
            await writer.close("alpha", ["a1", "nope"])
            async with engine.connect() as conn:
                refused = (await conn.execute(select(refused_records.c.source))).scalars().all()
        finally:
            await engine.dispose()
        # Two created; one updated and one closed in one call; nothing for an unchanged batch.
        assert [len(seqs) for seqs, _ in calls] == [2, 2, 1]
        assert all(visible == len(seqs) for seqs, visible in calls)
        flat = [seq for seqs, _ in calls for seq in seqs]
        assert flat == sorted(flat) and len(set(flat)) == len(flat)
        assert refused == ["PUSH"]

    run(go())


def test_close_absent_closes_a_snapshot_at_once_and_a_full_pass_after_two_misses(
    settings: Settings, clock: ManualClock
) -> None:
    async def go() -> None:
        engine = make_engine(settings)
        published: list[int] = []

        async def publish(seqs: list[int]) -> None:
            published.extend(seqs)

        writer = MissionWriter(engine, clock, publish)
        try:
            await writer.apply("alpha", [_draft("a1"), _draft("a2"), _draft("a3")])
            first = await writer.close_absent("alpha", {"a1", "a2"}, snapshot=False)
            second = await writer.close_absent("alpha", {"a1"}, snapshot=False)
            third = await writer.close_absent("alpha", {"a1"}, snapshot=True)
        finally:
            await engine.dispose()
        assert first.results == []  # a3 missed once: kept
        assert [r.external_id for r in second.results] == ["a3"]  # missed twice: closed
        assert [r.external_id for r in third.results] == ["a2"]  # a snapshot closes at once
        assert len(published) == 3 + 1 + 1

    run(go())


def test_stored_match_states_are_derived_again_when_their_shape_changes(
    settings: Settings, clock: ManualClock
) -> None:
    """A state written before a field existed lacks it; `migrate` derives every state again from
    the missions when MatchState's fingerprint changes: nobody backfills by hand."""

    async def go() -> None:
        engine = make_engine(settings)
        writer = MissionWriter(engine, clock)
        try:
            await writer.apply("alpha", [_draft("a1")])
            clock.advance(hours=1)
            await writer.close("alpha", ["a1"])
            async with engine.begin() as conn:
                written = (await conn.execute(select(missions.c.match_state))).scalar_one()
                old = {k: v for k, v in written.items() if k != "places_remaining"}
                await conn.execute(update(missions).values(match_state=old))
                await conn.execute(hub_state.delete().where(hub_state.c.key.like("match_state%")))
                await conn.execute(
                    hub_state.insert().values(key="match_state_fingerprint", value="before")
                )
            assert MatchState.from_json(old).places_remaining is None  # unknown to filters
            await upgrade(engine)
            async with engine.connect() as conn:
                derived = (await conn.execute(select(missions.c.match_state))).scalar_one()
        finally:
            await engine.dispose()
        assert derived == written
        state = MatchState.from_json(derived)
        assert state.places_remaining == 2 and state.status == "CLOSED"
        assert state.partner == "alpha" and state.causes == ("education",)

    run(go())


def test_the_app_builds_one_writer_that_publishes_to_the_live_stream(
    settings: Settings, clock: ManualClock
) -> None:
    from starlette.testclient import TestClient

    from hub.web.app import create_app

    with TestClient(create_app(settings, clock)) as client:
        services = client.app.state.services  # type: ignore[attr-defined]
        assert isinstance(services.writer, MissionWriter)
        assert services.writer.publish == services.live.published
        assert services.writer.clock is clock and services.writer.engine is services.engine


def test_close_all_closes_a_partner_chunk_by_chunk_each_published_after_its_commit(
    settings: Settings, clock: ManualClock
) -> None:
    """A partner failing for too long has every open mission closed, `chunk` at a time in
    transactions of their own (a large partner is never read at once); the results name each
    closed mission once, whatever other events the closing wrote (the listing of another
    partner shown in place of a closed one is UPDATED)."""

    async def go() -> tuple[list[list[int]], list[str], int, list[str]]:
        engine = make_engine(settings)
        calls: list[list[int]] = []

        async def publish(seqs: list[int]) -> None:
            calls.append(seqs)

        writer = MissionWriter(engine, clock, publish)
        try:
            case = CASES[0]  # a0 and b0: one mission published by two partners
            await writer.apply("alpha", [dedup_draft(case, "a", 0)])
            await writer.apply("alpha", [_draft(f"a{i}") for i in range(1, 7)])
            await writer.apply("beta", [dedup_draft(case, "b", 0)])  # merged, a0 shown
            calls.clear()
            clock.advance(hours=1)
            closed = await writer.close_all("alpha", chunk=3)
            again = await writer.close_all("alpha", chunk=3)
            async with engine.connect() as conn:
                still_open = (
                    await conn.execute(select(func.count()).where(missions.c.status == "OPEN"))
                ).scalar_one()
                kinds = (
                    await conn.execute(
                        select(mission_events.c.type)
                        .where(mission_events.c.seq.in_([s for c in calls for s in c]))
                        .order_by(mission_events.c.seq)
                    )
                ).scalars()
                events = [str(kind) for kind in kinds]
        finally:
            await engine.dispose()
        outcomes = [f"{r.external_id}:{r.outcome.value}" for r in closed.results]
        assert again.results == [] and again.event_seqs == []
        return calls, outcomes, still_open, events

    calls, outcomes, still_open, events = run(go())
    assert outcomes == [f"a{i}:CLOSED" for i in range(7)]  # each once, in the order stored
    assert [len(c) >= 1 for c in calls] == [True, True, True]  # 3 + 3 + 1, one publish each
    assert still_open == 1  # beta's listing
    assert events.count("CLOSED") == 7 and "UPDATED" in events  # beta's listing now shown
