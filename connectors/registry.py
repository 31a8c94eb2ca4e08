"""The registry: connector names, as the hub's partner settings and CLI spell them."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from connectors._errors import UnknownConnector
from connectors.api_engagement_api import ApiEngagementApi
from connectors.api_engagement_xml import ApiEngagementXml
from connectors.contract import Connector
from connectors.idealist import Idealist
from connectors.mapped import GraphQLMapped, JsonRestMapped, XmlFeedMapped
from connectors.volunteermatch import VolunteerMatch

__all__ = ["CONNECTORS", "connector_names", "get_connector"]

CONNECTORS: Mapping[str, type[Connector]] = MappingProxyType(
    {
        connector.name: connector
        for connector in (
            ApiEngagementXml,
            Idealist,
            VolunteerMatch,
            ApiEngagementApi,
            GraphQLMapped,
            JsonRestMapped,
            XmlFeedMapped,
        )
    }
)


def connector_names() -> list[str]:
    return sorted(CONNECTORS)


def get_connector(name: str) -> type[Connector]:
    """The connector class registered under `name`; an unknown name lists the valid ones."""
    try:
        return CONNECTORS[name]
    except KeyError:
        valid = ", ".join(connector_names())
        raise UnknownConnector(f"unknown connector {name!r}; valid names: {valid}") from None
