"""An exact response cache for GraphQL queries over HTTP: the bytes of an answer, served again to
the same question from the same kind of caller until anything it may depend on changes.

What is kept: the answer to a POST, from an authenticated caller, of a query (never a mutation or
a subscription) that ran without errors, did not read the time, and selects none of the fields
written without a change event (UNLOGGED_FIELDS: partners' settings and sync health, refused
records). Introspection is kept like any
query (its answer depends on the caller, which is in the key, and on the schema, which a restart
changes).

The key: the document's SHA-256 (the persisted-query hash, or the hash of the text sent), the
operation name, the variables as canonical JSON, and who asks: its client, kind, scopes, partner
and policy. Entries are never shared between clients, even two companies with the same policy:
a company's answers may hold its own engagements, reports and webhooks.

When an entry dies (hub.web.cache_stores holds the version that decides it):

- a change event committed after the log position read before its answer was computed, by any
  process: every lookup reads the position (one query shared by the lookups waiting at that
  moment, LogPosition) and serves an entry only at the position it was computed at;
- any committed write on the hub's engine bumps the version at once, after the commit and before
  the writer goes on (hub.storage.commits): missions and their event log, but also partners and
  their sync health, organizations, label mappings, partner priorities, clients and policies,
  documents. An entry records the version read *before* its answer was computed, so an answer
  computed across a commit is never served after it;
- with Redis, the version is one shared counter: one replica's write drops every replica's entries;
- every entry lives at most HUB_RESPONSE_CACHE_MAX_AGE_SECONDS, which bounds what a write outside
  the hub's processes, with no change event (a command renaming a partner), could leave stale.

Time: an answer that depends on "now" (a STARTING_SOON search's order and cursor) is never kept
(hub.clock.answer_reads_time); every other field reads stored values only (a mission past its end
date is EXPIRED by a write, with its event).

Invalidation is whole-cache rather than by partner: a search's facets and counts span every
partner, policies exclude organizations across partners, and a by-partner rule would have to
prove, per query, which partners an answer could include. The whole-cache rule is exact by
construction and costs only hit ratio under writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import (
    FieldNode,
    GraphQLError,
    OperationType,
    Visitor,
    get_operation_ast,
    parse,
    visit,
)
from starlette.responses import Response
from starlette.types import Message, Receive

from hub.auth.caller import Caller
from hub.settings import Settings
from hub.web.cache_stores import Entry, Store

__all__ = [
    "CacheRequest",
    "Lookup",
    "ResponseCache",
    "cache_key",
    "keepable",
    "parse_request",
    "read_body",
    "replay",
    "request_key",
]

_HEX64 = re.compile(r"[0-9a-f]{64}")
# Bodies whose key is remembered (ResponseCache.lookup), and the largest: 16 MiB at most.
_KEYS = 4096
_KEYED_BODY = 4096


@dataclass(frozen=True, slots=True)
class CacheRequest:
    """What a POST body asks, as far as the cache is concerned."""

    document: str  # the persisted-query hash, or the SHA-256 of the text sent
    query: str | None  # the text sent (None: a persisted query sent by its hash alone)
    operation: str | None
    variables: dict[str, Any]


@dataclass(slots=True)
class Lookup:
    """One cacheable request: its key, the version and log position read before it ran, and
    the hit if any."""

    key: bytes
    version: int
    position: int
    hit: Entry | None = None
    request: CacheRequest | None = None

    def response(self) -> Response:
        assert self.hit is not None
        return Response(self.hit.body, media_type="application/json")


def _document_hash(request: dict[str, Any]) -> str | None:
    """The persisted-query hash, or the SHA-256 of the text; None when the two disagree (the
    normal path answers that) or when there is no document."""
    query = request.get("query")
    extensions = request.get("extensions")
    persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
    sent = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
    if persisted is not None and not (isinstance(sent, str) and _HEX64.fullmatch(sent.lower())):
        return None  # malformed: refused by the normal path
    own = hashlib.sha256(query.encode("utf-8")).hexdigest() if isinstance(query, str) else None
    if isinstance(sent, str):
        sent = sent.lower()
        return sent if own in (None, sent) else None
    return own


def parse_request(body: bytes) -> CacheRequest | None:
    """The request a POST body makes, or None when it is not one the cache answers."""
    try:
        request = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(request, dict):
        return None  # a batch: refused by the normal path
    document = _document_hash(request)
    operation = request.get("operationName")
    variables = request.get("variables")
    query = request.get("query")
    if document is None or not isinstance(operation, str | None):
        return None
    if not isinstance(variables, dict | None):
        return None
    return CacheRequest(
        document, query if isinstance(query, str) else None, operation, variables or {}
    )


def cache_key(request: CacheRequest, caller: Caller) -> bytes:
    """The key of `request` asked by `caller`."""
    viewer = (
        caller.client_pk,  # never shared: engagements, reports and webhooks are the client's own
        caller.kind.value,
        sorted(caller.scopes),
        caller.partner,
        caller.policy,
    )
    material = orjson.dumps(
        [request.document, request.operation, request.variables, viewer],
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(material).digest()


def request_key(body: bytes, caller: Caller) -> bytes | None:
    """The cache key of a POST body, or None when it is not a request the cache answers."""
    request = parse_request(body)
    return None if request is None else cache_key(request, caller)


class LogPosition:
    """The event log's position, read for every lookup by one query shared between the lookups
    waiting at that moment: a lookup waits for a read that *starts* after it arrived (so a change
    committed before the request is seen), and at most one read runs at a time, whatever the
    load (16 concurrent requests share about one read)."""

    def __init__(
        self, read: Callable[[], Awaitable[int]], now: Callable[[], int | None] | None = None
    ) -> None:
        self.read = read
        self.now = now  # a read that does not wait (SQLite), when it answers: no sharing needed
        self._next: asyncio.Future[int] | None = None  # the read the next arrivals wait for
        self._reading: asyncio.Task[None] | None = None

    async def current(self) -> int:
        if self.now is not None:
            position = self.now()
            if position is not None:
                return position
        if self._next is None:
            self._next = asyncio.get_running_loop().create_future()
            if self._reading is None:
                self._reading = asyncio.get_running_loop().create_task(self._run())
        return await asyncio.shield(self._next)

    async def _run(self) -> None:
        try:
            while self._next is not None:
                waiting, self._next = self._next, None
                try:
                    waiting.set_result(await self.read())
                except Exception as exc:  # every waiter gets the failure (a 500, logged)
                    waiting.set_exception(exc)
        finally:
            self._reading = None

    async def drain(self) -> None:
        """Wait for the read under way, if any (before its connection is closed)."""
        reading = self._reading
        if reading is not None:
            with contextlib.suppress(Exception):
                await reading


class ResponseCache:
    """Looks requests up before they run, and keeps the answers worth keeping after."""

    def __init__(
        self,
        store: Store,
        position: Callable[[], Awaitable[int]],
        on_close: Callable[[], Awaitable[None]] | None = None,
        now: Callable[[], int | None] | None = None,
    ) -> None:
        self.store = store
        self.position = LogPosition(position, now)
        # The parsed request and key of a body a caller sent before: a pure function of both,
        # so remembered (JSON parsing and two SHA-256 were most of a hit's own work).
        self._keys: dict[tuple[bytes, Caller], tuple[CacheRequest | None, bytes | None]] = {}
        self._on_close = on_close  # e.g. the log position's own connection goes back

    async def lookup(self, body: bytes, caller: Caller) -> Lookup | None:
        """None for a request the cache does not answer; else its Lookup, with the hit if any."""
        known = self._keys.get((body, caller))
        if known is None:
            request = parse_request(body)
            known = (request, None if request is None else cache_key(request, caller))
            if len(body) <= _KEYED_BODY:
                if len(self._keys) >= _KEYS:
                    self._keys.clear()  # bounded; a repeated request is back at its next ask
                self._keys[(body, caller)] = known
        request, key = known
        if request is None or key is None:
            return None
        position = await self.position.current()  # read first: then the version, then the answer
        hit, version = await self.store.get(key)
        if hit is not None and hit.position != position:
            hit = None  # a change event committed since (from any process)
        return Lookup(key, version, position, hit, request)

    async def keep(self, lookup: Lookup, response: Response, operation: str) -> None:
        """Keep an answer HubGraphQL found worth keeping (see the module's docstring)."""
        body = getattr(response, "body", None)
        if response.status_code == 200 and isinstance(body, bytes):
            await self.keep_bytes(lookup, bytes(body), operation)

    async def keep_bytes(self, lookup: Lookup, body: bytes, operation: str) -> None:
        """Keep `body` as the answer to `lookup`, at the version and position it read."""
        await self.store.put(lookup.key, lookup.version, Entry(body, operation, lookup.position))

    def changed(self) -> None:
        """A write committed in this process: every entry is dropped."""
        self.store.bump()

    async def settle(self) -> None:
        """Wait until this replica's writes are announced to the others (Redis)."""
        await self.store.settle()

    async def aclose(self) -> None:
        await self.position.drain()
        if self._on_close is not None:
            await self._on_close()
        await self.store.aclose()


# Fields whose values are written without a change event, by commands or syncs that may run in
# another process (a partner's names and settings, its sync health, refused records): an answer
# that selects one is not kept, since the log position would not tell that it changed.
UNLOGGED_FIELDS = frozenset(
    {
        "partners",
        "displayName",
        "connector",
        "pushOnly",
        "health",
        "lastSync",
        "lastSuccessAt",
        "lastError",
        "refusedRecords",
    }
)


class _Fields(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_field(self, node: FieldNode, *_args: Any) -> None:
        self.names.add(node.name.value)


@functools.lru_cache(maxsize=1024)
def _keepable(document: str, operation_name: str | None, max_tokens: int) -> bool:
    try:
        parsed = parse(document, max_tokens=max_tokens)
    except GraphQLError:
        return False
    operation = get_operation_ast(parsed, operation_name)
    if operation is None or operation.operation is not OperationType.QUERY:
        return False
    fields = _Fields()
    visit(parsed, fields)  # the whole document, fragments included: conservative
    return not (fields.names & UNLOGGED_FIELDS)


def keepable(document: str | None, operation_name: str | None, settings: Settings) -> bool:
    """Whether the operation that ran may be kept: a query selecting no UNLOGGED_FIELDS."""
    if document is None or len(document) > settings.max_body_bytes:
        return False
    return _keepable(document, operation_name, settings.max_tokens)


async def read_body(receive: Receive) -> bytes:
    """The whole request body (through the request rules' bounded receive)."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Receive:
    """A receive that gives `body` once, then whatever the client sends next (a disconnect)."""
    given = False

    async def replayed() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
