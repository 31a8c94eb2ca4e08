"""The HTTP edge: the app factory, the explorer, request rules, rate limits, persisted documents.

Only this package wires storage, auth, live delivery and the GraphQL schema together.
"""

from __future__ import annotations

__all__: list[str] = []
