"""The cheaper paths of a sync's writes and `prepare` give what the general ones give: the same
bound values, match states, copies and text, and the duplicate linking skipped only when no
other partner has a listing."""

from __future__ import annotations

import copy
import dataclasses
import gc
import pickle
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import event, insert, select, text
from sqlalchemy.dialects import sqlite

from connectors._parse import Fields, scalar_text, texts
from hub.catalogue.match_state import MatchState
from hub.catalogue.model import (
    CommitmentKind,
    EngagementType,
    GeoSource,
    Location,
    MissionDraft,
    MissionStatus,
    OrganizationDraft,
    Refusal,
    Remote,
)
from hub.ingest import pipeline
from hub.ingest.service import apply
from hub.settings import Settings
from hub.storage import bulk
from hub.storage.db import make_engine
from hub.storage.tables import UTCDateTime, mission_events, missions
from hub.storage.writer import (
    expired_state,
    fewer_collections,
    match_state,
    match_state_json,
)
from tests.catalogue import filler
from tests.conftest import TEST_NOW, Store, run

PARIS_WINTER = timezone(timedelta(hours=1))


def _draft(**changes: Any) -> MissionDraft:
    base = MissionDraft(
        external_id="x1",
        title="Soutien scolaire",
        application_url="https://a.example/1",
        description="Aider des élèves",
        tags=["t"],
        engagement_type=EngagementType.SKILLS_VOLUNTEERING,
        remote=Remote.POSSIBLE,
        locations=[
            Location(city="Lyon", postal_code="69003", latitude=45.76, longitude=4.85),
            Location(city="Paris", geo_source=GeoSource.CITY),
        ],
        causes=["education"],
        start_at=datetime(2026, 1, 2, 8, 30, tzinfo=PARIS_WINTER),
        end_at=datetime(2026, 6, 1, tzinfo=UTC),
        posted_at=None,
        hours_per_week_min=2.0,
        commitment_kind=CommitmentKind.RECURRING,
        places_total=3,
        organization=OrganizationDraft(name="Asso", rna="W751000001"),
        open_to_minors=True,
    )
    return dataclasses.replace(base, **changes)


# --- bound values -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "moment",
    [
        None,
        datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),  # no microseconds: still written
        datetime(2026, 7, 1, 0, 30, tzinfo=PARIS_WINTER),  # another day in UTC
        datetime(999, 12, 31, 23, 59, 59, 1, tzinfo=UTC),  # a year of three digits
    ],
)
def test_sqlite_times_bind_as_sqlalchemy_binds_them(moment: datetime | None) -> None:
    dialect = sqlite.dialect()
    assert bulk._sqlite_utc(moment) == UTCDateTime()._cached_bind_processor(dialect)(moment)  # type: ignore[misc]


def test_a_naive_time_is_refused_as_before() -> None:
    with pytest.raises(ValueError, match="naive"):
        bulk._sqlite_utc(datetime(2026, 1, 1))


def test_insert_rows_stores_the_same_text_as_an_insert(settings: Settings) -> None:
    # The stored values as the database keeps them (SQLite: text), not as read back.
    async def go() -> list[tuple[Any, ...]]:
        engine = make_engine(settings)
        try:
            await apply(engine, "feed", filler(1), TEST_NOW)
            async with engine.begin() as conn:
                pk = (await conn.execute(select(missions.c.pk))).scalar_one()
                rows = [
                    {
                        "mission_pk": pk,
                        "type": "UPDATED",
                        "occurred_at": datetime(2026, 7, 1, 0, 30, 0, 5, tzinfo=PARIS_WINTER),
                        "previous": previous,
                        "state": {"status": "OPEN", "causes": ["santé"], "n": 1.5, "at": None},
                    }
                    for previous in (None, {"status": "CLOSED"})
                ]
                await conn.execute(insert(mission_events), rows)
                await bulk.insert_rows(conn, mission_events, rows)
                found = await conn.execute(
                    text(
                        "SELECT mission_pk, engagement_pk, type, CAST(occurred_at AS TEXT),"
                        " CAST(previous AS TEXT), CAST(state AS TEXT) FROM mission_events"
                        " WHERE type = 'UPDATED' ORDER BY seq"
                    )
                )
                return [tuple(row) for row in found]
        finally:
            await engine.dispose()

    stored = run(go())
    assert len(stored) == 4 and stored[2:] == stored[:2]


def test_sqlite_inserts_go_in_statements_of_many_rows(settings: Settings) -> None:
    """SQLite: the rows of a table go in INSERTs of up to 200 rows each, not one a statement
    (FTS5 writes its pending terms out at every statement that runs its trigger), and every
    mission still reaches the full-text index and keeps its place in the batch's order."""
    if not settings.is_sqlite:
        pytest.skip(
            "SQLite only: PostgreSQL writes these rows with COPY (the SQLite pass runs this test)"
        )
    statements: list[tuple[str, bool]] = []

    async def go() -> tuple[int, list[str]]:
        engine = make_engine(settings)

        def seen(_c: Any, _cur: Any, sql: str, _p: Any, _ctx: Any, many: bool) -> None:
            statements.append((sql, many))

        event.listen(engine.sync_engine, "before_cursor_execute", seen)
        try:
            await apply(engine, "feed", filler(450), TEST_NOW)
            async with engine.connect() as conn:
                indexed = await conn.execute(
                    text("SELECT count(*) FROM missions_fts WHERE missions_fts MATCH 'remplissag'")
                )
                order = await conn.execute(select(missions.c.external_id).order_by(missions.c.pk))
                return int(indexed.scalar_one()), list(order.scalars())
        finally:
            await engine.dispose()

    indexed, order = run(go())
    inserts = [(sql, many) for sql, many in statements if sql.startswith("INSERT INTO missions ")]
    rows = [sql.count("(?") for sql, _ in inserts]
    assert rows == [200, 200, 50] and not any(many for _, many in inserts)
    assert all(
        re.fullmatch(r"INSERT INTO missions \(.*\) VALUES (\((\?, )*\?\)(, )?)+", sql)
        for sql, _ in inserts
    )
    assert indexed == 450  # the trigger ran for every row of every statement
    assert order == [f"F{i:03d}" for i in range(450)]


# --- match states -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "draft",
    [
        _draft(),
        _draft(locations=[], organization=None, start_at=None, commitment_kind=None),
        _draft(posted_at=datetime(2025, 12, 1, tzinfo=UTC), remote=Remote.FULL),
    ],
)
def test_a_match_state_made_at_once_is_the_derived_one(draft: MissionDraft) -> None:
    prepared = pipeline.prepare(draft)
    assert isinstance(prepared, pipeline.Prepared)
    partner = type("P", (), {"name": "feed"})()
    for status in (MissionStatus.OPEN, MissionStatus.EXPIRED):
        made = match_state_json(prepared, partner, 7, status, TEST_NOW)  # type: ignore[arg-type]
        derived = match_state(prepared, partner, 7, status, TEST_NOW).to_json()  # type: ignore[arg-type]
        assert made == derived and list(made) == list(derived)  # keys in the same order


def test_a_mapping_still_derives_as_before() -> None:
    row = {"remote": "FULL", "start_at": TEST_NOW, "places_total": 2}
    given: dict[str, Any] = {
        "partner": "p",
        "organization_pk": None,
        "causes": ["b", "a"],
        "skills": (),
        "locations": [{"latitude": 1.0, "postal_code": "69001"}],
        "search_text": "x",
    }
    made = MatchState.derive_json(row, **given, status="OPEN")
    assert made == MatchState.derive(row, **given, status="OPEN").to_json()


def test_an_expired_state_is_the_round_trip_one() -> None:
    prepared = pipeline.prepare(_draft())
    assert isinstance(prepared, pipeline.Prepared)
    partner = type("P", (), {"name": "feed"})()
    state = match_state_json(prepared, partner, None, MissionStatus.OPEN, TEST_NOW)  # type: ignore[arg-type]
    later = TEST_NOW + timedelta(minutes=1)
    expected = (
        MatchState.from_json(state)
        .replace(status=MissionStatus.EXPIRED.value, updated_at=later)
        .to_json()
    )
    made = expired_state(state, later)
    assert made == expected and list(made) == list(expected)


# --- prepare ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "changes"),
    [
        (_draft(), {"title": "Autre", "locations": []}),
        (_draft(), {}),
        (Location(city="Lyon"), {"postal_code": "69001", "geo_source": GeoSource.PARTNER}),
        (OrganizationDraft(name=" A "), {"name": "A"}),
        (Refusal("x", "why"), {"reason": "because"}),  # frozen: dataclasses.replace's own
    ],
)
def test_copies_are_dataclasses_replace(value: Any, changes: dict[str, Any]) -> None:
    copied = pipeline.replace(value, **changes)
    assert copied == dataclasses.replace(value, **changes) and copied is not value
    assert type(copied) is type(value)


def test_a_copy_with_an_unknown_field_fails_as_before() -> None:
    with pytest.raises(TypeError):
        pipeline.replace(Location(), town="Lyon")


def _html_to_text_before(value: str) -> str:
    text = pipeline._BLOCK_END.sub("\n", value)
    text = pipeline.html.unescape(pipeline._TAG.sub("", text))
    lines = (pipeline._SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


@pytest.mark.parametrize(
    "value",
    [
        "<p>Un  \t deux</p><p>\r\n trois\x0b quatre </p>",
        "<ul><li>a</li><li> </li><li>b\tc</li></ul>un<br>deux<br/>  <br />",
        "&nbsp;x &amp;  y\n\n\tz",
        "",
    ],
)
def test_html_text_is_as_before(value: str) -> None:
    assert pipeline.html_to_text(value) == _html_to_text_before(value)


def test_connector_text_reading_is_unchanged() -> None:
    assert [scalar_text(v) for v in ("  a ", "", True, 3, 2.5, float("nan"), None, [1])] == [
        "a",
        None,
        "true",
        "3",
        "2.5",
        None,
        None,
        None,
    ]
    assert texts({"value": [" a", "b", {"x": "a"}, None, 4]}) == ["a", "b", "4"]
    assert Fields({"a": " x "}).text("a") == "x"


# --- duplicate linking ----------------------------------------------------------------------


def test_a_first_partner_alone_reads_no_candidates_and_the_next_finds_it(
    store: Store, settings: Settings
) -> None:
    statements: list[str] = []

    async def write(partner: str, drafts: list[MissionDraft]) -> None:
        engine = make_engine(settings)

        def seen(_c: Any, _cur: Any, sql: str, *_: Any) -> None:
            statements.append(sql)

        event.listen(engine.sync_engine, "before_cursor_execute", seen)
        try:
            await apply(engine, partner, drafts, TEST_NOW)
        finally:
            await engine.dispose()

    drafts = [
        _draft(external_id=f"a{i}", title=f"Soutien scolaire {i}", end_at=None) for i in range(3)
    ]
    run(write("pa", drafts))
    reads = [s for s in statements if "FROM mission_dedup_keys" in s and s.startswith("SELECT")]
    assert not reads  # nobody else listed: nothing to look up
    statements.clear()
    copies = [dataclasses.replace(d, external_id="b" + d.external_id) for d in drafts]
    run(write("pb", copies))
    assert any("FROM mission_dedup_keys" in s for s in statements)

    async def canonical() -> dict[str, int | None]:
        engine = make_engine(settings)
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(select(missions.c.external_id, missions.c.canonical_pk))
                return {ext: canonical for ext, canonical in rows}
        finally:
            await engine.dispose()

    linked = run(canonical())
    assert all(linked[f"ba{i}"] is not None for i in range(3))
    assert all(linked[f"a{i}"] is None for i in range(3))


# --- the collector while writing --------------------------------------------------------------


def test_collections_are_fewer_while_writing_then_as_before() -> None:
    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        with fewer_collections():
            assert gc.get_threshold() == (10_000, 10, 10)
            with fewer_collections():  # a second batch at once: the first to end keeps it
                pass
            assert gc.get_threshold() == (10_000, 10, 10)
        assert gc.get_threshold() == (700, 10, 10)
        gc.set_threshold(0)  # turned off by the application: left off
        with fewer_collections():
            assert gc.get_threshold()[0] == 0
        assert gc.get_threshold()[0] == 0
    finally:
        gc.set_threshold(*before)


# --- the pull process's pickles --------------------------------------------------------------


def test_prepared_missions_pickle_as_positions_and_come_back_equal() -> None:
    """The model's dataclasses pickle as their class and a tuple of values (the pull process
    sends every mission so): what loads is equal, of the same types all the way down, and
    copies still work."""
    prepared = pipeline.prepare(_draft(skills=["design graphique"], schedule_label="2 h"))
    assert isinstance(prepared, pipeline.Prepared)
    assert type(prepared).__reduce__(prepared)[1][0] is prepared.draft  # by position
    loaded = pickle.loads(pickle.dumps([prepared, prepared], protocol=pickle.HIGHEST_PROTOCOL))
    assert loaded == [prepared, prepared] and loaded[0] is loaded[1]  # shared once, as before
    draft = loaded[0].draft
    assert type(draft.remote) is Remote and type(draft.locations[1].geo_source) is GeoSource
    assert draft.start_at == prepared.draft.start_at and draft.start_at.utcoffset() == timedelta(
        hours=1
    )
    assert type(draft.organization) is OrganizationDraft
    shallow, deep = copy.copy(prepared), copy.deepcopy(prepared)
    assert shallow == deep == prepared and shallow.draft is prepared.draft
    assert deep.draft is not prepared.draft and deep.raw is not prepared.raw

    @dataclasses.dataclass(slots=True)
    class Wider(Location):
        floor: int = 0

    with pytest.raises(TypeError, match="Wider"):  # its floor would be lost: refused, loudly
        pickle.dumps(Wider(city="Lyon", floor=3))
