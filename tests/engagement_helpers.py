"""Shared by the engagement tests: a mission to engage on, and the operations they send."""

from __future__ import annotations

from typing import Any

from cryptography.fernet import Fernet

from hub.catalogue.model import MissionDraft, OrganizationDraft, Remote
from hub.settings import Settings

__all__ = [
    "EXPRESS",
    "REPORT",
    "UPDATE",
    "engagement_settings",
    "mission",
]

EXPRESS = """
mutation($missionId: ID!, $ref: String!, $site: String, $contact: ContactInput) {
  expressInterest(missionId: $missionId, employeeRef: $ref, site: $site, contact: $contact,
                  message: "Disponible le jeudi") {
    trackedLink linkExpiresAt
    engagement { id status missionId partner employeeRef site hasContact }
  }
}
"""
UPDATE = """
mutation($items: [EngagementUpdateInput!]!) {
  updateEngagements(items: $items) {
    engagementId outcome reason engagement { id status hoursGiven }
  }
}
"""
REPORT = """
query($from: Date!, $to: Date!, $groupBy: [EngagementReportDimension!]) {
  engagementReport(from: $from, to: $to, groupBy: $groupBy) {
    groups { key { dimension value } label
             figures { engagements hoursGiven value eligibleValue clicks distinctEmployees
                       byStatus { status count } } }
    totals { engagements hoursGiven value eligibleValue clicks distinctEmployees
             distinctOrganizations byStatus { status count } }
    taxReduction { isEstimate amount hourlyCeiling }
    chart { labels series { name data } }
  }
}
"""


def engagement_settings(settings: Settings, **more: Any) -> Settings:
    """The test settings with a contact key (the hub refuses contact details without one)."""
    return settings.model_copy(update={"contact_keys": [Fernet.generate_key().decode()], **more})


def mission(external_id: str = "M1", **changes: Any) -> MissionDraft:
    values: dict[str, Any] = {
        "external_id": external_id,
        "title": f"Mentorat {external_id}",
        "application_url": f"https://partner.example/apply/{external_id}?lang=fr",
        "remote": Remote.FULL,
        "causes": ["education"],
        "skills": ["gestion de projet"],
        "organization": OrganizationDraft(name="Tremplin Jeunes", rna="W751000099"),
        **changes,
    }
    return MissionDraft(**values)
