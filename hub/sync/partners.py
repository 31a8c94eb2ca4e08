"""Partners as operators configure them: connector, URL, interval, credentials (never logged)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from connectors import (
    ConfigError,
    ConnectorConfig,
    DateOrder,
    PartnerMapping,
    RetryPolicy,
    get_connector,
)
from connectors._errors import UnknownConnector
from hub.errors import UserInputError
from hub.storage import configure_partner, find_partner, pulled_partner_rows
from hub.storage.partner_mappings import set_partner_mapping

__all__ = [
    "SECRET_KEYS",
    "PartnerSettings",
    "add_partner",
    "parse_interval",
    "redacted",
    "set_mapping",
    "validated_mapping",
]

SECRET_KEYS = ("api_key", "password")
_INTERVAL = re.compile(r"^(\d+)\s*([smhd])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_interval(text: str) -> int:
    """'15m' -> 900 seconds."""
    match = _INTERVAL.match(text.strip().lower())
    if match is None or int(match[1]) == 0:
        raise UserInputError(
            f"--every: expected a duration such as 30s, 15m, 6h or 1d, got {text!r}"
        )
    return int(match[1]) * _UNIT_SECONDS[match[2]]


def redacted(config: dict[str, Any]) -> dict[str, Any]:
    """The partner's configuration with its secrets masked, for listings and logs."""
    return {k: ("***" if k in SECRET_KEYS and v else v) for k, v in config.items()}


@dataclass(frozen=True, slots=True)
class PartnerSettings:
    pk: int
    name: str
    connector: str | None
    url: str | None
    config: dict[str, Any]
    interval_seconds: int | None
    state: dict[str, Any]
    enabled: bool
    push_only: bool
    mapping: dict[str, Any] | None = None  # the partner's declarative mapping; None: default
    mapping_version: int = 0

    def connector_config(self, max_feed_bytes: int = 2**30) -> ConnectorConfig:
        """The connector's settings from the partner's; the largest body read is the partner's
        `max_feed_bytes` if it has one, else `max_feed_bytes` (the hub's setting)."""
        config = self.config
        order = config.get("date_order")
        retry = config.get("retry")
        return ConnectorConfig(
            url=self.url or "",
            api_key=config.get("api_key"),
            username=config.get("username"),
            password=config.get("password"),
            date_order=DateOrder(order) if order else None,
            page_size=config.get("page_size"),
            timeout=float(config.get("timeout", 30.0)),
            max_feed_bytes=int(config.get("max_feed_bytes") or max_feed_bytes),
            retry=RetryPolicy(**retry) if retry else RetryPolicy(),
            options=config.get("options", {}),
            mapping=self.mapping,
        )


async def add_partner(
    engine: AsyncEngine,
    name: str,
    *,
    connector: str | None,
    url: str | None,
    every: str | None,
    push_only: bool,
    config: dict[str, Any],
    now: datetime,
    display_name: str | None = None,
    mapping: object = None,
) -> PartnerSettings:
    """Add (or reconfigure) a partner; a pulled partner needs a known connector and a URL.

    `mapping` (a loaded YAML or JSON document) is validated against the connector before
    anything is stored, and then stored as the partner's mapping (a new version)."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,99}", name):
        raise UserInputError("partner names are lower-case letters, digits and dashes")
    if push_only:
        if connector or url:
            raise UserInputError("a --push-only partner has no --connector or --url")
    else:
        if not connector or not url:
            raise UserInputError("a pulled partner needs --connector and --url (or --push-only)")
        checked = validated_mapping(connector, url, mapping, config) if mapping else None
        existing = await load_partner(engine, name) if checked is None else None
        if existing is not None and existing.mapping is not None:
            try:  # reconfigured without --mapping: the stored one must fit the connector
                validated_mapping(connector, url, existing.mapping, config)
            except UserInputError as exc:
                raise UserInputError(
                    f"{name}'s stored mapping (version {existing.mapping_version}) does not "
                    f"fit: {exc}; give the new one with --mapping"
                ) from exc
        elif checked is None:
            try:
                kind = get_connector(connector)
            except UnknownConnector as exc:
                raise UserInputError(str(exc)) from exc
            try:
                kind(ConnectorConfig(url=url, api_key=config.get("api_key")))
            except Exception as exc:  # the connector's own check of its settings
                raise UserInputError(str(exc)) from exc
    interval = parse_interval(every) if every else (None if push_only else 900)
    await configure_partner(
        engine,
        name,
        now,
        display_name=display_name,
        connector=connector,
        url=url,
        push_only=push_only,
        interval_seconds=interval,
        config={k: v for k, v in config.items() if v is not None},
    )
    if mapping and not push_only:
        await set_partner_mapping(engine, name, checked or {}, now)
    found = await load_partner(engine, name)
    assert found is not None
    return found


def _settings(row: Any) -> PartnerSettings:
    return PartnerSettings(
        pk=row["pk"],
        name=row["name"],
        connector=row["connector"],
        url=row["url"],
        config=dict(row["config"] or {}),
        interval_seconds=row["interval_seconds"],
        state=dict(row["state"] or {}),
        enabled=bool(row["enabled"]),
        push_only=bool(row["push_only"]),
        mapping=dict(row["mapping"]) if row["mapping"] else None,
        mapping_version=int(row["mapping_version"] or 0),
    )


async def load_partner(engine: AsyncEngine, name: str) -> PartnerSettings | None:
    row = await find_partner(engine, name)
    return _settings(row) if row else None


async def pulled_partners(engine: AsyncEngine) -> list[PartnerSettings]:
    """Enabled partners with a connector, by name."""
    return [_settings(row) for row in await pulled_partner_rows(engine)]


def validated_mapping(
    connector: str, url: str | None, document: object, config: dict[str, Any]
) -> dict[str, Any]:
    """The mapping as it will be stored, once the model and the connector both accept it."""
    try:
        kind = get_connector(connector)
        mapping = PartnerMapping.parse(document)
        stored = mapping.document()
        kind(
            ConnectorConfig(
                url=url or "https://partner.invalid",
                api_key=config.get("api_key"),
                mapping=stored,
            )
        )
    except (UnknownConnector, ConfigError) as exc:
        raise UserInputError(str(exc)) from exc
    return stored


async def set_mapping(
    engine: AsyncEngine, name: str, document: object, now: datetime
) -> PartnerSettings:
    """Validate and store a partner's mapping; its version goes up by one."""
    partner = await load_partner(engine, name)
    if partner is None:
        raise UserInputError(f"no partner named {name!r} (`partners add` first)")
    if not partner.connector:
        raise UserInputError(f"{name} is a push-only partner: it has no connector to map")
    stored = validated_mapping(partner.connector, partner.url, document, partner.config)
    await set_partner_mapping(engine, name, stored, now)
    found = await load_partner(engine, name)
    assert found is not None
    return found
