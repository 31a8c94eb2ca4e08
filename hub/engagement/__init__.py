"""The engagement loop's rules, free of storage and transport: statuses and the moves between
them, tracked links, contact sealing, and the CSR report with its valuation."""

from hub.engagement.contact import Contact, ContactCipher, ContactUnreadable
from hub.engagement.links import new_token, tracked_url
from hub.engagement.record import EngagementRecord, Listing
from hub.engagement.report import Dimension, Fact, Figures, Group, Report, build_report
from hub.engagement.status import (
    ACTIVE,
    FINAL,
    MAX_HOURS,
    EngagementStatus,
    Move,
    check_hours,
    refusal,
)
from hub.engagement.valuation import Costs, TaxRules, money, tax_estimate

__all__ = [
    "ACTIVE",
    "FINAL",
    "MAX_HOURS",
    "Contact",
    "ContactCipher",
    "ContactUnreadable",
    "Costs",
    "Dimension",
    "EngagementRecord",
    "EngagementStatus",
    "Fact",
    "Figures",
    "Group",
    "Listing",
    "Move",
    "Report",
    "TaxRules",
    "build_report",
    "check_hours",
    "money",
    "new_token",
    "refusal",
    "tax_estimate",
    "tracked_url",
]
