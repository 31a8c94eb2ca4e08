"""A sync's pull, parsing and `prepare` in a process of their own (hub.ingest.pulling): the same
rows, events and refusals as in one process, and a pull process that fails or dies fails the
sync like a partner's error would."""

from __future__ import annotations

import os
import pickle
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from connectors import AuthError, FeedError, GraphQLError, RetriableError
from hub.catalogue.model import Prepared, Refusal
from hub.catalogue.taxonomy import LabelMap
from hub.ingest.listed import ListedIds
from hub.ingest.pulling import PulledBatch, PullJob, PullProcess, PullProcessError
from hub.settings import Settings
from hub.storage.db import make_engine
from hub.storage.tables import (
    mission_causes,
    mission_dedup_keys,
    mission_events,
    mission_locations,
    mission_skills,
    missions,
    refused_records,
    sync_runs,
)
from hub.sync import SyncReport
from tests.conftest import _truncate, run
from tests.partners import PARTNERS, SimulatedPartner
from tests.test_sync import Hub

TABLES = (
    missions,
    mission_locations,
    mission_causes,
    mission_skills,
    mission_dedup_keys,
    mission_events,
    refused_records,
    sync_runs,
)


@pytest.fixture(scope="module")
def feed() -> Iterator[SimulatedPartner]:
    partner = PARTNERS["api-engagement-xml"]().start()
    yield partner
    partner.stop()


def _sync(settings: Settings, feed: SimulatedPartner, apart: bool) -> SyncReport:
    hub = Hub(settings)  # its clock: the same for both syncs
    hub.add("feed", feed, every="1h")
    return hub.sync("feed", sync_pull_process=apart, sync_batch_size=7)


def _rows(settings: Settings) -> dict[str, list[tuple[Any, ...]]]:
    async def go() -> dict[str, list[tuple[Any, ...]]]:
        engine = make_engine(settings)
        try:
            async with engine.connect() as conn:
                return {
                    table.name: sorted(
                        (tuple(row) for row in await conn.execute(select(table))), key=repr
                    )
                    for table in TABLES
                }
        finally:
            await engine.dispose()

    return run(go())  # type: ignore[no-any-return]


def test_a_pull_in_its_own_process_writes_what_one_process_writes(
    settings: Settings, feed: SimulatedPartner
) -> None:
    # Malformed records among the good ones: each refused with its reason, the rest written.
    feed.reset()
    feed.faults.malformed = True
    apart = _sync(settings, feed, apart=True)
    assert apart.status == "SUCCEEDED", apart.error
    assert apart.counts["refused"] == feed.malformed_count > 0
    assert apart.counts["created"] == feed.count
    written_apart = _rows(settings)
    run(_truncate(settings))
    inline = _sync(settings, feed, apart=False)
    assert (inline.status, inline.counts) == (apart.status, apart.counts)
    assert list(inline.event_seqs) == list(apart.event_seqs)
    written_inline = _rows(settings)
    for table in TABLES:  # the same rows, to the last column (the clock is the same)
        assert written_inline[table.name] == written_apart[table.name], table.name


def _job(feed: SimulatedPartner, batch_size: int, listed: Path) -> PullJob:
    return PullJob(
        connector=feed.connector_name,
        config=feed.config(),
        state={},
        batch_size=batch_size,
        labels=LabelMap(),
        listed=str(listed),
    )


def test_the_pull_process_streams_prepared_batches_then_the_result(
    feed: SimulatedPartner, tmp_path: Path
) -> None:
    feed.reset()
    feed.faults.malformed = True

    async def go() -> tuple[list[PulledBatch], Any]:
        batches: list[PulledBatch] = []
        async with PullProcess(_job(feed, 10, tmp_path / "ids")) as pull:
            while isinstance(got := await pull.next(), PulledBatch):
                batches.append(got)
        return batches, got

    batches, result = run(go())
    assert result is not None and result.drafts == feed.count
    assert all(len(batch.items) == batch.records == 10 for batch in batches[:-1])
    items = [item for batch in batches for item in batch.items]
    assert len(items) == feed.count + feed.malformed_count == result.fetched
    assert all(isinstance(item, Prepared | Refusal) for item in items)
    # The ids it listed are in the job's file, closed before it said it was done.
    with ListedIds(tmp_path / "ids") as listed:
        assert sorted(listed.delivered) == sorted(m.id for m in feed.missions())
        refused = [item.external_id for item in items if isinstance(item, Refusal)]
        assert sorted(listed.refused) == sorted(ext for ext in refused if ext is not None)


def test_a_pull_process_that_dies_is_an_error_of_its_own(
    feed: SimulatedPartner, tmp_path: Path
) -> None:
    feed.reset()
    feed.resize(400)

    async def go() -> int:
        received = 0
        async with PullProcess(_job(feed, 1, tmp_path / "ids")) as pull:
            assert isinstance(await pull.next(), PulledBatch)
            assert pull.pid is not None
            os.kill(pull.pid, signal.SIGKILL)  # a child of this test's own
            with pytest.raises(PullProcessError, match="exit code -9"):
                while isinstance(await pull.next(), PulledBatch):  # those already sent
                    received += 1
        return received

    assert run(go()) < 399


def test_a_feed_error_in_the_pull_process_comes_back_as_itself(
    feed: SimulatedPartner, tmp_path: Path
) -> None:
    feed.reset()
    feed.faults.truncate = True

    async def go() -> None:
        async with PullProcess(_job(feed, 500, tmp_path / "ids")) as pull:
            with pytest.raises(FeedError, match="ends early"):
                while isinstance(await pull.next(), PulledBatch):
                    pass

    run(go())


@pytest.mark.parametrize(
    "error",
    [
        GraphQLError("Cannot query field", [{"message": "Cannot query field"}]),
        AuthError("refused", status=401),
        RetriableError("503", retry_after=30.0),
    ],
)
def test_connector_errors_cross_processes_whole(error: Exception) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), copy.args, copy.__dict__) == (type(error), error.args, error.__dict__)
