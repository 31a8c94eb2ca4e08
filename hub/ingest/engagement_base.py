"""The engagement write service's base: who writes, what items and outcomes look like, the
checks every write shares, and the upkeep writes (erasure, retention, contact reads, tracked-link
clicks, hourly costs). hub.ingest.engagements adds the loop's moves."""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from hub.catalogue.filters import Policy
from hub.clock import Clock
from hub.engagement import (
    Contact,
    ContactCipher,
    ContactUnreadable,
    EngagementRecord,
    EngagementStatus,
    Listing,
    check_hours,
    tracked_url,
)
from hub.errors import NotFoundError, UserInputError
from hub.ingest.service import Publish
from hub.storage import append_audit
from hub.storage.engagements import (
    by_employee,
    by_token,
    contacts_kept_since,
    erase_contacts,
    listings_of,
    mark_clicked,
    reseal_contacts,
    set_costs,
)

__all__ = [
    "EMAIL",
    "MESSAGE_MAX",
    "Caller",
    "Click",
    "EngagementBase",
    "Interest",
    "ItemOutcome",
    "UpdateItem",
    "checked_hours",
    "checked_ref",
    "checked_text",
    "choose_listing",
    "label_values",
]

logger = logging.getLogger("hub.engagements")

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_LABEL_MAX = 100
_REF_MAX = 200
MESSAGE_MAX = 2000


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


def checked_text(value: str | None, name: str, limit: int) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if len(value) > limit:
        raise UserInputError(f"{name} must be at most {limit} characters")
    return value or None


def checked_ref(ref: str) -> str:
    value = checked_text(ref, "employeeRef", _REF_MAX)
    if value is None:
        raise UserInputError("employeeRef must not be empty: the company's pseudonym for them")
    if value.startswith("erased-"):
        raise UserInputError("employeeRef may not start with 'erased-' (the hub's erasure mark)")
    return value


def label_values(site: str | None, department: str | None, team: str | None) -> dict[str, Any]:
    return {
        "site": checked_text(site, "site", _LABEL_MAX),
        "department": checked_text(department, "department", _LABEL_MAX),
        "team": checked_text(team, "team", _LABEL_MAX),
    }


def checked_hours(value: float | None, name: str) -> float | None:
    if problem := check_hours(value, name):
        raise UserInputError(problem)
    return value


def choose_listing(
    listings: Sequence[Listing], preferred: Sequence[str], mission_pk: int
) -> Listing:
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


class EngagementBase:
    def __init__(
        self,
        engine: AsyncEngine,
        clock: Clock,
        cipher: ContactCipher,
        *,
        link_base: str,
        link_ttl: timedelta,
        retention: timedelta,
        publish: Publish | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock
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

    async def erase_employee(self, company_pk: int, employee_ref: str) -> int:
        """The company's erasure request: the employee's contact details and messages go, and
        the reference becomes one the hub made up (the same on each of their engagements, so
        counts of distinct employees stay right). Counts and hours stay."""
        ref = checked_ref(employee_ref)
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
        try:
            contact = self.cipher.open(record.contact_sealed)
        except ContactUnreadable:  # its key was dropped before a reseal: say so, show nothing
            logger.warning("engagement %s: contact sealed with a key no longer set", record.id)
            return None
        await append_audit(
            self.engine,
            now,
            "engagement.contact_read",
            caller.client_id,
            {"engagement": record.id, "partner": record.partner},
        )
        return contact

    async def reseal_contacts(self) -> int:
        """Seal every kept contact with the first key, so that older keys can be dropped."""
        async with self.engine.begin() as conn:
            return await reseal_contacts(conn, self.cipher.rotate)

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
            entries.append((kind, checked_text(label, "label", _LABEL_MAX) or "", amount))
        async with self.engine.begin() as conn:
            await set_costs(conn, company_pk, entries, self.clock.now())
