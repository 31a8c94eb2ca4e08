"""The ingest stages every mission takes, pulled or pushed: the pipeline (validate, sanitise,
map, geocode), deduplication, and the write service."""

from __future__ import annotations

__all__: list[str] = []
