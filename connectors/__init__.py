"""Partner connectors: one module per partner format, turning partner records into mission drafts.

A connector knows `hub.model` only; it never imports storage or the GraphQL layer.
"""

from __future__ import annotations

__all__: list[str] = []
