"""The one write path for engagements: checks, then rows, history and events in one transaction,
published after commit (like missions, hub.ingest.service). Resolvers and the tracked-link route
only adapt their inputs to it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from hub.engagement import (
    ACTIVE,
    Contact,
    EngagementRecord,
    EngagementStatus,
    Move,
    new_token,
    refusal,
)
from hub.errors import NotFoundError, UserInputError
from hub.ingest.engagement_base import (
    EMAIL,
    MESSAGE_MAX,
    Caller,
    Click,
    EngagementBase,
    Interest,
    ItemOutcome,
    UpdateItem,
    checked_hours,
    checked_ref,
    checked_text,
    choose_listing,
    label_values,
)
from hub.storage.engagements import (
    Owner,
    active_engagement,
    by_id,
    change_engagement,
    insert_engagement,
    listings_of,
    mission_facts,
    new_engagement_id,
    renew_link,
    visible_mission,
)

__all__ = ["Click", "EngagementWriter", "Interest", "ItemOutcome", "UpdateItem"]


class EngagementWriter(EngagementBase):
    """Sends employees to missions and moves their engagements, each call one transaction."""

    async def _mission_pk(self, caller: Caller, mission_id: str, *, open_only: bool) -> int:
        async with self.engine.connect() as conn:
            found = await visible_mission(conn, mission_id, caller.policy)
        if found is None:
            raise NotFoundError(f"missionId: no mission {mission_id!r} that you may see")
        pk, status = found
        if open_only and status != "OPEN":
            raise UserInputError(f"missionId: the mission is {status}: it takes no new volunteers")
        return pk

    async def express_interest(
        self,
        caller: Caller,
        mission_id: str,
        employee_ref: str,
        *,
        message: str | None = None,
        contact: Contact | None = None,
        consent: bool = False,
        site: str | None = None,
        department: str | None = None,
        team: str | None = None,
        hours_planned: float | None = None,
    ) -> Interest:
        """An employee's interest: the engagement (the active one of this employee on this
        mission when there is one: asking twice is one interest) and its tracked link."""
        values = {
            "employee_ref": checked_ref(employee_ref),
            "message": checked_text(message, "message", MESSAGE_MAX),
            "hours_planned": checked_hours(hours_planned, "hoursPlanned"),
            **label_values(site, department, team),
        }
        sealed = self._seal(contact, consent)
        mission_pk = await self._mission_pk(caller, mission_id, open_only=True)
        now = self.clock.now()
        seqs: list[int] = []
        async with self.engine.begin() as conn:
            listings = await listings_of(conn, mission_pk)
            active = await active_engagement(
                conn,
                caller.client_pk,
                values["employee_ref"],
                [listing.pk for listing in listings],
                sorted(ACTIVE),
            )
            token = new_token()
            expires = now + self.link_ttl
            if active is not None:
                # Asked again: the same engagement, its link renewed (an old one may have expired).
                record = await renew_link(conn, active.pk, token, expires)
            else:
                chosen = choose_listing(listings, caller.policy.partners, mission_pk)
                record, seq = await insert_engagement(
                    conn,
                    {
                        **values,
                        **await mission_facts(conn, chosen.pk),
                        "id": new_engagement_id(),
                        "mission_pk": chosen.pk,
                        "partner_pk": chosen.partner_pk,
                        "company_pk": caller.client_pk,
                        "status": EngagementStatus.INTERESTED.value,
                        "source": "TRACKED",
                        "link_token": token,
                        "link_expires_at": expires,
                        "contact_sealed": sealed,
                    },
                    "COMPANY",
                    now,
                )
                seqs.append(seq)
        await self._published(seqs)
        return Interest(record, self.link(token))

    def _seal(self, contact: Contact | None, consent: bool) -> str | None:
        if contact is None or contact.empty:
            return None
        if not consent:
            raise UserInputError(
                "contact: pass consent: true, once the employee agreed to share these details "
                "with the association"
            )
        if not self.cipher.enabled:
            raise UserInputError("contact: this hub takes no contact details (no key is set)")
        if contact.email is not None and not EMAIL.match(contact.email):
            raise UserInputError("contact.email: not an email address")
        for name, value in (
            ("name", contact.name),
            ("email", contact.email),
            ("phone", contact.phone),
        ):
            checked_text(value, f"contact.{name}", 200)
        return self.cipher.seal(contact)

    async def _move(
        self,
        owner: Owner,
        engagement_id: str,
        move: Move,
        actor: str,
        note: str | None,
        conn: AsyncConnection,
        now: datetime,
        completed_at: datetime | None = None,
    ) -> tuple[ItemOutcome, int | None]:
        """One change of one engagement, in the caller's transaction; refused when illegal."""
        before = await by_id(conn, engagement_id, owner)
        if before is None:
            return ItemOutcome(
                engagement_id, "NOT_FOUND", "no engagement with this id is yours"
            ), None
        if reason := refusal(before.status, before.hours_given, move):
            return ItemOutcome(engagement_id, "REFUSED", reason, before), None
        values: dict[str, Any] = {}
        if move.status is not None and move.status is not before.status:
            values["status"] = move.status.value
            if move.status is EngagementStatus.COMPLETED:
                values["completed_at"] = completed_at or now
        if move.hours_given is not None and move.hours_given != before.hours_given:
            values["hours_given"] = move.hours_given
        if not values:
            return ItemOutcome(engagement_id, "UNCHANGED", None, before), None
        after, seq = await change_engagement(
            conn, before, values, actor, now, checked_text(note, "note", MESSAGE_MAX)
        )
        return ItemOutcome(engagement_id, "UPDATED", None, after), seq

    async def update(self, partner_pk: int, items: Sequence[UpdateItem]) -> list[ItemOutcome]:
        """A partner's statuses and hours: one outcome per item, in order; an item sent again
        is UNCHANGED; an illegal one is REFUSED with its reason and changes nothing."""
        now = self.clock.now()
        outcomes: list[ItemOutcome] = []
        seqs: list[int] = []
        async with self.engine.begin() as conn:
            for item in items:
                try:
                    outcome, seq = await self._move(
                        Owner(partner_pk=partner_pk),
                        item.engagement_id,
                        Move(item.status, item.hours_given),
                        "PARTNER",
                        item.note,
                        conn,
                        now,
                    )
                except UserInputError as exc:  # a note too long
                    outcome, seq = ItemOutcome(item.engagement_id, "REFUSED", str(exc)), None
                outcomes.append(outcome)
                if seq is not None:
                    seqs.append(seq)
        await self._published(seqs)
        return outcomes

    async def withdraw(
        self, company_pk: int, engagement_id: str, note: str | None
    ) -> EngagementRecord:
        """The company withdraws its employee; an illegal move is a BAD_USER_INPUT error."""
        return await self._company_move(
            company_pk, engagement_id, Move(EngagementStatus.WITHDRAWN), note
        )

    async def _company_move(
        self, company_pk: int, engagement_id: str, move: Move, note: str | None
    ) -> EngagementRecord:
        now = self.clock.now()
        async with self.engine.begin() as conn:
            outcome, seq = await self._move(
                Owner(company_pk=company_pk), engagement_id, move, "COMPANY", note, conn, now
            )
        if outcome.outcome == "NOT_FOUND":
            raise NotFoundError(f"engagementId: {outcome.reason}")
        if outcome.outcome == "REFUSED":
            raise UserInputError(f"engagementId: {outcome.reason}")
        await self._published([seq] if seq is not None else [])
        assert outcome.engagement is not None
        return outcome.engagement

    async def record_hours(
        self,
        caller: Caller,
        mission_id: str,
        employee_ref: str,
        hours: float,
        *,
        site: str | None = None,
        department: str | None = None,
        team: str | None = None,
        note: str | None = None,
        given_at: datetime | None = None,
    ) -> EngagementRecord:
        """Hours declared by the company for a mission no partner reports on: the employee's
        active engagement on it is COMPLETED with them, or a new COMPLETED one is recorded."""
        ref = checked_ref(employee_ref)
        if not hours or checked_hours(hours, "hours") is None:
            raise UserInputError("hours must be above zero")
        labels = label_values(site, department, team)
        mission_pk = await self._mission_pk(caller, mission_id, open_only=False)
        now = self.clock.now()
        if given_at is not None and given_at > now:
            raise UserInputError("givenOn: hours are declared once given, not in the future")
        completed = given_at or now
        async with self.engine.begin() as conn:
            listings = await listings_of(conn, mission_pk)
            active = await active_engagement(
                conn, caller.client_pk, ref, [listing.pk for listing in listings], sorted(ACTIVE)
            )
            if active is not None:
                outcome, seq = await self._move(
                    Owner(company_pk=caller.client_pk),
                    active.id,
                    Move(EngagementStatus.COMPLETED, hours),
                    "COMPANY",
                    note,
                    conn,
                    now,
                    completed,
                )
                if outcome.outcome == "REFUSED" or outcome.engagement is None:
                    raise UserInputError(f"hours: {outcome.reason}")
                record = outcome.engagement
            else:
                chosen = choose_listing(listings, caller.policy.partners, mission_pk)
                record, seq = await insert_engagement(
                    conn,
                    {
                        **labels,
                        **await mission_facts(conn, chosen.pk),
                        "employee_ref": ref,
                        "message": checked_text(note, "note", MESSAGE_MAX),
                        "id": new_engagement_id(),
                        "mission_pk": chosen.pk,
                        "partner_pk": chosen.partner_pk,
                        "company_pk": caller.client_pk,
                        "status": EngagementStatus.COMPLETED.value,
                        "source": "DECLARED",
                        "hours_given": hours,
                        "completed_at": completed,
                    },
                    "COMPANY",
                    now,
                )
        await self._published([seq] if seq is not None else [])
        return record
