"""Subscription root: the live feed of missions, resumable from a cursor with nothing lost."""

from __future__ import annotations

import enum
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Annotated

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from hub.catalogue.filters import MissionFilter
from hub.live.matching import Matcher
from hub.storage.repository import EventRow
from schema.context import Context
from schema.engagements import EngagementsSubscription
from schema.event_cursor import decode_event_cursor, encode_event_cursor
from schema.inputs import MissionFilterInput, to_filter
from schema.permissions import CanRead
from schema.types import Mission

__all__ = [
    "MissionEvent",
    "MissionEventConnection",
    "MissionEventType",
    "Subscription",
    "decode_event_cursor",
    "event_page",
]

_REPLAY_PAGE = 500


@strawberry.enum(description="What a change means for one subscriber's filter.")
class MissionEventType(enum.Enum):
    PUBLISHED = strawberry.enum_value(
        "PUBLISHED", description="Entered the filter: created, reopened, or changed to match."
    )
    UPDATED = strawberry.enum_value("UPDATED", description="Changed, and still matches.")
    CLOSED = strawberry.enum_value(
        "CLOSED", description="Left the filter: closed, or changed so that it no longer matches."
    )


@strawberry.type(description="A change to a mission, as it concerns the subscriber's filter.")
class MissionEvent:
    cursor: str = strawberry.field(
        description="Position in the event log: resubscribe with `after` set to it to resume."
    )
    type: MissionEventType = strawberry.field(description="What the change means for you.")
    occurred_at: datetime = strawberry.field(description="When the change was committed.")
    mission: Mission = strawberry.field(description="The mission as it is now.")


def judge(matcher: Matcher, row: EventRow) -> MissionEventType | None:
    """Entering the filter is PUBLISHED, staying in it UPDATED, leaving it CLOSED."""
    kind = matcher.judge(row.previous, row.state, row.mission.is_duplicate)
    return MissionEventType(kind.value) if kind is not None else None


def _event(row: EventRow, kind: MissionEventType) -> MissionEvent:
    return MissionEvent(
        cursor=encode_event_cursor(row.seq),
        type=kind,
        occurred_at=row.occurred_at,
        mission=row.mission,  # type: ignore[arg-type]
    )


@strawberry.type(description="One change of the event log and its cursor.")
class MissionEventEdge:
    cursor: str = strawberry.field(description="Pass as `after` to continue from here.")
    node: MissionEvent = strawberry.field(description="The change.")


@strawberry.type(description="Relay page information for the event log.")
class EventPageInfo:
    has_next_page: bool = strawberry.field(description="More changes after this page.")
    end_cursor: str | None = strawberry.field(description="Cursor of the last change.")


@strawberry.type(description="A page of the event log.")
class MissionEventConnection:
    edges: list[MissionEventEdge] = strawberry.field(description="Changes, oldest first.")
    page_info: EventPageInfo = strawberry.field(description="Paging.")


async def event_page(ctx: Context, after: str | None, first: int) -> MissionEventConnection:
    """The log as this caller may see it: changes to missions its policy lets it see."""
    matcher = await Matcher.build(ctx.repository, MissionFilter(status=()), ctx.policy)
    position = decode_event_cursor(after) if after else await ctx.repository.log_start()
    edges: list[MissionEventEdge] = []
    has_next = False
    while len(edges) <= first:
        rows = await ctx.repository.events_after(position, _REPLAY_PAGE)
        if not rows:
            break
        for row in rows:
            if not (matcher.matches(row.previous) or matcher.matches(row.state)):
                position = row.seq
                continue
            if len(edges) == first:
                has_next = True
                break
            position = row.seq
            event = _event(row, MissionEventType(row.type))
            edges.append(MissionEventEdge(cursor=event.cursor, node=event))
        if has_next:
            break
    return MissionEventConnection(
        edges=edges,
        page_info=EventPageInfo(
            has_next_page=has_next, end_cursor=edges[-1].cursor if edges else after
        ),
    )


@strawberry.type(description="Live changes.")
class Subscription(EngagementsSubscription):
    @strawberry.subscription(
        permission_classes=[CanRead],
        description="Missions entering, changing within, or leaving your filter, as they "
        "happen. With `after` (an event cursor, or a search's eventCursor), what happened "
        "since is replayed first, then the feed goes live, with nothing missed or repeated.",
    )
    async def mission_events(
        self,
        info: Info[Context, None],
        filter: Annotated[
            MissionFilterInput | None,
            strawberry.argument(description="The missions to follow; OPEN ones when omitted."),
        ] = None,
        after: Annotated[
            str | None,
            strawberry.argument(
                description="Resume after this event cursor, or a search's eventCursor."
            ),
        ] = None,
    ) -> AsyncGenerator[MissionEvent, None]:
        ctx = info.context
        live = ctx.live
        if live is None:
            raise GraphQLError("live events are not available on this server")
        # Built once per execution: identical subscriptions share one (hub/live/fanout.py).
        matcher = await Matcher.build(ctx.repository, to_filter(filter), ctx.policy)
        # Listen first, then replay: whatever commits meanwhile is queued, and skipped when the
        # replay already delivered it. Positions only grow, so nothing is sent twice.
        async with live.listen() as listener:
            position = decode_event_cursor(after) if after else live.high_water_mark
            while rows := await ctx.repository.events_after(position, _REPLAY_PAGE):
                for row in rows:
                    position = row.seq
                    if kind := judge(matcher, row):
                        yield _event(row, kind)
            while True:
                # A full inbox raises FellBehind here; it ends this stream as an error the
                # transports see (graphql-transport-ws closes with 4290), and the client
                # resumes from its last cursor.
                batch = await listener.get()
                for row in batch:
                    if row.seq <= position:
                        continue
                    position = row.seq
                    if kind := judge(matcher, row):
                        yield _event(row, kind)
