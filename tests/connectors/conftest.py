"""Simulated partners started once per session (lazily), reset to healthy before each test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from tests.partners import PARTNERS, SimulatedPartner


class Partners:
    """Starts a partner's server the first time a test asks for it."""

    def __init__(self) -> None:
        self._started: dict[str, SimulatedPartner] = {}

    def get(self, name: str) -> SimulatedPartner:
        if name not in self._started:
            self._started[name] = PARTNERS[name]().start()
        partner = self._started[name]
        partner.reset()
        return partner

    def stop(self) -> None:
        for partner in self._started.values():
            partner.stop()


@pytest.fixture(scope="session")
def partners() -> Iterator[Partners]:
    started = Partners()
    yield started
    started.stop()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    """The hub's shared HTTP client, as the app's lifespan would own it."""
    async with httpx.AsyncClient() as shared:
        yield shared
