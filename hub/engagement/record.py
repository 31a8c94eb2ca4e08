"""An engagement as the store returns it: plain data, the contact details still sealed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hub.engagement.status import EngagementStatus

__all__ = ["EngagementRecord", "Listing"]


@dataclass(frozen=True, slots=True)
class EngagementRecord:
    pk: int
    id: str
    mission_pk: int
    mission_id: str
    mission_title: str
    partner_pk: int
    partner: str
    company_pk: int
    company: str  # the company's OAuth client id
    company_name: str
    employee_ref: str
    site: str | None
    department: str | None
    team: str | None
    status: EngagementStatus
    source: str
    message: str | None
    hours_planned: float | None
    hours_given: float | None
    start_at: datetime | None
    end_at: datetime | None
    completed_at: datetime | None
    cause: str | None
    skill: str | None
    organization_id: str | None
    organization_name: str | None
    link_token: str | None
    link_expires_at: datetime | None
    clicked_at: datetime | None
    contact_sealed: str | None
    contact_erased_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @property
    def state(self) -> dict[str, Any]:
        """What an event keeps of the engagement at that moment."""
        return {"status": self.status.value, "hoursGiven": self.hours_given}


@dataclass(frozen=True, slots=True)
class Listing:
    """One partner's listing of a mission, as a tracked link may lead to it."""

    pk: int
    partner_pk: int
    partner: str
    application_url: str | None
    tracking: dict[str, str] | None
    open: bool
