"""The ingest stages every mission takes, pulled or pushed: the pipeline (validate, sanitise,
map, geocode) and the write service (deduplication is decided in hub.catalogue.dedup and
stored by hub.storage.duplicates)."""

from __future__ import annotations

__all__: list[str] = []
