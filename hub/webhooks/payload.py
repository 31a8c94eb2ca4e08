"""A delivery's body: the subscription event's JSON (cursor, type, occurredAt, mission).

The mission is written with the GraphQL field names (camelCase) of the `Mission` type; the
hub's internal fields (keys, raw partner record, sync health) stay out.
"""

from __future__ import annotations

import dataclasses
import enum
from datetime import datetime
from typing import Any

from hub.catalogue.records import MissionRecord

__all__ = ["event_payload", "mission_json"]

_INTERNAL = frozenset(
    {
        "pk",
        "raw",
        "distance_km",
        "is_duplicate",
        "listings",
        "connector",
        "push_only",
        "enabled",
        "mission_count",
        "last_sync",
        "health",
        "last_success_at",
        "last_error",
        "consecutive_failures",
    }
)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _json(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            _camel(f.name): _json(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.name not in _INTERNAL
        }
    if isinstance(value, list | tuple):
        return [_json(item) for item in value]
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def mission_json(mission: MissionRecord) -> dict[str, Any]:
    out: dict[str, Any] = _json(mission)
    return out


def event_payload(
    cursor: str, kind: str, occurred_at: datetime, mission: MissionRecord
) -> dict[str, Any]:
    return {
        "cursor": cursor,
        "type": kind,
        "occurredAt": occurred_at.isoformat(),
        "mission": mission_json(mission),
    }
