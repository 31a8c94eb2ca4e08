"""Paginators and the one page walk that drives them, with loop detection.

A paginator is a frozen description (which parameters, where the total or the "more" flag
sits); `walk` carries the position of one pull. Partners loop: a server that ignores the page
parameter, a cursor that does not advance, an offset past the end that returns the first page
again. `walk` refuses to request the same page twice and to accept a page whose records repeat
an earlier page's exactly, and stops at `max_pages`; each is a `FeedError`, not an endless pull.
"""

from __future__ import annotations

import abc
import enum
import hashlib
import json
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from connectors._errors import FeedError

__all__ = [
    "Coverage",
    "LimitSkip",
    "PageNumber",
    "PageRequest",
    "Paginator",
    "SinceCursor",
    "dig",
    "walk",
]

PageRequest = dict[str, Any]


class Coverage(enum.StrEnum):
    """What a pull that ran to the end covers, which decides what absence means (DESIGN.md)."""

    SNAPSHOT = "SNAPSHOT"  # everything the partner publishes: absent means closed
    FULL_PASS = "FULL_PASS"  # every page of offset/page-number paging: items can shift between
    # pages while we read, so a mission is closed only after two consecutive misses
    INCREMENTAL = "INCREMENTAL"  # only what changed since the cursor: absence means nothing


class Paginator(abc.ABC):
    """Where the next page is. Subclasses are frozen dataclasses, shared by every pull."""

    coverage: ClassVar[Coverage]

    @abc.abstractmethod
    def first(self, state: Mapping[str, Any], page_size: int) -> PageRequest:
        """The first page's parameters, from the state the previous pull saved."""

    @abc.abstractmethod
    def next(self, request: PageRequest, body: Any, items: list[Any]) -> PageRequest | None:
        """The next page's parameters, or None when this page was the last."""

    def save(self, state: dict[str, Any], body: Any, items: list[Any]) -> None:
        """Record progress in the pull's state once a page has been handed on (cursors)."""
        return None  # positional paging keeps nothing between pulls


@dataclass(frozen=True, slots=True)
class PageNumber(Paginator):
    """?page=N&size=S, pages counted from `first_page`; stops on a short page or the total."""

    page: str = "page"
    size: str = "size"
    first_page: int = 1
    total: tuple[str, ...] = ()
    coverage: ClassVar[Coverage] = Coverage.FULL_PASS

    def first(self, state: Mapping[str, Any], page_size: int) -> PageRequest:
        return {self.page: self.first_page, self.size: page_size}

    def next(self, request: PageRequest, body: Any, items: list[Any]) -> PageRequest | None:
        size, number = int(request[self.size]), int(request[self.page])
        read = (number - self.first_page + 1) * size
        if len(items) < size or _reached(body, self.total, read):
            return None
        return {**request, self.page: number + 1}


@dataclass(frozen=True, slots=True)
class LimitSkip(Paginator):
    """?limit=L&skip=K offset paging; stops on a short page or when the total is reached."""

    limit: str = "limit"
    skip: str = "skip"
    total: tuple[str, ...] = ()
    coverage: ClassVar[Coverage] = Coverage.FULL_PASS

    def first(self, state: Mapping[str, Any], page_size: int) -> PageRequest:
        return {self.limit: page_size, self.skip: 0}

    def next(self, request: PageRequest, body: Any, items: list[Any]) -> PageRequest | None:
        limit, skip = int(request[self.limit]), int(request[self.skip])
        if len(items) < limit or _reached(body, self.total, skip + len(items)):
            return None
        return {**request, self.skip: skip + len(items)}


@dataclass(frozen=True, slots=True)
class SinceCursor(Paginator):
    """?since=CURSOR, records in update order, a "more" flag; the cursor is the last record's
    `cursor_field`, saved in the state under `state_key` so that it survives restarts."""

    param: str = "since"
    cursor_field: str = "updated"
    more: tuple[str, ...] = ("hasMore",)
    state_key: str = "since"
    coverage: ClassVar[Coverage] = Coverage.INCREMENTAL

    def first(self, state: Mapping[str, Any], page_size: int) -> PageRequest:
        cursor = state.get(self.state_key)
        return {self.param: cursor} if isinstance(cursor, str) and cursor else {}

    def next(self, request: PageRequest, body: Any, items: list[Any]) -> PageRequest | None:
        cursor = self._cursor(items)
        if not items or cursor is None or not _flag(body, self.more):
            return None
        return {**request, self.param: cursor}

    def save(self, state: dict[str, Any], body: Any, items: list[Any]) -> None:
        cursor = self._cursor(items)
        if cursor is not None:
            state[self.state_key] = cursor

    def _cursor(self, items: list[Any]) -> str | None:
        for item in reversed(items):
            value = item.get(self.cursor_field) if isinstance(item, Mapping) else None
            if isinstance(value, str) and value:
                return value
        return None


def dig(body: Any, path: tuple[str, ...]) -> Any:
    """body[path[0]][path[1]]..., or None where the path runs out."""
    for key in path:
        if not isinstance(body, Mapping):
            return None
        body = body.get(key)
    return body


def _reached(body: Any, path: tuple[str, ...], read: int) -> bool:
    total = dig(body, path) if path else None
    return isinstance(total, int) and not isinstance(total, bool) and read >= total


def _flag(body: Any, path: tuple[str, ...]) -> bool:
    return dig(body, path) is True


def _fingerprint(value: Any) -> bytes:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).digest()


async def walk(
    paginator: Paginator,
    fetch: Callable[[PageRequest], Awaitable[Any]],
    *,
    records: tuple[str, ...] | Callable[[Any], Any],
    state: dict[str, Any],
    page_size: int,
    max_pages: int,
    source: str,
) -> AsyncGenerator[list[Any], None]:
    """Each page's records, in order; `state` is updated after each page is consumed."""
    request: PageRequest | None = paginator.first(state, page_size)
    requested: set[bytes] = set()
    pages: dict[bytes, int] = {}
    number = 0
    while request is not None:
        number += 1
        if number > max_pages:
            raise FeedError(f"{source}: more than {max_pages} pages; stopping (pagination loop?)")
        key = _fingerprint(request)
        if key in requested:
            raise FeedError(f"{source}: pagination loop: page {request} was already requested")
        requested.add(key)
        body = await fetch(request)
        if callable(records):  # a mapping's compiled path
            items = records(body)
        elif records:
            items = dig(body, records)
        else:
            items = body
        if items is None:
            items = []
        if not isinstance(items, list):
            where = ".".join(records) if isinstance(records, tuple) else "the records path"
            raise FeedError(f"{source}: page {request} has no list at {where!r}")
        if items:
            seen = pages.setdefault(_fingerprint(items), number)
            if seen != number:
                raise FeedError(
                    f"{source}: pagination loop: page {number} ({request}) repeats page {seen}"
                )
        yield items
        paginator.save(state, body, items)
        request = paginator.next(request, body, items)
