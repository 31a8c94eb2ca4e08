"""A dry run of one partner: one page through its mapping and the pipeline, nothing written."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import Enum
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors import Close, ConnectorError, get_connector
from connectors._errors import UnknownConnector
from hub.catalogue.model import MissionDraft, Refusal
from hub.catalogue.taxonomy import LabelMap
from hub.errors import UserInputError
from hub.ingest.pipeline import prepare
from hub.storage import label_map
from hub.sync.partners import load_partner

__all__ = ["MAX_LIMIT", "DryRun", "dry_run"]

MAX_LIMIT = 500  # one page: a dry run is a look, not a pull


@dataclass(slots=True)
class DryRun:
    """What a sync would make of the partner's first records; JSON-able with `document()`."""

    partner: str
    connector: str
    mapping_version: int
    records: list[dict[str, Any]] = field(default_factory=list)
    refused: list[dict[str, Any]] = field(default_factory=list)
    closed: list[dict[str, Any]] = field(default_factory=list)
    unmapped: dict[str, list[str]] = field(default_factory=lambda: {"causes": [], "skills": []})
    error: str | None = None

    def document(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _plain(value: Any) -> Any:
    """A draft's value as JSON: enums by value, dates in ISO 8601, dataclasses as objects."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


async def dry_run(
    engine: AsyncEngine, http: httpx.AsyncClient, name: str, *, limit: int = 20
) -> DryRun:
    """Read up to `limit` records of `name` (one page of that size) from the start, as a sync
    would, and say what each becomes. Reads the partner's settings and label mappings; writes
    nothing: no sync run, no state, no mission, no refusal count."""
    if not 1 <= limit <= MAX_LIMIT:
        raise UserInputError(f"--limit must be between 1 and {MAX_LIMIT}, got {limit}")
    partner = await load_partner(engine, name)
    if partner is None:
        raise UserInputError(f"no partner named {name!r}")
    if not partner.connector:
        raise UserInputError(f"{name} is a push-only partner: there is nothing to pull")
    try:
        kind = get_connector(partner.connector)
        connector = kind(replace(partner.connector_config(), page_size=limit))
    except (UnknownConnector, ConnectorError) as exc:
        raise UserInputError(str(exc)) from exc
    async with engine.connect() as conn:  # the operator's label mappings, as a sync uses
        labels = await label_map(conn, partner.pk)
    report = DryRun(partner.name, partner.connector, partner.mapping_version)
    seen = 0
    try:
        async with connector.run(http, {}) as run:
            async for outcome in run:
                seen += 1
                _record(report, outcome, labels)
                if seen >= limit:
                    break
    except ConnectorError as exc:
        report.error = f"{type(exc).__name__}: {exc}"
    return report


def _record(report: DryRun, outcome: MissionDraft | Refusal | Close, labels: LabelMap) -> None:
    if isinstance(outcome, Close):
        report.closed.append({"external_id": outcome.external_id, "reason": outcome.reason})
        return
    prepared = outcome if isinstance(outcome, Refusal) else prepare(outcome, labels)
    if isinstance(prepared, Refusal):
        report.refused.append({"external_id": prepared.external_id, "reason": prepared.reason})
        return
    draft = _plain(prepared.draft)
    draft.update(causes=prepared.causes, skills=prepared.skills)
    report.records.append(draft)
    for kind in ("causes", "skills"):
        for label in prepared.raw.get(f"unmapped_{kind}", ()):
            if label not in report.unmapped[kind]:
                report.unmapped[kind].append(label)
