"""Partners as operators configure them: connector, URL, interval, credentials (never logged)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from connectors import ConnectorConfig, DateOrder, RetryPolicy, get_connector
from connectors._errors import UnknownConnector
from hub.errors import UserInputError
from hub.storage import configure_partner, find_partner, pulled_partner_rows

__all__ = ["SECRET_KEYS", "PartnerSettings", "add_partner", "parse_interval", "redacted"]

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

    def connector_config(self) -> ConnectorConfig:
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
            retry=RetryPolicy(**retry) if retry else RetryPolicy(),
            options=config.get("options", {}),
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
) -> PartnerSettings:
    """Add (or reconfigure) a partner; a pulled partner needs a known connector and a URL."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,99}", name):
        raise UserInputError("partner names are lower-case letters, digits and dashes")
    if push_only:
        if connector or url:
            raise UserInputError("a --push-only partner has no --connector or --url")
    else:
        if not connector or not url:
            raise UserInputError("a pulled partner needs --connector and --url (or --push-only)")
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
    )


async def load_partner(engine: AsyncEngine, name: str) -> PartnerSettings | None:
    row = await find_partner(engine, name)
    return _settings(row) if row else None


async def pulled_partners(engine: AsyncEngine) -> list[PartnerSettings]:
    """Enabled partners with a connector, by name."""
    return [_settings(row) for row in await pulled_partner_rows(engine)]
