"""Connectors driven by a declarative mapping, one per protocol the plumbing speaks.

`MappedConnector` reads everything a hand-written connector declares (request, paging, record
path, fields) from a `PartnerMapping`: the partner's own, stored with it, or the connector's
`default_mapping`. The generic `graphql`, `json-rest` and `xml-feed` connectors have no default:
a partner using one brings its mapping. A new protocol stays a small Python connector.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from typing import Any, ClassVar

import httpx

from connectors._errors import ConfigError
from connectors._graphql import GraphQLClient
from connectors._http import Http
from connectors._paging import (
    Coverage,
    LimitSkip,
    PageNumber,
    PageRequest,
    Paginator,
    SinceCursor,
    walk,
)
from connectors._reading import read_record
from connectors._xml import xml_records
from connectors.contract import Auth, Connector, ConnectorConfig, Outcome, PartnerFormat, RawRecord
from connectors.mapping import MappingError, PagingSpec, PartnerMapping, compiled

__all__ = ["GraphQLMapped", "JsonRestMapped", "MappedConnector", "XmlFeedMapped"]


def _dotted(path: str | None) -> tuple[str, ...]:
    return tuple(path.split(".")) if path else ()


def paginator(paging: PagingSpec) -> Paginator | None:
    """The paginator a mapping's `paging` describes; None for one document."""
    if paging.kind == "page-number":
        return PageNumber(
            page=paging.page,
            size=paging.size,
            first_page=paging.first_page,
            total=_dotted(paging.total),
        )
    if paging.kind == "limit-skip":
        return LimitSkip(limit=paging.limit, skip=paging.skip, total=_dotted(paging.total))
    if paging.kind == "since-cursor":
        return SinceCursor(
            param=paging.param, cursor_field=paging.cursor_field, more=_dotted(paging.more)
        )
    return None


class MappedConnector(Connector):
    """A connector whose request, paging and fields come from a `PartnerMapping`."""

    default_mapping: ClassVar[PartnerMapping | None] = None

    def __init__(self, config: ConnectorConfig) -> None:
        if not config.url.startswith(("http://", "https://")):
            raise ConfigError(f"{self.name}: the URL must be http(s), got {config.url!r}")
        mapping = self._mapping(config)
        if mapping.protocol is not self.format:
            raise MappingError(
                f"{self.name}: the mapping is for protocol {mapping.protocol}, and this "
                f"connector speaks {self.format}"
            )
        auth = mapping.auth
        self._auth: Auth = auth.kind if auth is not None else self.auth
        self._api_key_header = auth.header if auth is not None else self.api_key_header
        if self._auth in (Auth.API_KEY_HEADER, Auth.API_KEY_BASIC) and not config.api_key:
            raise ConfigError(f"{self.name}: this partner needs an api key; none is configured")
        self.config = config
        self.mapping = mapping
        self.date_order = config.date_order or mapping.date_order or self.default_date_order
        self._paginator = paginator(mapping.paging)
        records = compiled(mapping.records) if mapping.records else None
        self._records: Callable[[Any], Any] = (
            records.search if records is not None else (lambda body: body)
        )

    def _mapping(self, config: ConnectorConfig) -> PartnerMapping:
        if config.mapping is not None:
            return PartnerMapping.parse(config.mapping, source=f"{self.name}: mapping")
        if self.default_mapping is None:
            raise ConfigError(
                f"{self.name}: this connector reads the partner's mapping, and none is set "
                "(entraide-hub partners mapping set NAME FILE)"
            )
        return self.default_mapping

    @property
    def coverage(self) -> Coverage:
        return self._paginator.coverage if self._paginator is not None else Coverage.SNAPSHOT

    @property
    def endpoint(self) -> str:
        path = self.mapping.request.path
        return self.config.url.rstrip("/") + path if path else self.config.url

    def http(self, client: httpx.AsyncClient) -> Http:
        return self._http(client, self._auth, self._api_key_header)

    def normalise(self, raw: RawRecord) -> Outcome:
        return read_record(raw, self.mapping, self.date_order)

    def variables(self, page: PageRequest) -> dict[str, Any]:
        """The mapping's variables, the page's parameters (and options) in `page_variables`."""
        request = self.mapping.request
        variables = copy.deepcopy(request.variables)
        target = variables
        if request.page_variables:
            inner = variables.setdefault(request.page_variables, {})
            if not isinstance(inner, dict):
                raise MappingError(
                    f"{self.name}: request.variables.{request.page_variables} "
                    "must be an object to take the page parameters"
                )
            target = inner
        target.update(self.config.options)
        target.update(page)
        return variables

    async def fetch(
        self, client: httpx.AsyncClient, state: dict[str, Any]
    ) -> AsyncGenerator[RawRecord, None]:
        http = self.http(client)
        source = f"{self.name}: {self.endpoint}"
        request = self.mapping.request
        if self._paginator is None:
            async with http.stream(self.endpoint) as body:
                records = xml_records(
                    body,
                    tag=request.record_element or "",
                    root=request.root_element,
                    html_fields=frozenset(request.html_elements),
                    source=source,
                )
                async with aclosing(records):
                    async for record in records:
                        yield record
            return
        if self.mapping.protocol is PartnerFormat.GRAPHQL:
            graphql = GraphQLClient(http, self.endpoint)
            document = request.document or ""

            async def page(params: PageRequest) -> Any:
                return await graphql.execute(document, self.variables(params))

        else:

            async def page(params: PageRequest) -> Any:
                return await http.get_json(self.endpoint, params={**request.params, **params})

        pages = walk(
            self._paginator,
            page,
            records=self._records,
            state=state,
            page_size=self.config.page_size or self.mapping.paging.page_size or self.page_size,
            max_pages=self.config.max_pages,
            source=source,
        )
        async with aclosing(pages):
            async for items in pages:
                for record in await self.expand(http, items):
                    yield record


class GraphQLMapped(MappedConnector):
    """Any GraphQL partner, read through its mapping."""

    name = "graphql"
    title = "GraphQL API (declarative mapping)"
    format = PartnerFormat.GRAPHQL


class JsonRestMapped(MappedConnector):
    """Any JSON REST partner, read through its mapping."""

    name = "json-rest"
    title = "JSON REST API (declarative mapping)"
    format = PartnerFormat.JSON_REST


class XmlFeedMapped(MappedConnector):
    """Any XML feed, read through its mapping."""

    name = "xml-feed"
    title = "XML feed (declarative mapping)"
    format = PartnerFormat.XML_FEED
