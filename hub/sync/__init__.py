"""Pulling partners: their settings, one sync run, and the scheduler that runs them."""

from __future__ import annotations

from hub.sync.partners import PartnerSettings, add_partner, load_partner, pulled_partners, redacted
from hub.sync.runner import SyncReport, SyncRunner, partner_lock
from hub.sync.scheduler import Scheduler

__all__ = [
    "PartnerSettings",
    "Scheduler",
    "SyncReport",
    "SyncRunner",
    "add_partner",
    "load_partner",
    "partner_lock",
    "pulled_partners",
    "redacted",
]
