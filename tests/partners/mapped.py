"""The generic json-rest and xml-feed connectors, tested against API Engagement's simulated API
and feed through the mapping files in data/: the same missions as the built-in connectors read,
declared instead of coded."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import yaml

from connectors import ConnectorConfig
from tests.partners.api_engagement_api import ApiEngagementApiPartner
from tests.partners.api_engagement_feed import ApiEngagementFeed

__all__ = ["MappedFeed", "MappedRest", "mapping_file"]

DATA = Path(__file__).parent / "data"


def mapping_file(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DATA / name).read_text("utf-8"))
    return loaded


class MappedRest(ApiEngagementApiPartner):
    connector_name = "json-rest"

    def config(self) -> ConnectorConfig:
        mapping = mapping_file("api-engagement-rest.yaml")
        return dataclasses.replace(super().config(), mapping=mapping)

    def bad_credentials(self) -> ConnectorConfig:
        mapping = mapping_file("api-engagement-rest.yaml")
        return dataclasses.replace(super().bad_credentials(), mapping=mapping)


class MappedFeed(ApiEngagementFeed):
    connector_name = "xml-feed"

    def config(self) -> ConnectorConfig:
        mapping = mapping_file("api-engagement-feed.yaml")
        return dataclasses.replace(super().config(), mapping=mapping)

    def bad_credentials(self) -> ConnectorConfig:
        mapping = mapping_file("api-engagement-feed.yaml")
        return dataclasses.replace(super().bad_credentials(), mapping=mapping)
