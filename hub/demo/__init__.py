"""The demo catalogue: deterministic missions from three partners, and loading them."""

from __future__ import annotations

__all__: list[str] = []
