"""The connector contract: what a partner connector declares, and what one pull gives back."""

from __future__ import annotations

import abc
import enum
import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, MutableSet
from contextlib import aclosing
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, ClassVar, TypeAlias

import httpx

from connectors._errors import ConfigError
from connectors._graphql import GraphQLClient
from connectors._http import Http, RetryPolicy
from connectors._paging import Coverage, PageRequest, Paginator, walk
from connectors._parse import DateOrder, scalar_text
from connectors._xml import xml_records
from hub.catalogue.model import MissionDraft, Refusal

__all__ = [
    "Auth",
    "Close",
    "Connector",
    "ConnectorConfig",
    "FetchResult",
    "Outcome",
    "PartnerFormat",
    "RawRecord",
    "Refused",
    "Run",
]

log = logging.getLogger("connectors")

RawRecord: TypeAlias = Any
"""One partner record as received: a JSON value, or an XML element turned into dicts, lists and
strings. Typed Any on purpose: it is whatever the partner sent, and `normalise` checks it."""


Refused = Refusal
"""A record that cannot become a mission: the hub's one refusal type (hub.catalogue.model), under
the name connectors have always used; the pipeline takes it as it is."""


@dataclass(frozen=True, slots=True)
class Close:
    """The partner says this mission is over: an unpublished listing, a deleted record."""

    external_id: str
    reason: str


Outcome: TypeAlias = MissionDraft | Refused | Close


class PartnerFormat(enum.StrEnum):
    XML_FEED = "xml-feed"  # one document, streamed: a complete snapshot when read to the end
    JSON_REST = "json-rest"  # JSON pages behind a paginator
    GRAPHQL = "graphql"  # a GraphQL query, paged through its variables


class Auth(enum.StrEnum):
    NONE = "none"
    BASIC = "basic"  # HTTP Basic with username and password, when they are configured
    API_KEY_HEADER = "api-key-header"  # the key in `api_key_header`; required
    API_KEY_BASIC = "api-key-basic"  # the key as the Basic username, no password; required


@dataclass(frozen=True, slots=True)
class ConnectorConfig:
    """One partner's settings, as the hub stores them (secrets never appear in repr)."""

    url: str  # the API's base URL, or the feed's own URL
    api_key: str | None = field(default=None, repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    date_order: DateOrder | None = None  # how this partner writes slash dates; None: default
    page_size: int | None = None  # None: the connector's default
    timeout: float = 30.0  # seconds, for each of connect, read, write, pool
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    max_pages: int = 10_000
    max_feed_bytes: int = 2**30  # a decompression bomb stops here, not in the disk or memory
    concurrency: int = 4  # detail requests in flight, for list-then-detail partners
    options: Mapping[str, Any] = field(default_factory=dict)  # connector-specific extras
    # A declarative mapping (connectors.mapping) as stored, for connectors that read one;
    # None: the connector's own default.
    mapping: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What a pull that ran to the end covered, and the state to hand to the next pull."""

    coverage: Coverage
    state: dict[str, Any]
    fetched: int = 0
    drafts: int = 0
    refused: int = 0
    closed: int = 0
    duplicates: int = 0

    @property
    def complete_snapshot(self) -> bool:
        """True when every mission the partner publishes was read: absent ones are closed."""
        return self.coverage is Coverage.SNAPSHOT


class Connector(abc.ABC):
    """A partner connector: class attributes that declare the partner, and one pure `normalise`.

    A connector turns one partner's records into the hub's outcomes. It declares where the
    records are and how to reach them; the base class does the plumbing, written once in this
    package: HTTP with timeouts and retries (429 and 5xx with backoff, jitter and Retry-After),
    authentication, pagination with loop detection, streaming XML through a safe parser, GraphQL
    errors inside a 200, duplicate ids. It never imports storage or the GraphQL layer.

    Class attributes (the declaration):

    - `name`: the registry name, e.g. "api-engagement-xml"; `title`: a human one.
    - `format`: a `PartnerFormat`: XML_FEED (one streamed document), JSON_REST or GRAPHQL.
    - `auth`: an `Auth`; `api_key_header` names the header for API_KEY_HEADER.
    - `path`: appended to the configured URL ("" for a feed, whose URL is the whole address).
    - `paginator`: a `Paginator` (`PageNumber`, `LimitSkip`, `SinceCursor`); None for a feed.
      Its `coverage` says what a pull read to the end means (see `Coverage`): a feed is a
      SNAPSHOT, offset and page-number paging a FULL_PASS, a since-cursor INCREMENTAL.
    - `records`: the path to the list of records in a page, e.g. ("data",).
    - `page_size`: the default page size (`ConnectorConfig.page_size` overrides it).
    - `default_date_order`: how the partner writes slash dates (`ConnectorConfig.date_order`
      overrides it); read as `self.date_order`.
    - XML feeds: `record_tag` (the repeated element), `root_tag` (the document element, checked
      so that an HTML error page served with 200 is not read as an empty snapshot) and
      `html_fields` (elements whose HTML may come unescaped, outside CDATA).
    - GraphQL: `query`, the operation; `variables(page)` builds its variables for one page.

    Hooks:

    - `normalise(raw) -> MissionDraft | Refused | Close`: required, pure (no I/O, no clock, no
      state) and total: a record it cannot read is `Refused(external_id, reason)`, never an
      exception. If it raises anyway, the run refuses that record with the error as reason and
      logs it, so that one bug does not stop a partner's whole pull. `causes` and `skills` may
      keep the partner's raw labels: the pipeline maps them onto the taxonomy.
    - `fetch(client, state) -> AsyncGenerator[RawRecord, None]`: provided. Override only for a
      protocol the plumbing does not speak. It may update `state` (a JSON-able dict) in place.
    - `expand(http, page) -> list[RawRecord]`: provided (returns the page); a list-then-detail
      partner overrides it to fetch each record's details.

    A connector is built once per pull from its partner's `ConnectorConfig`; `run` returns a
    `Run`, which yields outcomes and then holds the `FetchResult`::

        class ExampleJson(Connector):
            '''A JSON partner paged with ?limit=&skip=, key in x-api-key.'''

            name = "example-json"
            title = "Example (JSON API)"
            format = PartnerFormat.JSON_REST
            auth = Auth.API_KEY_HEADER
            path = "/v1/missions"
            paginator = LimitSkip(limit="limit", skip="skip", total=("total",))
            records = ("data",)

            def normalise(self, raw: RawRecord) -> Outcome:
                if not isinstance(raw, dict) or not raw.get("id"):
                    return Refused(None, "missing id")
                if raw.get("deleted"):
                    return Close(str(raw["id"]), "deleted by the partner")
                return MissionDraft(
                    external_id=str(raw["id"]),
                    title=raw.get("title") or "",
                    application_url=raw.get("url"),
                )

        connector = ExampleJson(ConnectorConfig(url="https://partner.example", api_key="k"))
        async with httpx.AsyncClient() as client:
            async with connector.run(client, state=saved_state) as run:
                drafts = [o async for o in run if isinstance(o, MissionDraft)]
        if run.result is not None:  # read to the end: safe to persist and to judge absence
            saved_state = run.result.state
    """

    name: ClassVar[str]
    title: ClassVar[str] = ""
    format: ClassVar[PartnerFormat]
    auth: ClassVar[Auth] = Auth.NONE
    api_key_header: ClassVar[str] = "x-api-key"
    path: ClassVar[str] = ""
    paginator: ClassVar[Paginator | None] = None
    records: ClassVar[tuple[str, ...]] = ()
    page_size: ClassVar[int] = 100
    default_date_order: ClassVar[DateOrder] = DateOrder.DAY_FIRST
    record_tag: ClassVar[str] = "mission"
    root_tag: ClassVar[str | None] = None
    html_fields: ClassVar[frozenset[str]] = frozenset()
    query: ClassVar[str] = ""

    def __init__(self, config: ConnectorConfig) -> None:
        if not config.url.startswith(("http://", "https://")):
            raise ConfigError(f"{self.name}: the URL must be http(s), got {config.url!r}")
        if self.auth in (Auth.API_KEY_HEADER, Auth.API_KEY_BASIC) and not config.api_key:
            raise ConfigError(f"{self.name}: this partner needs an api key; none is configured")
        self.config = config
        self.date_order: DateOrder = config.date_order or self.default_date_order

    @property
    def coverage(self) -> Coverage:
        return self.paginator.coverage if self.paginator is not None else Coverage.SNAPSHOT

    @property
    def endpoint(self) -> str:
        return self.config.url.rstrip("/") + self.path if self.path else self.config.url

    def run(
        self,
        client: httpx.AsyncClient,
        state: Mapping[str, Any] | None = None,
        seen: MutableSet[str] | None = None,
    ) -> Run:
        """One pull over `client` (the hub's shared client), resuming from `state`; the ids it
        delivers are kept in `seen` (a new set by default: see `Run`)."""
        return Run(self, client, state or {}, seen)

    @abc.abstractmethod
    def normalise(self, raw: RawRecord) -> Outcome:
        """One partner record as an outcome; pure and total (see the class docstring)."""

    def variables(self, page: PageRequest) -> dict[str, Any]:
        """GraphQL variables for one page: the page's values inside `input`, with options."""
        return {"input": {**self.config.options, **page}}

    async def expand(self, http: Http, page: list[RawRecord]) -> list[RawRecord]:
        """The records of one page as `normalise` should see them."""
        return page

    def http(self, client: httpx.AsyncClient) -> Http:
        """The shared HTTP plumbing with this partner's credentials and policy."""
        return self._http(client, self.auth, self.api_key_header)

    def _http(self, client: httpx.AsyncClient, kind: Auth, api_key_header: str) -> Http:
        config = self.config
        auth: httpx.Auth | None = None
        headers: dict[str, str] = {}
        if kind is Auth.BASIC and config.username:
            auth = httpx.BasicAuth(config.username, config.password or "")
        elif kind is Auth.API_KEY_BASIC:
            auth = httpx.BasicAuth(config.api_key or "", "")
        elif kind is Auth.API_KEY_HEADER:
            headers[api_key_header] = config.api_key or ""
        return Http(
            client,
            partner=self.name,
            auth=auth,
            headers=headers,
            timeout=config.timeout,
            retry=config.retry,
            max_body_bytes=config.max_feed_bytes,
        )

    async def fetch(
        self, client: httpx.AsyncClient, state: dict[str, Any]
    ) -> AsyncGenerator[RawRecord, None]:
        """Every raw record of one pull, in the partner's order."""
        http = self.http(client)
        source = f"{self.name}: {self.endpoint}"
        if self.format is PartnerFormat.XML_FEED:
            async with http.stream(self.endpoint) as body:
                records = xml_records(
                    body,
                    tag=self.record_tag,
                    root=self.root_tag,
                    html_fields=self.html_fields,
                    source=source,
                )
                async with aclosing(records):
                    async for record in records:
                        yield record
            return
        if self.paginator is None:
            raise ConfigError(f"{self.name}: a {self.format} connector needs a paginator")
        if self.format is PartnerFormat.GRAPHQL:
            graphql = GraphQLClient(http, self.endpoint)

            async def page(request: PageRequest) -> Any:
                return await graphql.execute(self.query, self.variables(request))

        else:

            async def page(request: PageRequest) -> Any:
                return await http.get_json(self.endpoint, params=request)

        pages = walk(
            self.paginator,
            page,
            records=self.records,
            state=state,
            page_size=self.config.page_size or self.page_size,
            max_pages=self.config.max_pages,
            source=source,
        )
        async with aclosing(pages):
            async for items in pages:
                for record in await self.expand(http, items):
                    yield record

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} {self.config.url}>"


class Run:
    """One pull in progress: iterate it for outcomes; `result` is set once it ran to the end.

    If iterating raises (a `ConnectorError`), the outcomes already yielded are still valid
    drafts, but `result` stays None: nothing is a complete snapshot and the state to keep is
    the one the pull started from. Duplicate ids are refused after the first: the first copy
    is delivered, each later one is `Refused(id, "duplicate id ...")`, because one pull cannot
    say two things about one mission and a streamed outcome cannot be taken back. The ids
    delivered are kept in `seen`, an empty set by default; a pull of a million records can give
    one that keeps them out of memory (hub.ingest.listed).
    """

    def __init__(
        self,
        connector: Connector,
        client: httpx.AsyncClient,
        state: Mapping[str, Any],
        seen: MutableSet[str] | None = None,
    ) -> None:
        try:  # a copy, and proof that the hub can store what it will get back
            start = json.loads(json.dumps(dict(state)))
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{connector.name}: the saved state is not JSON: {exc}") from exc
        self.connector = connector
        self.result: FetchResult | None = None
        # The ids of the drafts and withdrawals delivered so far (a later copy is refused).
        self.seen: MutableSet[str] = set() if seen is None else seen
        self._outcomes = self._pull(client, start)

    def __aiter__(self) -> AsyncIterator[Outcome]:
        return self._outcomes

    async def __aenter__(self) -> Run:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop early and release the connection (leaving `async with` does it too)."""
        await self._outcomes.aclose()

    async def _pull(
        self, client: httpx.AsyncClient, state: dict[str, Any]
    ) -> AsyncGenerator[Outcome, None]:
        connector = self.connector
        counts = dict.fromkeys(("fetched", "drafts", "refused", "closed", "duplicates"), 0)
        raws = connector.fetch(client, state)
        async with aclosing(raws):  # stopping early closes the partner's stream at once
            async for raw in raws:
                counts["fetched"] += 1
                yield self._checked(raw, self.seen, counts)
        self.result = FetchResult(coverage=connector.coverage, state=state, **counts)
        log.debug("%s: pull finished: %s", connector.name, counts)

    def _checked(self, raw: RawRecord, seen: MutableSet[str], counts: dict[str, int]) -> Outcome:
        """The record's outcome, a later copy of an id refused, and counted."""
        outcome = self._normalise(raw)
        if isinstance(outcome, MissionDraft | Close):
            if outcome.external_id in seen:
                counts["duplicates"] += 1
                outcome = Refused(
                    outcome.external_id,
                    f"duplicate id {outcome.external_id!r} in this pull; the first copy was kept",
                )
            else:
                seen.add(outcome.external_id)
        if isinstance(outcome, MissionDraft):
            counts["drafts"] += 1
        elif isinstance(outcome, Close):
            counts["closed"] += 1
        else:
            counts["refused"] += 1
        return outcome

    def _normalise(self, raw: RawRecord) -> Outcome:
        try:
            return self.connector.normalise(raw)
        except Exception as exc:
            log.exception("%s: normalise raised on a record", self.connector.name)
            return Refused(
                _guess_id(raw), f"the connector could not read this record: {exc!r:.200}"
            )


def _guess_id(raw: RawRecord) -> str | None:
    if not isinstance(raw, Mapping):
        return None
    for key in ("clientId", "id", "_id", "externalId"):
        found = scalar_text(raw.get(key))
        if found:
            return found
    return None
