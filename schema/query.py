"""Query root: search, lookups by id, organizations, partners, taxonomies."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Annotated, Any

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from hub.catalogue import taxonomy
from hub.catalogue.filters import MissionFilter, MissionOrder, Policy
from hub.catalogue.model import MissionStatus
from hub.errors import BadCursor
from hub.storage.repository import check_first
from schema.connection import MissionConnection
from schema.context import Context
from schema.engagements import EngagementsQuery
from schema.inputs import MissionFilterInput, MissionOrderEnum, to_filter
from schema.permissions import CanRead, CanWrite
from schema.recommend import RecommendQuery
from schema.subscription import MissionEventConnection, event_page
from schema.types import (
    CauseInfo,
    Mission,
    MissionStatusEnum,
    Node,
    Organization,
    Partner,
    Skill,
    cause_enum,
)
from schema.webhooks import WebhookQuery

__all__ = ["OrganizationPage", "Query"]


@strawberry.type(description="A page of organizations.")
class OrganizationPage:
    nodes: list[Organization] = strawberry.field(description="Organizations, by creation order.")
    end_cursor: str | None = strawberry.field(description="Pass as `after` for the next page.")


def _org_cursor(pk: int) -> str:
    return base64.urlsafe_b64encode(f"org:{pk}".encode()).decode()


def _org_position(cursor: str) -> int:
    try:
        kind, _, pk = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        if kind != "org":
            raise ValueError(kind)
        return int(pk)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise BadCursor("after: malformed cursor") from exc


@strawberry.type(description="A record the hub refused from a partner, and why.")
class RefusedRecord:
    external_id: str | None = strawberry.field(description="The record's id, when it had one.")
    reason: str = strawberry.field(description="Why it was refused.")
    source: str = strawberry.field(description="PULL (a sync) or PUSH (a mutation).")
    at: datetime = strawberry.field(description="When.")


def _selects(selections: list[Any], name: str) -> bool:
    """Whether a selection set asks for `name`, fragments included."""
    for selection in selections:
        if getattr(selection, "name", None) == name:
            return True
        if not hasattr(selection, "name") and _selects(selection.selections, name):
            return True
    return False


def _own_partner(info: Info[Context, None]) -> str:
    caller = info.context.caller
    if caller is None or caller.partner is None:
        raise GraphQLError(
            "this field is for partner clients: the token is not bound to a partner",
            extensions={"code": "FORBIDDEN"},
        )
    return caller.partner


@strawberry.type(description="Read the merged catalogue of volunteering missions.")
class Query(RecommendQuery, EngagementsQuery, WebhookQuery):
    @strawberry.field(
        permission_classes=[CanRead],
        description="Search missions: a Relay connection with counts and facets.",
    )
    async def missions(
        self,
        info: Info[Context, None],
        filter: Annotated[
            MissionFilterInput | None,
            strawberry.argument(description="What to look for; OPEN missions when omitted."),
        ] = None,
        first: Annotated[
            int | None, strawberry.argument(description="Page size: 20 when omitted, at most 100.")
        ] = None,
        after: Annotated[
            str | None, strawberry.argument(description="The `endCursor` of the previous page.")
        ] = None,
        order_by: Annotated[
            MissionOrderEnum,  # type: ignore[valid-type]
            strawberry.argument(description="Result order."),
        ] = MissionOrder.RECENT,
    ) -> MissionConnection:
        ctx = info.context
        size = check_first(first, ctx.settings.page_size_default, ctx.settings.page_size_max)
        flt = to_filter(filter)
        # Read before the page, and only when asked for: a client that subscribes from it then
        # misses nothing that changed after its page was read.
        wanted = _selects(info.selected_fields[0].selections, "eventCursor")
        event_cursor = await ctx.repository.event_cursor() if wanted else 0
        page, query = await ctx.repository.search(
            flt, MissionOrder(order_by), size, after, ctx.policy
        )
        return MissionConnection(page=page, query=query, event_cursor=str(event_cursor))

    @strawberry.field(
        permission_classes=[CanRead], description="One mission by id, whatever its status."
    )
    async def mission(
        self,
        info: Info[Context, None],
        id: Annotated[strawberry.ID, strawberry.argument(description="The mission's id.")],
    ) -> Mission | None:
        return await info.context.missions.load(str(id))  # type: ignore[return-value]

    @strawberry.field(
        permission_classes=[CanRead], description="Any object by its global id (Relay)."
    )
    async def node(
        self,
        info: Info[Context, None],
        id: Annotated[
            strawberry.ID, strawberry.argument(description="A mission, organization or partner id.")
        ],
    ) -> Node | None:
        key = str(id)
        if key.startswith("mis_"):
            return await info.context.missions.load(key)  # type: ignore[return-value]
        if key.startswith("org_"):
            return await info.context.organizations.load(key)  # type: ignore[return-value]
        if key.startswith("ptn_"):
            for partner in await info.context.repository.partner_list():
                if partner.id == key:
                    return partner  # type: ignore[return-value]
        return None

    @strawberry.field(
        permission_classes=[CanRead], description="Organizations, optionally by part of their name."
    )
    async def organizations(
        self,
        info: Info[Context, None],
        name: Annotated[
            str | None,
            strawberry.argument(description="Part of the name, ignoring case and accents."),
        ] = None,
        first: Annotated[int | None, strawberry.argument(description="At most 100.")] = None,
        after: Annotated[
            str | None, strawberry.argument(description="The `endCursor` of the previous page.")
        ] = None,
    ) -> OrganizationPage:
        ctx = info.context
        size = check_first(first, ctx.settings.page_size_default, ctx.settings.page_size_max)
        position = _org_position(after) if after else None
        found = await ctx.repository.organizations(name, size, position, ctx.policy)
        end = _org_cursor(found[-1].pk) if found else None
        return OrganizationPage(nodes=found, end_cursor=end)  # type: ignore[arg-type]

    @strawberry.field(
        permission_classes=[CanRead],
        description="Partners, with their open-mission counts and last sync.",
    )
    async def partners(self, info: Info[Context, None]) -> list[Partner]:
        found = await info.context.repository.partner_list()
        for partner in found:  # counted already: missionCount need not ask again
            info.context.partner_counts.prime(partner.pk, partner.mission_count)
        return found  # type: ignore[return-value]

    @strawberry.field(
        permission_classes=[CanRead],
        description="The change-event log, oldest first, to catch up after `after` (an event "
        "cursor or a search's eventCursor); the subscription of the same name goes live.",
    )
    async def mission_events(
        self,
        info: Info[Context, None],
        after: Annotated[
            str | None,
            strawberry.argument(
                description="Start after this event cursor, or a search's eventCursor."
            ),
        ] = None,
        first: Annotated[int | None, strawberry.argument(description="At most 100.")] = None,
    ) -> MissionEventConnection:
        ctx = info.context
        size = check_first(first, ctx.settings.page_size_default, ctx.settings.page_size_max)
        return await event_page(ctx, after, size)

    @strawberry.field(
        permission_classes=[CanWrite],
        description="Partners: your own missions as the hub holds them, any status by default.",
    )
    async def partner_missions(
        self,
        info: Info[Context, None],
        status: Annotated[
            list[MissionStatusEnum] | None,  # type: ignore[valid-type]
            strawberry.argument(description="Only these statuses; all of them when omitted."),
        ] = None,
        first: Annotated[int | None, strawberry.argument(description="At most 100.")] = None,
        after: Annotated[
            str | None, strawberry.argument(description="The `endCursor` of the previous page.")
        ] = None,
    ) -> MissionConnection:
        partner = _own_partner(info)
        ctx = info.context
        size = check_first(first, ctx.settings.page_size_default, ctx.settings.page_size_max)
        statuses = tuple(MissionStatus(s) for s in status) if status else tuple(MissionStatus)
        # The partner is the standing restriction, not a filter: facets, which drop each
        # dimension's own filter, then count nothing of another partner's catalogue.
        own = Policy(partners=(partner,))
        flt = MissionFilter(status=statuses)
        event_cursor = await ctx.repository.event_cursor()
        page, query = await ctx.repository.search(flt, MissionOrder.RECENT, size, after, own)
        return MissionConnection(page=page, query=query, event_cursor=str(event_cursor))

    @strawberry.field(
        permission_classes=[CanWrite],
        description="Partners: the records the hub refused from you, newest first, with reasons.",
    )
    async def refused_records(
        self,
        info: Info[Context, None],
        first: Annotated[int | None, strawberry.argument(description="At most 100.")] = None,
    ) -> list[RefusedRecord]:
        partner = _own_partner(info)
        ctx = info.context
        size = check_first(first, 50, ctx.settings.page_size_max)
        rows = await ctx.repository.refusals(partner, size)
        return [RefusedRecord(**row) for row in rows]

    @strawberry.field(
        permission_classes=[CanRead], description="The 20 causes, with their French labels."
    )
    def causes(self) -> list[CauseInfo]:
        return [CauseInfo(value=cause_enum(c.slug), label=c.label) for c in taxonomy.CAUSES]

    @strawberry.field(
        permission_classes=[CanRead], description="The canonical skills taxonomy, for filters."
    )
    def skills(self) -> list[Skill]:
        return [Skill(slug=s.slug, label=s.label) for s in taxonomy.SKILLS]
