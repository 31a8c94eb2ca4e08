"""Running a pull to the end, or to its error, the way the hub would."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from connectors import Close, Connector, FetchResult, Outcome, Refused
from hub.catalogue.model import MissionDraft
from tests.partners import Expected


@dataclass
class Pulled:
    outcomes: list[Outcome]
    result: FetchResult | None
    error: Exception | None = None
    drafts: list[MissionDraft] = field(init=False)
    refused: list[Refused] = field(init=False)
    closed: list[Close] = field(init=False)

    def __post_init__(self) -> None:
        self.drafts = [o for o in self.outcomes if isinstance(o, MissionDraft)]
        self.refused = [o for o in self.outcomes if isinstance(o, Refused)]
        self.closed = [o for o in self.outcomes if isinstance(o, Close)]


async def pull(
    connector: Connector, client: httpx.AsyncClient, state: dict[str, Any] | None = None
) -> Pulled:
    """Every outcome of one pull; the pull must finish."""
    outcomes: list[Outcome] = []
    async with connector.run(client, state) as run:
        async for outcome in run:
            outcomes.append(outcome)
    return Pulled(outcomes, run.result)


async def pull_until_error(connector: Connector, client: httpx.AsyncClient) -> Pulled:
    """The outcomes yielded before the pull failed, and its error; the pull must fail."""
    outcomes: list[Outcome] = []
    run = connector.run(client)
    try:
        async with run:
            async for outcome in run:
                outcomes.append(outcome)
    except Exception as exc:
        return Pulled(outcomes, run.result, exc)
    raise AssertionError(f"the pull finished with {len(outcomes)} outcomes; expected an error")


def summary(draft: MissionDraft) -> Expected:
    """The fields every partner's expectation is checked against."""
    where = draft.locations[0] if draft.locations else None
    return Expected(
        external_id=draft.external_id,
        title=draft.title,
        start=draft.start_at.date() if draft.start_at else None,
        places=draft.places_total,
        organization=draft.organization.name if draft.organization else None,
        city=where.city if where else None,
        postal_code=where.postal_code if where else None,
        latitude=where.latitude if where else None,
        longitude=where.longitude if where else None,
    )
