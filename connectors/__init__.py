"""Partner connectors: one module per partner format, turning partner records into mission drafts.

A connector knows `hub.catalogue.model` only; it never imports storage or the GraphQL layer. The
hub picks a connector by name (`get_connector`), builds it from the partner's `ConnectorConfig`,
and reads one `Run` of outcomes per pull; see `Connector` for the contract. A partner's
declarative mapping (`PartnerMapping`) drives a `MappedConnector`: the generic `graphql`,
`json-rest` and `xml-feed`, and built-ins written as a default mapping.
"""

from __future__ import annotations

from connectors._errors import (
    AuthError,
    ConfigError,
    ConnectorError,
    FatalError,
    FeedError,
    GraphQLError,
    RetriableError,
    UnknownConnector,
)
from connectors._http import RetryPolicy
from connectors._paging import Coverage, LimitSkip, PageNumber, Paginator, SinceCursor
from connectors._parse import DateOrder
from connectors.contract import (
    Auth,
    Close,
    Connector,
    ConnectorConfig,
    FetchResult,
    Outcome,
    PartnerFormat,
    RawRecord,
    Refused,
    Run,
)
from connectors.mapped import MappedConnector
from connectors.mapping import MappingError, PartnerMapping
from connectors.registry import CONNECTORS, connector_names, get_connector

__all__ = [
    "CONNECTORS",
    "Auth",
    "AuthError",
    "Close",
    "ConfigError",
    "Connector",
    "ConnectorConfig",
    "ConnectorError",
    "Coverage",
    "DateOrder",
    "FatalError",
    "FeedError",
    "FetchResult",
    "GraphQLError",
    "LimitSkip",
    "MappedConnector",
    "MappingError",
    "Outcome",
    "PageNumber",
    "Paginator",
    "PartnerFormat",
    "PartnerMapping",
    "RawRecord",
    "Refused",
    "RetriableError",
    "RetryPolicy",
    "Run",
    "SinceCursor",
    "UnknownConnector",
    "connector_names",
    "get_connector",
]
