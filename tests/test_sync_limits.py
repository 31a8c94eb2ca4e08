"""The largest body a sync reads: the hub's setting, a partner's own value winning over it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hub.settings import Settings
from hub.storage.db import make_engine
from hub.sync import add_partner
from tests.conftest import TEST_NOW, run
from tests.partners import PARTNERS, SimulatedPartner
from tests.test_sync import Hub, config_of


@pytest.fixture(scope="module")
def feed() -> Iterator[SimulatedPartner]:
    partner = PARTNERS["api-engagement-xml"]().start()
    yield partner
    partner.stop()


def _add(hub: Hub, feed: SimulatedPartner, max_feed_bytes: int | None) -> None:
    """The feed as a partner, with its own limit in its configuration (None: none of its own)."""
    config = feed.config()

    async def go() -> None:
        engine = make_engine(hub.settings)
        try:
            await add_partner(
                engine,
                "feed",
                connector=feed.connector_name,
                url=config.url,
                every="15m",
                push_only=False,
                config={**config_of(config), "max_feed_bytes": max_feed_bytes},
                now=TEST_NOW,
            )
        finally:
            await engine.dispose()

    run(go())


def test_a_feed_over_the_hub_limit_fails_the_sync_and_writes_nothing(
    settings: Settings, feed: SimulatedPartner
) -> None:
    feed.reset()
    hub = Hub(settings)
    _add(hub, feed, None)
    report = hub.sync("feed", sync_max_feed_bytes=2048)
    assert report.status == "FAILED"
    assert "body larger than 2048 bytes" in (report.error or "")
    assert hub.open_count("feed") == 0


def test_a_partner_limit_wins_over_the_hub_setting(
    settings: Settings, feed: SimulatedPartner
) -> None:
    feed.reset()
    hub = Hub(settings)
    _add(hub, feed, 2**30)  # the partner's own: its feed is larger than the hub's limit
    report = hub.sync("feed", sync_max_feed_bytes=2048)
    assert report.status == "SUCCEEDED", report.error
    assert report.counts["created"] == feed.count - report.counts["refused"] > 0

    hub = Hub(settings)
    _add(hub, feed, 2048)  # and a smaller one stops it under a generous hub setting
    report = hub.sync("feed")
    assert report.status == "FAILED"
    assert "body larger than 2048 bytes" in (report.error or "")
