"""An engagement's life: its statuses, the moves between them, and what each move needs.

    INTERESTED ─► APPLIED ─► ACCEPTED ─► COMPLETED
        │            │           ├─────► NO_SHOW
        └────────────┴───────────┴─────► DECLINED | WITHDRAWN

Steps may be skipped forwards (a partner that accepts an interest at once), never taken back:
COMPLETED, DECLINED, WITHDRAWN and NO_SHOW are final. Hours are given from ACCEPTED on, and a
COMPLETED engagement needs some: that is what the company reports on.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = [
    "ACTIVE",
    "FINAL",
    "MAX_HOURS",
    "EngagementStatus",
    "Move",
    "check_hours",
    "refusal",
]

# More than a full-time year (1,607 hours in France) on one engagement is a typing mistake.
MAX_HOURS = 2000.0


class EngagementStatus(enum.StrEnum):
    INTERESTED = "INTERESTED"
    APPLIED = "APPLIED"
    ACCEPTED = "ACCEPTED"
    COMPLETED = "COMPLETED"
    DECLINED = "DECLINED"
    WITHDRAWN = "WITHDRAWN"
    NO_SHOW = "NO_SHOW"


FINAL = frozenset(
    {
        EngagementStatus.COMPLETED,
        EngagementStatus.DECLINED,
        EngagementStatus.WITHDRAWN,
        EngagementStatus.NO_SHOW,
    }
)
ACTIVE = frozenset(EngagementStatus) - FINAL
_LINE = (EngagementStatus.INTERESTED, EngagementStatus.APPLIED, EngagementStatus.ACCEPTED)
_WITH_HOURS = frozenset({EngagementStatus.ACCEPTED, EngagementStatus.COMPLETED})


@dataclass(frozen=True, slots=True)
class Move:
    """A change asked for: a status (None keeps it) and hours given (None keeps them)."""

    status: EngagementStatus | None = None
    hours_given: float | None = None


def check_hours(hours: float | None, name: str = "hours") -> str | None:
    """Why these hours cannot be right, or None."""
    if hours is None:
        return None
    if hours != hours or hours < 0:  # NaN or negative
        return f"{name} must be zero or more, got {hours}"
    if hours > MAX_HOURS:
        return f"{name} must be at most {MAX_HOURS:g} for one engagement, got {hours}"
    return None


def _legal(current: EngagementStatus, target: EngagementStatus) -> bool:
    if current == target:
        return True
    if current in FINAL:
        return False
    if target in _LINE:
        return _LINE.index(target) > _LINE.index(current)
    if target is EngagementStatus.NO_SHOW:
        return current is EngagementStatus.ACCEPTED
    return True  # COMPLETED, DECLINED, WITHDRAWN from any active status


def refusal(current: EngagementStatus, hours_now: float | None, move: Move) -> str | None:
    """Why `move` may not be made on an engagement in `current` with `hours_now` given, or None
    when it may (asking for what already is is allowed: updates are idempotent)."""
    if problem := check_hours(move.hours_given, "hoursGiven"):
        return problem
    target = move.status or current
    if not _legal(current, target):
        if current in FINAL:
            return f"the engagement is {current.value}, a final status: it cannot become {target}"
        return f"an engagement cannot go back from {current.value} to {target.value}"
    hours = move.hours_given if move.hours_given is not None else hours_now
    if move.hours_given is not None and target not in _WITH_HOURS:
        return f"hours are given from ACCEPTED on; the engagement would be {target.value}"
    if target is EngagementStatus.COMPLETED and not hours:
        return "COMPLETED needs the hours given (hoursGiven above zero)"
    if current is EngagementStatus.COMPLETED and move.hours_given is not None and not hours:
        return "a COMPLETED engagement keeps some hours given: hoursGiven must be above zero"
    return None
