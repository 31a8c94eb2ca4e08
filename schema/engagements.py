"""The engagement loop in the API: companies send employees to missions and follow them;
partners receive the interests on their listings and report statuses and hours.

Isolation is the store's (hub.storage.engagements.Owner): a company reads its own engagements,
a partner those on its listings, by every path (lists, ids, events, the subscription).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import UTC, date, datetime, time
from typing import Annotated

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from hub.engagement import Contact, EngagementStatus
from hub.errors import UserInputError
from hub.ingest.engagements import UpdateItem
from hub.storage.repository import check_first
from schema.context import Context
from schema.engagement_types import (
    MAX_UPDATES,
    REPLAY_PAGE,
    ContactInput,
    Engagement,
    EngagementConnection,
    EngagementEvent,
    EngagementEventConnection,
    EngagementFilter,
    EngagementPageInfo,
    EngagementUpdateInput,
    EngagementUpdateResult,
    ErasureResult,
    InterestPayload,
    company_owner,
    event_of,
    event_page,
    page_position,
    partner_owner,
    reads_of,
    result_of,
    writer_of,
)
from schema.event_cursor import decode_event_cursor
from schema.permissions import CanFollowEngagements, CanSendEngagements, CanWrite
from schema.report import ReportMutation, ReportQuery

__all__ = [
    "Engagement",
    "EngagementsMutation",
    "EngagementsQuery",
    "EngagementsSubscription",
    "company_owner",
]


@strawberry.type
class EngagementsQuery(ReportQuery):
    @strawberry.field(
        permission_classes=[CanFollowEngagements],
        description="Your company's engagements, newest first.",
    )
    async def engagements(
        self,
        info: Info[Context, None],
        filter: Annotated[
            EngagementFilter | None, strawberry.argument(description="All of yours when omitted.")
        ] = None,
        first: Annotated[int | None, strawberry.argument(description="At most 100.")] = None,
        after: Annotated[
            str | None, strawberry.argument(description="The `endCursor` of the previous page.")
        ] = None,
    ) -> EngagementConnection:
        ctx = info.context
        size = check_first(first, ctx.settings.page_size_default, ctx.settings.page_size_max)
        flt = filter or EngagementFilter()
        found = await reads_of(info).page(
            company_owner(info),
            statuses=[EngagementStatus(s) for s in flt.status or ()],
            mission_id=str(flt.mission_id) if flt.mission_id is not None else None,
            employee_ref=flt.employee_ref,
            first=size,
            after_pk=page_position(after),
        )
        nodes = [Engagement(record=r) for r in found[:size]]
        end = f"eng:{nodes[-1].record.pk}" if nodes else after
        return EngagementConnection(
            nodes=nodes,
            page_info=EngagementPageInfo(has_next_page=len(found) > size, end_cursor=end),
        )

    @strawberry.field(
        description="One engagement by id: a company's own (engagements:read), or one on a "
        "partner's listings (partner token); null for any other."
    )
    async def engagement(
        self,
        info: Info[Context, None],
        id: Annotated[strawberry.ID, strawberry.argument(description="The engagement's id.")],
    ) -> Engagement | None:
        caller = info.context.caller
        if caller is not None and caller.partner is not None:
            CanWrite().has_permission(None, info)
            owner = await partner_owner(info)
        else:
            CanFollowEngagements().has_permission(None, info)
            owner = company_owner(info)
        found = await reads_of(info).by_ids([str(id)], owner)
        record = found.get(str(id))
        return Engagement(record=record) if record is not None else None

    @strawberry.field(
        permission_classes=[CanFollowEngagements],
        description="Your company's engagement events, oldest first, from the ordered log.",
    )
    async def engagement_events(
        self,
        info: Info[Context, None],
        after: Annotated[str | None, strawberry.argument(description="An event cursor.")] = None,
        first: Annotated[int | None, strawberry.argument(description="At most 100.")] = None,
    ) -> EngagementEventConnection:
        return await event_page(info, company_owner(info), after, first)

    @strawberry.field(
        permission_classes=[CanWrite],
        description="Partners: engagements on your listings, oldest first, from the same ordered "
        "log as missions; the subscription of the same name goes live.",
    )
    async def partner_engagement_events(
        self,
        info: Info[Context, None],
        after: Annotated[str | None, strawberry.argument(description="An event cursor.")] = None,
        first: Annotated[int | None, strawberry.argument(description="At most 100.")] = None,
    ) -> EngagementEventConnection:
        return await event_page(info, await partner_owner(info), after, first)


@strawberry.type
class EngagementsMutation(ReportMutation):
    @strawberry.mutation(
        permission_classes=[CanSendEngagements],
        description="An employee is interested in a mission: the engagement, and the tracked "
        "link to give them. Asking again for the same employee and mission returns the same "
        "engagement with a fresh link.",
    )
    async def express_interest(
        self,
        info: Info[Context, None],
        mission_id: Annotated[strawberry.ID, strawberry.argument(description="The mission.")],
        employee_ref: Annotated[
            str, strawberry.argument(description="Your pseudonymous reference: never a name.")
        ],
        message: Annotated[
            str | None, strawberry.argument(description="The employee's words to the association.")
        ] = None,
        contact: Annotated[
            ContactInput | None,
            strawberry.argument(description="Given with consent; for the association only."),
        ] = None,
        site: Annotated[
            str | None, strawberry.argument(description="A label to report on.")
        ] = None,
        department: Annotated[
            str | None, strawberry.argument(description="A label to report on.")
        ] = None,
        team: Annotated[
            str | None, strawberry.argument(description="A label to report on.")
        ] = None,
        hours_planned: Annotated[
            float | None, strawberry.argument(description="Hours the employee plans to give.")
        ] = None,
    ) -> InterestPayload:
        caller = info.context.caller
        assert caller is not None
        given = Contact(contact.name, contact.email, contact.phone) if contact else None
        interest = await writer_of(info).express_interest(
            caller,
            str(mission_id),
            employee_ref,
            message=message,
            contact=given,
            consent=bool(contact and contact.consent),
            site=site,
            department=department,
            team=team,
            hours_planned=hours_planned,
        )
        expires = interest.engagement.link_expires_at
        assert expires is not None
        return InterestPayload(
            engagement=Engagement(record=interest.engagement),
            tracked_link=interest.link,
            link_expires_at=expires,
        )

    @strawberry.mutation(
        permission_classes=[CanSendEngagements],
        description="The employee no longer takes part (before it is completed).",
    )
    async def withdraw_engagement(
        self,
        info: Info[Context, None],
        id: Annotated[strawberry.ID, strawberry.argument(description="The engagement.")],
        note: Annotated[str | None, strawberry.argument(description="Kept in its history.")] = None,
    ) -> Engagement:
        record = await writer_of(info).withdraw(company_owner(info).company_pk or 0, str(id), note)
        return Engagement(record=record)

    @strawberry.mutation(
        permission_classes=[CanSendEngagements],
        description="Hours given on a mission that no partner reports on: completes the "
        "employee's active engagement on it, or records a new COMPLETED one (DECLARED).",
    )
    async def record_hours(
        self,
        info: Info[Context, None],
        mission_id: Annotated[strawberry.ID, strawberry.argument(description="The mission.")],
        employee_ref: Annotated[str, strawberry.argument(description="Your reference.")],
        hours: Annotated[float, strawberry.argument(description="Hours given, above zero.")],
        site: Annotated[str | None, strawberry.argument(description="A label.")] = None,
        department: Annotated[str | None, strawberry.argument(description="A label.")] = None,
        team: Annotated[str | None, strawberry.argument(description="A label.")] = None,
        note: Annotated[str | None, strawberry.argument(description="Kept in history.")] = None,
        given_on: Annotated[
            date | None,
            strawberry.argument(
                description="The day the hours were given (UTC), today when omitted; the "
                "report counts them in that day's month."
            ),
        ] = None,
    ) -> Engagement:
        caller = info.context.caller
        assert caller is not None
        record = await writer_of(info).record_hours(
            caller,
            str(mission_id),
            employee_ref,
            hours,
            site=site,
            department=department,
            team=team,
            note=note,
            given_at=datetime.combine(given_on, time(), UTC) if given_on else None,
        )
        return Engagement(record=record)

    @strawberry.mutation(
        permission_classes=[CanSendEngagements],
        description="The employee's erasure request (GDPR): their contact details, messages and "
        "reference are erased from every engagement; counts and hours stay for reports.",
    )
    async def erase_employee(
        self,
        info: Info[Context, None],
        employee_ref: Annotated[str, strawberry.argument(description="The employee to forget.")],
    ) -> ErasureResult:
        count = await writer_of(info).erase_employee(
            company_owner(info).company_pk or 0, employee_ref
        )
        return ErasureResult(engagements=count)

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Partners: set statuses and hours of engagements on your listings; one "
        "result per item, in order; idempotent; illegal moves are REFUSED with the reason.",
    )
    async def update_engagements(
        self,
        info: Info[Context, None],
        items: Annotated[
            list[EngagementUpdateInput], strawberry.argument(description="At most 500.")
        ],
    ) -> list[EngagementUpdateResult]:
        if len(items) > MAX_UPDATES:
            raise UserInputError(f"items: at most {MAX_UPDATES} a call, got {len(items)}")
        owner = await partner_owner(info)
        outcomes = await writer_of(info).update(
            owner.partner_pk or -1,
            [
                UpdateItem(
                    str(item.engagement_id),
                    EngagementStatus(item.status) if item.status is not None else None,
                    item.hours_given,
                    item.note,
                )
                for item in items
            ],
        )
        return [result_of(outcome) for outcome in outcomes]


@strawberry.type
class EngagementsSubscription:
    @strawberry.subscription(
        permission_classes=[CanWrite],
        description="Partners: engagements on your listings as they happen (new interests, "
        "changes, erasures). With `after`, what happened since is replayed first.",
    )
    async def partner_engagement_events(
        self,
        info: Info[Context, None],
        after: Annotated[str | None, strawberry.argument(description="An event cursor.")] = None,
    ) -> AsyncGenerator[EngagementEvent, None]:
        live = info.context.live
        if live is None:
            raise GraphQLError("live events are not available on this server")
        owner = await partner_owner(info)
        reads = reads_of(info)
        # Register for wake-ups first, then read: a commit meanwhile sets the event, and the
        # next read finds it; positions only grow, so nothing is sent twice.
        async with live.wakeups() as woken:
            position = decode_event_cursor(after) if after else await reads.event_cursor()
            while True:
                rows = await reads.engagement_events_after(position, REPLAY_PAGE, owner)
                for row in rows:
                    position = row.seq
                    yield event_of(row)
                if len(rows) < REPLAY_PAGE:
                    await woken.wait()
                    woken.clear()
