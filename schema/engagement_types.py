"""The engagement loop's GraphQL types, inputs and readers (the root fields are in
schema/engagements.py)."""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from hub.clock import answer_reads_time
from hub.engagement import EngagementRecord, EngagementStatus
from hub.errors import BadCursor
from hub.ingest.engagements import EngagementWriter, ItemOutcome
from hub.storage.engagement_reads import EngagementEventRow, EngagementReads, HistoryLine, Owner
from hub.storage.repository import check_first
from schema.context import Context
from schema.event_cursor import decode_event_cursor, encode_event_cursor
from schema.report import EngagementStatusEnum
from schema.types import Mission

__all__ = [
    "MAX_UPDATES",
    "REPLAY_PAGE",
    "ContactDetails",
    "ContactInput",
    "Engagement",
    "EngagementChange",
    "EngagementConnection",
    "EngagementEvent",
    "EngagementEventConnection",
    "EngagementEventType",
    "EngagementFilter",
    "EngagementPageInfo",
    "EngagementUpdateInput",
    "EngagementUpdateOutcome",
    "EngagementUpdateResult",
    "ErasureResult",
    "InterestPayload",
    "company_owner",
    "event_of",
    "event_page",
    "page_position",
    "partner_owner",
    "reads_of",
    "result_of",
    "writer_of",
]

REPLAY_PAGE = 500
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
        # Never answered from the response cache: each read must reach the audit log, and the
        # details hide themselves once past their retention, a matter of the current time.
        answer_reads_time()
        found = await ctx.engagement_writer.read_contact(self.record, ctx.caller)
        if found is None:
            return None
        return ContactDetails(name=found.name, email=found.email, phone=found.phone)

    @strawberry.field(description="Every change, oldest first.")
    async def history(self, info: Info[Context, None]) -> list[EngagementChange]:
        lines: list[HistoryLine] = await reads_of(info).history(self.record.pk)
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


def reads_of(info: Info[Context, None]) -> EngagementReads:
    reads = info.context.engagement_reads
    if reads is None:
        raise GraphQLError("engagements are not available on this server")
    return reads


def writer_of(info: Info[Context, None]) -> EngagementWriter:
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
    pk = await reads_of(info).partner_pk(caller.partner)
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


def page_position(after: str | None) -> int | None:
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


def event_of(row: EngagementEventRow) -> EngagementEvent:
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


async def event_page(
    info: Info[Context, None], owner: Owner, after: str | None, first: int | None
) -> EngagementEventConnection:
    ctx = info.context
    size = check_first(first, ctx.settings.page_size_default, ctx.settings.page_size_max)
    reads = reads_of(info)
    position = decode_event_cursor(after) if after else await reads.log_start()
    rows = await reads.engagement_events_after(position, size + 1, owner)
    nodes = [event_of(row) for row in rows[:size]]
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


def result_of(outcome: ItemOutcome) -> EngagementUpdateResult:
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
