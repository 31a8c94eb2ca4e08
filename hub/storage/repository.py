"""The hub's reads in one object: the catalogue (hub/storage/catalogue_reads.py) and the event
log (hub/storage/event_reads.py), over records built by hub/storage/rows.py."""

from __future__ import annotations

from hub.errors import FilterError
from hub.storage.catalogue_reads import CatalogueReads, FacetCount, Facets, SearchQuery
from hub.storage.event_reads import CursorExpired, EventLogReads, EventRow
from hub.storage.recommendations import RecommendationReads

__all__ = [
    "CursorExpired",
    "EventRow",
    "FacetCount",
    "Facets",
    "MissionRepository",
    "SearchQuery",
    "check_first",
]


class MissionRepository(CatalogueReads, EventLogReads, RecommendationReads):
    """Reads over one engine; each call takes its own connection from the pool. The caller's
    policy is applied here, so that every entry point sees the same restriction."""


def check_first(first: int | None, default: int, maximum: int) -> int:
    """`first` as asked, or the default; refused when negative or over the cap."""
    if first is None:
        return default
    if first < 0:
        raise FilterError(f"first must not be negative, got {first}")
    if first > maximum:
        raise FilterError(f"first must be at most {maximum}, got {first}")
    return first
