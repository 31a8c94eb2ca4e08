"""Persisted operations: Apollo's automatic persisted queries, and trusted documents per client.

Automatic persisted queries (APQ), as Apollo clients speak them: a request carries
`extensions.persistedQuery = {"version": 1, "sha256Hash": H}`. Without `query`, the hub runs the
document it knows by H, or answers `PersistedQueryNotFound` (HTTP 200, so that the client
sends the text); with `query`, H must be the query's SHA-256, and the document is kept (for an
authenticated caller, once it ran) so that the next request can send only H.

Trusted documents: a client with `trusted_documents_only` runs only the documents registered
for it (`entraide-hub documents add --client ID FILE`), named by hash or sent as their exact
text; anything else is refused with PERSISTED_QUERY_NOT_IN_LIST.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.auth.caller import Caller
from hub.clock import Clock, SystemClock
from hub.errors import HubError
from hub.storage import add_document, all_documents, find_document

__all__ = ["DocumentStore", "PersistedQueryError", "Resolved", "sha256_hex"]

logger = logging.getLogger("hub.web.persisted")

_HEX64 = re.compile(r"[0-9a-f]{64}")


def sha256_hex(document: str) -> str:
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


class PersistedQueryError(HubError):
    """A persisted-query request the hub cannot serve; `status` is its HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def _not_found() -> PersistedQueryError:
    # Apollo clients match this exact message, and turn off APQ on a 400: hence 200.
    return PersistedQueryError("PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound", 200)


def _mismatch() -> PersistedQueryError:
    return PersistedQueryError("PERSISTED_QUERY_HASH_MISMATCH", "provided sha does not match query")


@dataclass(frozen=True, slots=True)
class Resolved:
    """The document to run, and whether to keep it as an APQ once it ran."""

    query: str | None
    keep: str | None = None  # its sha256, when new to the store


class DocumentStore:
    """persisted_documents, with the documents already read kept in memory (they never change:
    a hash names one text)."""

    def __init__(
        self, engine: AsyncEngine, cache_size: int = 2048, clock: Clock | None = None
    ) -> None:
        self.engine = engine
        self.clock = clock or SystemClock()
        self.cache_size = cache_size
        self._cache: OrderedDict[tuple[str, int | None], str] = OrderedDict()

    def _remember(self, sha: str, client_pk: int | None, document: str) -> None:
        self._cache[(sha, client_pk)] = document
        self._cache.move_to_end((sha, client_pk))
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    async def find(self, sha: str, client_pk: int | None, shared: bool) -> str | None:
        """The document `sha` registered for `client_pk`, or (`shared`) an APQ anyone may run."""
        keys: list[tuple[str, int | None]] = [(sha, client_pk)] if client_pk is not None else []
        if shared:
            keys.append((sha, None))
        for key in keys:
            if key in self._cache:
                return self._cache[key]
        found = await find_document(self.engine, sha, client_pk, shared)
        if found is None:
            return None
        owner, document = found
        self._remember(sha, owner, document)
        return document

    async def add(self, document: str, client_pk: int | None, name: str | None = None) -> str:
        """Register `document` (idempotent); returns its sha256."""
        sha = sha256_hex(document)
        # Unique per (sha256, client_pk), but NULLs never collide: a race may keep an APQ twice,
        # which is harmless (same hash, same text).
        if await self.find(sha, client_pk, shared=client_pk is None) is None:
            await add_document(self.engine, sha, client_pk, name, document, self.clock.now())
            self._remember(sha, client_pk, document)
        return sha

    async def all(self) -> list[dict[str, Any]]:
        rows = await all_documents(self.engine)
        return [{**row, "created_at": row["created_at"].isoformat()} for row in rows]

    async def resolve(
        self, query: str | None, extensions: dict[str, Any] | None, caller: Caller | None
    ) -> Resolved:
        """The document a request runs, from its `query` and `extensions.persistedQuery`."""
        sha = _requested_hash(extensions)
        if sha is not None and query is not None and sha256_hex(query) != sha:
            raise _mismatch()
        if caller is not None and caller.trusted_documents_only:
            wanted = sha or (sha256_hex(query) if query is not None else None)
            if wanted is None:
                return Resolved(None)  # no operation at all: strawberry says so
            document = await self.find(wanted, caller.client_pk, shared=False)
            if document is None:
                raise PersistedQueryError(
                    "PERSISTED_QUERY_NOT_IN_LIST",
                    "this client may only run the operations registered for it "
                    "(entraide-hub documents add); this one is not registered",
                    403,
                )
            return Resolved(document)
        if sha is None:
            return Resolved(query)
        if query is None:
            client_pk = caller.client_pk if caller is not None else None
            document = await self.find(sha, client_pk, shared=True)
            if document is None:
                raise _not_found()
            return Resolved(document)
        # Anonymous callers run it but do not write to the store.
        return Resolved(query, sha if caller is not None else None)

    async def keep(self, resolved: Resolved) -> None:
        """Store a new APQ after it ran (so that only documents that validate are kept).

        A failure to store costs the client one more round trip, not its answer: logged only.
        """
        if resolved.keep is not None and resolved.query is not None:
            try:
                await self.add(resolved.query, None)
            except SQLAlchemyError as exc:
                logger.warning("could not keep persisted query %s: %s", resolved.keep, exc)


def _requested_hash(extensions: dict[str, Any] | None) -> str | None:
    persisted = (extensions or {}).get("persistedQuery")
    if persisted is None:
        return None
    if not isinstance(persisted, dict) or persisted.get("version") != 1:
        raise PersistedQueryError(
            "PERSISTED_QUERY_NOT_SUPPORTED", "only version 1 of persisted queries is supported"
        )
    sha = persisted.get("sha256Hash")
    if not isinstance(sha, str) or not _HEX64.fullmatch(sha.lower()):
        raise PersistedQueryError(
            "BAD_REQUEST", "persistedQuery.sha256Hash must be a SHA-256 digest in hexadecimal"
        )
    return sha.lower()
