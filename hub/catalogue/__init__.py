"""The catalogue's vocabulary: the unified mission, records, filters, taxonomies, text folding,
offline geocoding and hours. Pure code: no storage, no HTTP, no GraphQL."""

from __future__ import annotations

__all__: list[str] = []
