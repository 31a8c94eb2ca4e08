"""The ids a pull lists, kept in a file (hub.ingest.listed) rather than in memory: repeats refused
with their reason, the absence check closing exactly what a complete pull no longer lists, in
one process or with the pull in its own, and ids that differ by a byte never taken for one."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from hub.ingest.listed import ListedIds
from hub.settings import Settings
from hub.storage.db import make_engine
from hub.storage.tables import missions, refused_records
from tests.conftest import run
from tests.partners import PARTNERS, SimulatedPartner
from tests.partners.api_engagement_feed import FOOTER, HEADER, cdata, render_mission
from tests.partners.catalogue import mission
from tests.test_sync import Hub

# Ids that a lossy set (case folded, Unicode normalised, stripped, hashed short) would merge.
CAFE_NFC = unicodedata.normalize("NFC", "café-1")
CAFE_NFD = unicodedata.normalize("NFD", "café-1")
LOOKALIKES = ["m-1", "M-1", CAFE_NFC, CAFE_NFD, "m-1\u200b", "m-2", "m-3", "m-4"]


@pytest.fixture(scope="module")
def feed() -> Iterator[SimulatedPartner]:
    partner = PARTNERS["api-engagement-xml"]().start()
    yield partner
    partner.stop()


def _record(external_id: str, index: int, *, malformed: bool = False) -> str:
    m = mission(index)
    text = render_mission(m, start="31/31/2026") if malformed else render_mission(m)
    return text.replace(
        f"<clientId>{cdata(m.id)}</clientId>", f"<clientId>{cdata(external_id)}</clientId>"
    )


def _document(*records: str) -> bytes:
    return (HEADER + "".join(records) + FOOTER).encode()


def _missions(hub: Hub) -> dict[str, str]:
    """External id -> status, of every mission stored."""

    async def go() -> dict[str, str]:
        engine = make_engine(hub.settings)
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(select(missions.c.external_id, missions.c.status))
                return {row.external_id: row.status for row in rows}
        finally:
            await engine.dispose()

    return run(go())  # type: ignore[no-any-return]


@pytest.mark.parametrize("apart", [False, True], ids=["one-process", "pull-process"])
def test_repeats_are_refused_and_exactly_the_absent_are_closed(
    settings: Settings, feed: SimulatedPartner, apart: bool
) -> None:
    feed.reset()
    hub = Hub(settings)
    hub.add("feed", feed)
    # Eight ids that differ by a byte, then a second copy of one of them.
    feed.document = _document(
        *(_record(external_id, i) for i, external_id in enumerate(LOOKALIKES)),
        _record("m-2", 20),
    )
    first = hub.sync("feed", sync_pull_process=apart, sync_batch_size=3)
    assert first.status == "SUCCEEDED", first.error
    assert (first.counts["created"], first.counts["refused"]) == (len(LOOKALIKES), 1)
    assert _missions(hub) == dict.fromkeys(LOOKALIKES, "OPEN")
    reasons = hub.scalar(
        select(refused_records.c.reason).where(refused_records.c.external_id == "m-2")
    )
    assert reasons == "duplicate id 'm-2' in this pull; the first copy was kept"

    # The next complete pull lists one of each pair of lookalikes, and m-3 as a record it
    # refuses (its mission stays open: the partner still lists it); the rest is absent.
    feed.document = _document(
        _record("m-1", 0),
        _record(CAFE_NFD, 3),
        _record("m-2", 5),
        _record("m-3", 6, malformed=True),
    )
    second = hub.sync("feed", sync_pull_process=apart, sync_batch_size=3)
    assert second.status == "SUCCEEDED", second.error
    assert (second.counts["refused"], second.counts["closed"]) == (1, 4)
    assert _missions(hub) == {
        "m-1": "OPEN",
        "M-1": "CLOSED",
        CAFE_NFC: "CLOSED",
        CAFE_NFD: "OPEN",
        "m-1\u200b": "CLOSED",
        "m-2": "OPEN",
        "m-3": "OPEN",
        "m-4": "CLOSED",
    }


def test_listed_ids_are_exact_and_survive_the_file_being_closed(tmp_path: Path) -> None:
    path = tmp_path / "listed.sqlite3"
    ids = [*LOOKALIKES, "", "nul\x00inside", "lone \udc80 surrogate", "long" * 500]
    with ListedIds(path) as listed:
        for external_id in ids:
            assert external_id not in listed.delivered
            listed.delivered.add(external_id)
            assert external_id in listed.delivered
        listed.delivered.add("m-1")  # again: one id still
        listed.refuse("m-2")  # a later copy of a delivered id: already listed
        listed.refuse("refused-only")
        listed.refuse(None)
    with ListedIds(path) as again:  # what another process opens once the pull closed it
        assert sorted(again.delivered) == sorted(ids)
        assert sorted(again.refused) == ["refused-only"]
        assert len(again) == len(ids) + 1
        assert sorted(again) == sorted([*ids, "refused-only"])
        assert all(external_id in again for external_id in ids)
        assert "refused-only" in again and "M-2" not in again and 2 not in again
        assert "m-1\u200c" not in again and "\uff4d-1" not in again  # a fullwidth m
