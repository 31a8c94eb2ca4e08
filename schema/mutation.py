"""Mutation root: partners push and close their own missions (idempotent on externalId)."""

from __future__ import annotations

import enum
from typing import Annotated

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from hub.auth import audit
from hub.catalogue.model import Refusal
from hub.ingest.service import MissionWriter, Source
from hub.storage import WriteOutcome
from schema.context import Context
from schema.engagements import EngagementsMutation
from schema.permissions import CanWrite
from schema.push import MissionInput, to_draft
from schema.webhooks import WebhookMutation

__all__ = ["MAX_BATCH", "Mutation"]

MAX_BATCH = 1000


@strawberry.enum(description="What a write did to one mission.")
class WriteStatus(enum.Enum):
    CREATED = strawberry.enum_value("CREATED", description="A new mission.")
    UPDATED = strawberry.enum_value("UPDATED", description="A mission the hub held, changed.")
    UNCHANGED = strawberry.enum_value(
        "UNCHANGED", description="Sent again as the hub held it: nothing changed."
    )
    CLOSED = strawberry.enum_value("CLOSED", description="Closed.")
    NOT_FOUND = strawberry.enum_value(
        "NOT_FOUND", description="No mission of this partner has this externalId."
    )
    REFUSED = strawberry.enum_value("REFUSED", description="Refused: `errors` says why.")
    DUPLICATE = strawberry.enum_value(
        "DUPLICATE",
        description="The externalId came earlier in the same call; that item's result stands.",
    )


@strawberry.type(description="Why an item was refused.")
class ItemError:
    message: str = strawberry.field(description="What is wrong and what to change.")


@strawberry.type(description="The result of one item of a write, in the order sent.")
class MissionWriteResult:
    external_id: str = strawberry.field(description="The item's externalId.")
    status: WriteStatus = strawberry.field(description="What happened to it.")
    mission_id: strawberry.ID | None = strawberry.field(
        description="The hub's id for the mission, when it exists."
    )
    errors: list[ItemError] = strawberry.field(description="Why it was refused (REFUSED only).")


@strawberry.type(description="Counts of one write call.")
class WriteCounts:
    created: int = strawberry.field(description="Missions created.")
    updated: int = strawberry.field(description="Missions changed.")
    unchanged: int = strawberry.field(description="Missions sent again as they were.")
    closed: int = strawberry.field(description="Missions closed.")
    refused: int = strawberry.field(description="Items refused.")


@strawberry.type(description="The outcome of a write call: one result per item, in order.")
class WritePayload:
    results: list[MissionWriteResult] = strawberry.field(description="One per item, in order.")
    counts: WriteCounts = strawberry.field(description="Totals.")


def _partner_name(info: Info[Context, None]) -> str:
    caller = info.context.caller
    if caller is None or caller.partner is None:
        raise GraphQLError(
            "this token is not bound to a partner: writes need a partner client's token",
            extensions={"code": "FORBIDDEN"},
        )
    return caller.partner


def _writer(info: Info[Context, None]) -> MissionWriter:
    """The app's one write service, built once by the app factory."""
    writer = info.context.writer
    if writer is None:
        raise RuntimeError("the request context has no MissionWriter: build it in create_app")
    return writer


def _check_size(count: int) -> None:
    if count > MAX_BATCH:
        raise GraphQLError(
            f"at most {MAX_BATCH} items a call, got {count}: split the batch",
            extensions={"code": "BAD_USER_INPUT"},
        )


def _payload(results: list[MissionWriteResult]) -> WritePayload:
    def n(status: WriteStatus) -> int:
        return sum(1 for r in results if r.status is status)

    return WritePayload(
        results=results,
        counts=WriteCounts(
            created=n(WriteStatus.CREATED),
            updated=n(WriteStatus.UPDATED),
            unchanged=n(WriteStatus.UNCHANGED),
            closed=n(WriteStatus.CLOSED),
            refused=n(WriteStatus.REFUSED),
        ),
    )


@strawberry.type(description="Partners write their own missions.")
class Mutation(EngagementsMutation, WebhookMutation):
    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Create or replace missions of the token's partner, idempotent on "
        f"externalId; up to {MAX_BATCH} a call; a bad item is refused alone.",
    )
    async def upsert_missions(
        self,
        info: Info[Context, None],
        missions: Annotated[
            list[MissionInput],
            strawberry.argument(description="Whole missions: each replaces the hub's copy."),
        ],
    ) -> WritePayload:
        partner_name = _partner_name(info)
        _check_size(len(missions))
        drafts = [to_draft(item) for item in missions]
        report = await _writer(info).apply(partner_name, drafts, source=Source.PUSH)
        results: list[MissionWriteResult] = []
        for item, (kind, index) in zip(missions, report.order, strict=True):
            if kind == "refused":
                refusal: Refusal = report.refusals[index]
                results.append(
                    MissionWriteResult(
                        external_id=item.external_id,
                        status=WriteStatus.REFUSED,
                        mission_id=None,
                        errors=[ItemError(message=refusal.reason)],
                    )
                )
            else:
                written = report.batch.results[index]
                results.append(
                    MissionWriteResult(
                        external_id=written.external_id,
                        status=WriteStatus(written.outcome.value),
                        mission_id=strawberry.ID(written.mission_id)
                        if written.mission_id
                        else None,
                        errors=[],
                    )
                )
        payload = _payload(results)
        await audit(
            info.context.repository.engine,
            info.context.clock.now(),
            "partner.upsert",
            info.context.caller.client_id if info.context.caller else None,
            partner=partner_name,
            counts=vars(payload.counts),
        )
        return payload

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Close missions of the token's partner (never deleted); unknown ids say "
        "NOT_FOUND.",
    )
    async def close_missions(
        self,
        info: Info[Context, None],
        external_ids: Annotated[
            list[str], strawberry.argument(description="The partner's own ids of the missions.")
        ],
    ) -> WritePayload:
        partner_name = _partner_name(info)
        _check_size(len(external_ids))
        batch = await _writer(info).close(partner_name, external_ids)
        payload = _payload(
            [
                MissionWriteResult(
                    external_id=r.external_id,
                    status=WriteStatus(r.outcome.value),
                    mission_id=strawberry.ID(r.mission_id) if r.mission_id else None,
                    errors=[],
                )
                for r in batch.results
            ]
        )
        await audit(
            info.context.repository.engine,
            info.context.clock.now(),
            "partner.close",
            info.context.caller.client_id if info.context.caller else None,
            partner=partner_name,
            counts=vars(payload.counts),
        )
        return payload


assert {o.value for o in WriteOutcome} <= {s.value for s in WriteStatus}
