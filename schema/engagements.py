"""The engagement loop in the API: companies send employees to missions and follow them;
partners receive the interests on their listings and report statuses and hours.

Isolation is the store's (hub.storage.engagements.Owner): a company reads its own engagements,
a partner those on its listings, by every path (lists, ids, events, the subscription).
"""

from __future__ import annotations

import enum
from collections.abc import AsyncGenerator
from datetime import UTC, date, datetime, time
from typing import Annotated

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from hub.engagement import Contact, EngagementRecord, EngagementStatus
from hub.errors import BadCursor, UserInputError
from hub.ingest.engagements import EngagementWriter, ItemOutcome, UpdateItem
from hub.storage.engagement_reads import EngagementEventRow, EngagementReads, HistoryLine, Owner
from hub.storage.repository import check_first
from schema.context import Context
from schema.event_cursor import decode_event_cursor, encode_event_cursor
from schema.permissions import CanFollowEngagements, CanSendEngagements, CanWrite
from schema.report import EngagementStatusEnum, ReportMutation, ReportQuery
from schema.types import Mission

__all__ = [
    "Engagement",
    "EngagementsMutation",
    "EngagementsQuery",
    "EngagementsSubscription",
    "company_owner",
]

_REPLAY_PAGE = 500
MAX_UPDATES = 500


@strawberry.enum(description="What an engagement event says happened.")
class EngagementEventType(enum.Enum):
    ENGAGEMENT_CREATED = strawberry.enum_value(
        "ENGAGEMENT_CREATED", description="An employee expressed interest (or hours were declared)."
    )
    ENGAGEMENT_UPDATED = strawberry.enum_value(
        "ENGAGEMENT_UPDATED", description="Its status or hours changed."
    )
    ENGAGEMENT_ERASED = strawberry.enum_value(
        "ENGAGEMENT_ERASED",
        description="The employee's contact details and message were erased (their erasure "
        "request, or the retention period): erase your copy too.",
    )


@strawberry.type(description="Contact details the employee agreed to give the association.")
class ContactDetails:
    name: str | None = strawberry.field(description="As the employee gave it.")
    email: str | None = strawberry.field(description="Email address.")
    phone: str | None = strawberry.field(description="Phone number.")


@strawberry.input(description="Contact details for the association, given with consent.")
class ContactInput:
    consent: bool = strawberry.field(
        description="True once the employee agreed to share these details with the association."
    )
    name: str | None = strawberry.field(default=None, description="A name to be called by.")
    email: str | None = strawberry.field(default=None, description="Email address.")
    phone: str | None = strawberry.field(default=None, description="Phone number.")


@strawberry.type(description="One change of an engagement: when, by whom, to what.")
class EngagementChange:
    at: datetime = strawberry.field(description="When.")
    actor: str = strawberry.field(description="COMPANY, PARTNER or HUB (erasure, retention).")
    status: EngagementStatusEnum = strawberry.field(description="The status after the change.")  # type: ignore[valid-type]
    hours_given: float | None = strawberry.field(description="The hours given after the change.")
    note: str | None = strawberry.field(description="The note sent with it.")


def _is_company(info: Info[Context, None], record: EngagementRecord) -> bool:
    caller = info.context.caller
    return caller is not None and caller.client_pk == record.company_pk


@strawberry.type(description="An employee's engagement on a mission, from interest to hours.")
class Engagement:
    record: strawberry.Private[EngagementRecord]

    @strawberry.field(description="The hub's id of the engagement.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.record.id)

    @strawberry.field(description="Where it stands.")
    def status(self) -> EngagementStatusEnum:  # type: ignore[valid-type]
        return self.record.status

    @strawberry.field(
        description="The company's pseudonymous reference of the employee (the company only)."
    )
    def employee_ref(self, info: Info[Context, None]) -> str | None:
        return self.record.employee_ref if _is_company(info, self.record) else None

    @strawberry.field(description="The employee's site, as the company labels it (company only).")
    def site(self, info: Info[Context, None]) -> str | None:
        return self.record.site if _is_company(info, self.record) else None

    @strawberry.field(description="The employee's department (company only).")
    def department(self, info: Info[Context, None]) -> str | None:
        return self.record.department if _is_company(info, self.record) else None

    @strawberry.field(description="The employee's team (company only).")
    def team(self, info: Info[Context, None]) -> str | None:
        return self.record.team if _is_company(info, self.record) else None

    @strawberry.field(description="The company the employee works for.")
    def company(self) -> str:
        return self.record.company_name

    @strawberry.field(description="The id of the listing the employee was sent to.")
    def mission_id(self) -> strawberry.ID:
        return strawberry.ID(self.record.mission_id)

    @strawberry.field(description="That listing's title.")
    def mission_title(self) -> str:
        return self.record.mission_title

    @strawberry.field(description="The mission, as your access lets you see it.")
    async def mission(self, info: Info[Context, None]) -> Mission | None:
        return await info.context.missions.load(self.record.mission_id)  # type: ignore[return-value]

    @strawberry.field(description="The partner whose listing it is.")
    def partner(self) -> str:
        return self.record.partner

    @strawberry.field(description="The association, when the mission names it.")
    def organization_name(self) -> str | None:
        return self.record.organization_name

    @strawberry.field(description="The mission's primary cause when the engagement began.")
    def cause(self) -> str | None:
        return self.record.cause

    @strawberry.field(description="TRACKED (through a partner) or DECLARED (by the company).")
    def source(self) -> str:
        return self.record.source

    @strawberry.field(description="The employee's message to the association.")
    def message(self) -> str | None:
        return self.record.message

    @strawberry.field(description="Hours the employee plans to give.")
    def hours_planned(self) -> float | None:
        return self.record.hours_planned

    @strawberry.field(description="Hours given, as the partner (or company) reported them.")
    def hours_given(self) -> float | None:
        return self.record.hours_given

    @strawberry.field(description="When the interest was expressed.")
    def created_at(self) -> datetime:
        return self.record.created_at

    @strawberry.field(description="When it last changed.")
    def updated_at(self) -> datetime:
        return self.record.updated_at

    @strawberry.field(description="When it became COMPLETED.")
    def completed_at(self) -> datetime | None:
        return self.record.completed_at

    @strawberry.field(description="When the employee first followed the tracked link.")
    def clicked_at(self) -> datetime | None:
        return self.record.clicked_at

    @strawberry.field(description="Whether the employee gave contact details not yet erased.")
    def has_contact(self) -> bool:
        return self.record.contact_sealed is not None

    @strawberry.field(
        description="The employee's contact details: for the partner whose listing it is "
        "only (null for anyone else, and once erased). Every read is audited."
    )
    async def contact(self, info: Info[Context, None]) -> ContactDetails | None:
        ctx = info.context
        if ctx.caller is None or ctx.engagement_writer is None:
            return None
        found = await ctx.engagement_writer.read_contact(self.record, ctx.caller)
        if found is None:
            return None
        return ContactDetails(name=found.name, email=found.email, phone=found.phone)

    @strawberry.field(description="Every change, oldest first.")
    async def history(self, info: Info[Context, None]) -> list[EngagementChange]:
        lines: list[HistoryLine] = await _reads(info).history(self.record.pk)
        return [
            EngagementChange(
                at=line.at,
                actor=line.actor,
                status=line.status,
                hours_given=line.hours_given,
                note=line.note,
            )
            for line in lines
        ]


def _reads(info: Info[Context, None]) -> EngagementReads:
    reads = info.context.engagement_reads
    if reads is None:
        raise GraphQLError("engagements are not available on this server")
    return reads


def _writer(info: Info[Context, None]) -> EngagementWriter:
    writer = info.context.engagement_writer
    if writer is None:
        raise GraphQLError("engagements are not available on this server")
    return writer


def company_owner(info: Info[Context, None]) -> Owner:
    caller = info.context.caller
    assert caller is not None  # the permission class ran first
    return Owner(company_pk=caller.client_pk)


async def partner_owner(info: Info[Context, None]) -> Owner:
    caller = info.context.caller
    if caller is None or caller.partner is None:
        raise GraphQLError(
            "this field is for partner clients: the token is not bound to a partner",
            extensions={"code": "FORBIDDEN"},
        )
    pk = await _reads(info).partner_pk(caller.partner)
    return Owner(partner_pk=pk if pk is not None else -1)


# --- pages and events -----------------------------------------------------------------------


@strawberry.input(description="Which engagements to list.")
class EngagementFilter:
    status: list[EngagementStatusEnum] | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Only these statuses."
    )
    mission_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only on this listing."
    )
    employee_ref: str | None = strawberry.field(default=None, description="Only this employee.")


@strawberry.type(description="Relay page information.")
class EngagementPageInfo:
    has_next_page: bool = strawberry.field(description="More after this page.")
    end_cursor: str | None = strawberry.field(description="Pass as `after` for the next page.")


@strawberry.type(description="A page of engagements, newest first.")
class EngagementConnection:
    nodes: list[Engagement] = strawberry.field(description="Engagements, newest first.")
    page_info: EngagementPageInfo = strawberry.field(description="Paging.")


def _page_position(after: str | None) -> int | None:
    if after is None:
        return None
    if not after.startswith("eng:") or not after[4:].isdigit():
        raise BadCursor("after: malformed cursor")
    return int(after[4:])


@strawberry.type(description="A change to an engagement, from the ordered event log.")
class EngagementEvent:
    cursor: str = strawberry.field(description="Position in the event log: resume after it.")
    type: EngagementEventType = strawberry.field(description="What happened.")
    occurred_at: datetime = strawberry.field(description="When it was committed.")
    status: EngagementStatusEnum = strawberry.field(description="The status it set.")  # type: ignore[valid-type]
    hours_given: float | None = strawberry.field(description="The hours given it set.")
    engagement: Engagement = strawberry.field(description="The engagement as it is now.")


def _event(row: EngagementEventRow) -> EngagementEvent:
    state = row.state or {}
    return EngagementEvent(
        cursor=encode_event_cursor(row.seq),
        type=EngagementEventType(row.type),
        occurred_at=row.occurred_at,
        status=EngagementStatus(state.get("status", row.engagement.status.value)),
        hours_given=state.get("hoursGiven"),
        engagement=Engagement(record=row.engagement),
    )


@strawberry.type(description="A page of engagement events, oldest first.")
class EngagementEventConnection:
    nodes: list[EngagementEvent] = strawberry.field(description="Events, oldest first.")
    page_info: EngagementPageInfo = strawberry.field(description="Paging.")


async def _event_page(
    info: Info[Context, None], owner: Owner, after: str | None, first: int | None
) -> EngagementEventConnection:
    ctx = info.context
    size = check_first(first, ctx.settings.page_size_default, ctx.settings.page_size_max)
    reads = _reads(info)
    position = decode_event_cursor(after) if after else await reads.log_start()
    rows = await reads.engagement_events_after(position, size + 1, owner)
    nodes = [_event(row) for row in rows[:size]]
    end = nodes[-1].cursor if nodes else after
    return EngagementEventConnection(
        nodes=nodes, page_info=EngagementPageInfo(has_next_page=len(rows) > size, end_cursor=end)
    )


# --- roots ------------------------------------------------------------------------------------


@strawberry.type(description="An employee sent to a mission: the engagement and its link.")
class InterestPayload:
    engagement: Engagement = strawberry.field(description="The engagement (INTERESTED).")
    tracked_link: str = strawberry.field(
        description="Give this to the employee: it leads to the listing's application page "
        "(the click is counted) and works without a token until it expires."
    )
    link_expires_at: datetime = strawberry.field(description="When the link stops working.")


@strawberry.input(description="A partner's change to one engagement on its listings.")
class EngagementUpdateInput:
    engagement_id: strawberry.ID = strawberry.field(description="The engagement's id.")
    status: EngagementStatusEnum | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="The new status; unchanged when omitted."
    )
    hours_given: float | None = strawberry.field(
        default=None, description="Hours given so far (ACCEPTED or COMPLETED); needed to complete."
    )
    note: str | None = strawberry.field(default=None, description="Kept in the history.")


@strawberry.enum(description="What an update did to one engagement.")
class EngagementUpdateOutcome(enum.Enum):
    UPDATED = strawberry.enum_value("UPDATED", description="Changed.")
    UNCHANGED = strawberry.enum_value("UNCHANGED", description="Already so: nothing changed.")
    REFUSED = strawberry.enum_value("REFUSED", description="Not allowed: `reason` says why.")
    NOT_FOUND = strawberry.enum_value(
        "NOT_FOUND", description="No engagement with this id on your listings."
    )


@strawberry.type(description="The result of one item of updateEngagements, in the order sent.")
class EngagementUpdateResult:
    engagement_id: strawberry.ID = strawberry.field(description="The item's engagement id.")
    outcome: EngagementUpdateOutcome = strawberry.field(description="What happened.")
    reason: str | None = strawberry.field(description="Why it was refused or not found.")
    engagement: Engagement | None = strawberry.field(description="The engagement as it is now.")


def _result(outcome: ItemOutcome) -> EngagementUpdateResult:
    return EngagementUpdateResult(
        engagement_id=strawberry.ID(outcome.engagement_id),
        outcome=EngagementUpdateOutcome(outcome.outcome),
        reason=outcome.reason,
        engagement=Engagement(record=outcome.engagement)
        if outcome.engagement is not None and outcome.outcome != "NOT_FOUND"
        else None,
    )


@strawberry.type(description="What an erasure did.")
class ErasureResult:
    engagements: int = strawberry.field(
        description="Engagements of the employee whose contact details, message and reference "
        "were erased (counts and hours stay in reports)."
    )


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
        found = await _reads(info).page(
            company_owner(info),
            statuses=[EngagementStatus(s) for s in flt.status or ()],
            mission_id=str(flt.mission_id) if flt.mission_id is not None else None,
            employee_ref=flt.employee_ref,
            first=size,
            after_pk=_page_position(after),
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
        found = await _reads(info).by_ids([str(id)], owner)
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
        return await _event_page(info, company_owner(info), after, first)

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
        return await _event_page(info, await partner_owner(info), after, first)


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
        interest = await _writer(info).express_interest(
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
        record = await _writer(info).withdraw(company_owner(info).company_pk or 0, str(id), note)
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
        record = await _writer(info).record_hours(
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
        count = await _writer(info).erase_employee(
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
        outcomes = await _writer(info).update(
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
        return [_result(outcome) for outcome in outcomes]


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
        reads = _reads(info)
        # Register for wake-ups first, then read: a commit meanwhile sets the event, and the
        # next read finds it; positions only grow, so nothing is sent twice.
        async with live.wakeups() as woken:
            position = decode_event_cursor(after) if after else await reads.event_cursor()
            while True:
                rows = await reads.engagement_events_after(position, _REPLAY_PAGE, owner)
                for row in rows:
                    position = row.seq
                    yield _event(row)
                if len(rows) < _REPLAY_PAGE:
                    await woken.wait()
                    woken.clear()
