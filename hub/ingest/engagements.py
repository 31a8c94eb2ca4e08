"""The one write path for engagements: checks, then rows, history and events in one transaction,
published after commit (like missions, hub.ingest.service). Resolvers and the tracked-link route
only adapt their inputs to it."""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hub.catalogue.filters import Policy
from hub.clock import Clock
from hub.engagement import (
    ACTIVE,
    Contact,
    ContactCipher,
    EngagementRecord,
    EngagementStatus,
    Listing,
    Move,
    check_hours,
    new_token,
    refusal,
    tracked_url,
)
from hub.errors import NotFoundError, UserInputError
from hub.ingest.service import Publish
from hub.storage import append_audit
from hub.storage.engagements import (
    Owner,
    active_engagement,
    by_employee,
    by_id,
    by_token,
    change_engagement,
    contacts_kept_since,
    erase_contacts,
    insert_engagement,
    listings_of,
    mark_clicked,
    mission_facts,
    new_engagement_id,
    renew_link,
    set_costs,
)
from hub.storage.repository import MissionRepository

__all__ = ["Click", "EngagementWriter", "Interest", "ItemOutcome", "UpdateItem"]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_LABEL_MAX = 100
_REF_MAX = 200
_MESSAGE_MAX = 2000


class Caller(Protocol):
    """Who writes, as hub.auth.Caller says (this layer does not import hub.auth)."""

    @property
    def client_pk(self) -> int: ...
    @property
    def client_id(self) -> str: ...
    @property
    def partner(self) -> str | None: ...
    @property
    def policy(self) -> Policy: ...


@dataclass(frozen=True, slots=True)
class Interest:
    engagement: EngagementRecord
    link: str  # the tracked application link to give the employee


@dataclass(frozen=True, slots=True)
class UpdateItem:
    engagement_id: str
    status: EngagementStatus | None = None
    hours_given: float | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class ItemOutcome:
    engagement_id: str
    outcome: str  # UPDATED, UNCHANGED, REFUSED, NOT_FOUND
    reason: str | None = None
    engagement: EngagementRecord | None = None


@dataclass(frozen=True, slots=True)
class Click:
    """Where a tracked link leads, or why it leads nowhere (`status` is the HTTP status)."""

    url: str | None
    status: int
    reason: str | None = None


def _text(value: str | None, name: str, limit: int) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if len(value) > limit:
        raise UserInputError(f"{name} must be at most {limit} characters")
    return value or None


def _employee(ref: str) -> str:
    value = _text(ref, "employeeRef", _REF_MAX)
    if value is None:
        raise UserInputError("employeeRef must not be empty: the company's pseudonym for them")
    if value.startswith("erased-"):
        raise UserInputError("employeeRef may not start with 'erased-' (the hub's erasure mark)")
    return value


def _labels(site: str | None, department: str | None, team: str | None) -> dict[str, Any]:
    return {
        "site": _text(site, "site", _LABEL_MAX),
        "department": _text(department, "department", _LABEL_MAX),
        "team": _text(team, "team", _LABEL_MAX),
    }


def _hours(value: float | None, name: str) -> float | None:
    if problem := check_hours(value, name):
        raise UserInputError(problem)
    return value


def _choose(listings: Sequence[Listing], preferred: Sequence[str], mission_pk: int) -> Listing:
    """The listing a tracked link leads to: the company's preferred partner's first (its policy's
    partners, in order), then the one shown; open ones before closed ones."""
    rank = {name: i for i, name in enumerate(preferred)}
    order = sorted(
        range(len(listings)),
        key=lambda i: (not listings[i].open, rank.get(listings[i].partner, len(rank)), i),
    )
    if not order:
        raise NotFoundError(f"no listing of mission {mission_pk}")
    return listings[order[0]]


class EngagementWriter:
    def __init__(
        self,
        engine: AsyncEngine,
        clock: Clock,
        repository: MissionRepository,
        cipher: ContactCipher,
        *,
        link_base: str,
        link_ttl: timedelta,
        retention: timedelta,
        publish: Publish | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.repository = repository
        self.cipher = cipher
        self.link_base = link_base.rstrip("/")
        self.link_ttl = link_ttl
        self.retention = retention
        self.publish = publish

    async def _published(self, seqs: list[int]) -> None:
        if seqs and self.publish is not None:
            await self.publish(seqs)

    def link(self, token: str) -> str:
        return f"{self.link_base}/go/{token}"

    async def _mission_pk(self, caller: Caller, mission_id: str, *, open_only: bool) -> int:
        found = await self.repository.missions_by_ids([mission_id], caller.policy)
        mission = found.get(mission_id)
        if mission is None:
            raise NotFoundError(f"missionId: no mission {mission_id!r} that you may see")
        if open_only and mission.status.value != "OPEN":
            raise UserInputError(
                f"missionId: the mission is {mission.status.value}: it takes no new volunteers"
            )
        return mission.pk

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
            "employee_ref": _employee(employee_ref),
            "message": _text(message, "message", _MESSAGE_MAX),
            "hours_planned": _hours(hours_planned, "hoursPlanned"),
            **_labels(site, department, team),
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
                chosen = _choose(listings, caller.policy.partners, mission_pk)
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
        if contact.email is not None and not _EMAIL.match(contact.email):
            raise UserInputError("contact.email: not an email address")
        for name, value in (
            ("name", contact.name),
            ("email", contact.email),
            ("phone", contact.phone),
        ):
            _text(value, f"contact.{name}", 200)
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
                values["completed_at"] = now
        if move.hours_given is not None and move.hours_given != before.hours_given:
            values["hours_given"] = move.hours_given
        if not values:
            return ItemOutcome(engagement_id, "UNCHANGED", None, before), None
        after, seq = await change_engagement(
            conn, before, values, actor, now, _text(note, "note", _MESSAGE_MAX)
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
    ) -> EngagementRecord:
        """Hours declared by the company for a mission no partner reports on: the employee's
        active engagement on it is COMPLETED with them, or a new COMPLETED one is recorded."""
        ref = _employee(employee_ref)
        if not hours or _hours(hours, "hours") is None:
            raise UserInputError("hours must be above zero")
        labels = _labels(site, department, team)
        mission_pk = await self._mission_pk(caller, mission_id, open_only=False)
        now = self.clock.now()
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
                )
                if outcome.outcome == "REFUSED" or outcome.engagement is None:
                    raise UserInputError(f"hours: {outcome.reason}")
                record = outcome.engagement
            else:
                chosen = _choose(listings, caller.policy.partners, mission_pk)
                record, seq = await insert_engagement(
                    conn,
                    {
                        **labels,
                        **await mission_facts(conn, chosen.pk),
                        "employee_ref": ref,
                        "message": _text(note, "note", _MESSAGE_MAX),
                        "id": new_engagement_id(),
                        "mission_pk": chosen.pk,
                        "partner_pk": chosen.partner_pk,
                        "company_pk": caller.client_pk,
                        "status": EngagementStatus.COMPLETED.value,
                        "source": "DECLARED",
                        "hours_given": hours,
                        "completed_at": now,
                    },
                    "COMPANY",
                    now,
                )
        await self._published([seq] if seq is not None else [])
        return record

    async def erase_employee(self, company_pk: int, employee_ref: str) -> int:
        """The company's erasure request: the employee's contact details and messages go, and
        the reference becomes one the hub made up (the same on each of their engagements, so
        counts of distinct employees stay right). Counts and hours stay."""
        ref = _employee(employee_ref)
        now = self.clock.now()
        values = {
            "employee_ref": f"erased-{secrets.token_hex(12)}",
            "contact_sealed": None,
            "contact_erased_at": now,
            "message": None,
        }
        async with self.engine.begin() as conn:
            found = await by_employee(conn, company_pk, ref)
            seqs = await erase_contacts(conn, found, values, now)
        await self._published(seqs)
        return len(found)

    async def erase_expired_contacts(self) -> int:
        """Contact details kept longer than the retention after the engagement's last change
        are erased (the scheduler calls this; reads already hide them)."""
        now = self.clock.now()
        values = {"contact_sealed": None, "contact_erased_at": now}
        async with self.engine.begin() as conn:
            found = await contacts_kept_since(conn, now - self.retention)
            seqs = await erase_contacts(conn, found, values, now)
        await self._published(seqs)
        return len(found)

    async def read_contact(self, record: EngagementRecord, caller: Caller) -> Contact | None:
        """The contact details, for the partner whose listing it is; every read is audited."""
        if record.contact_sealed is None or caller.partner != record.partner:
            return None
        now = self.clock.now()
        if record.updated_at < now - self.retention:
            return None  # past retention: erased at the next sweep, never shown meanwhile
        contact = self.cipher.open(record.contact_sealed)
        await append_audit(
            self.engine,
            now,
            "engagement.contact_read",
            caller.client_id,
            {"engagement": record.id, "partner": record.partner},
        )
        return contact

    async def click(self, token: str) -> Click:
        """A tracked link followed: where it leads; the engagement's first click is counted."""
        now = self.clock.now()
        async with self.engine.begin() as conn:
            record = await by_token(conn, token)
            if record is None:
                return Click(None, 404, "This link is unknown.")
            if record.link_expires_at is None or record.link_expires_at <= now:
                return Click(None, 410, "This link has expired: ask your intranet for a new one.")
            listing = next(
                (
                    x
                    for x in await listings_of(conn, record.mission_pk)
                    if x.pk == record.mission_pk
                ),
                None,
            )
            target = listing.application_url if listing is not None else None
            if listing is None or target is None or not target.startswith(("https://", "http://")):
                return Click(None, 404, "This mission has no application page.")
            await mark_clicked(conn, record.pk, now)
        url = tracked_url(target, listing.tracking, company=record.company, engagement=record.id)
        return Click(url, 302)

    async def set_costs(
        self,
        company_pk: int,
        default: float | None,
        by_site: dict[str, float],
        by_department: dict[str, float],
        turnover: float | None,
    ) -> None:
        """Replace the company's hourly costs (and turnover, for the tax estimate's cap)."""
        entries: list[tuple[str, str, float]] = []
        for kind, label, amount in [
            ("DEFAULT", "", default),
            *(("SITE", k, v) for k, v in by_site.items()),
            *(("DEPARTMENT", k, v) for k, v in by_department.items()),
            ("TURNOVER", "", turnover),
        ]:
            if amount is None:
                continue
            if amount != amount or amount < 0:
                raise UserInputError(f"costs: amounts are zero or more, got {amount}")
            if kind != "TURNOVER" and amount > 10_000:
                raise UserInputError(f"costs: an hour costs at most 10000 EUR, got {amount}")
            entries.append((kind, _text(label, "label", _LABEL_MAX) or "", amount))
        async with self.engine.begin() as conn:
            await set_costs(conn, company_pk, entries, self.clock.now())
