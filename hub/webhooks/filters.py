"""A webhook's MissionFilter as JSON, to keep with the endpoint and read back for each event."""

from __future__ import annotations

import dataclasses
import enum
from datetime import datetime
from typing import Any

from hub.catalogue.filters import MissionFilter, Near
from hub.catalogue.model import EngagementType, MissionStatus, Remote

__all__ = ["filter_from_json", "filter_to_json"]

_ENUMS: dict[str, type[enum.Enum]] = {
    "remote": Remote,
    "engagement_types": EngagementType,
    "status": MissionStatus,
}
_DATES = ("available_from", "available_until", "updated_since")


def filter_to_json(value: MissionFilter) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field in dataclasses.fields(value):
        item = getattr(value, field.name)
        if isinstance(item, tuple):
            item = [v.value if isinstance(v, enum.Enum) else v for v in item]
        elif isinstance(item, datetime):
            item = item.isoformat()
        elif isinstance(item, Near):
            item = dataclasses.asdict(item)
        out[field.name] = item
    return out


def filter_from_json(value: dict[str, Any]) -> MissionFilter:
    values: dict[str, Any] = {}
    for name, item in value.items():
        if isinstance(item, list):
            kind = _ENUMS.get(name)
            item = tuple(kind(v) for v in item) if kind else tuple(item)
        elif name in _DATES and item is not None:
            item = datetime.fromisoformat(item)
        elif name == "near" and item is not None:
            item = Near(**item)
        values[name] = item
    return MissionFilter(**values)
