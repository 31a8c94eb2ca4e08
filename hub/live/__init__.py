"""Live delivery: the event stream every replica reads, subscribers' matching, and the fan-out
of one execution to every socket of a group."""

from __future__ import annotations

__all__: list[str] = []
