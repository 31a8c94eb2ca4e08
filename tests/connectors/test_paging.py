"""The page walk: stopping rules and loop detection, apart from any partner."""

from __future__ import annotations

from typing import Any

import pytest

from connectors import FeedError, LimitSkip, PageNumber, SinceCursor
from connectors._paging import PageRequest, walk


async def pages(paginator: Any, serve: Any, state: dict[str, Any] | None = None) -> list[Any]:
    out: list[Any] = []
    async for items in walk(
        paginator, serve, records=("data",), state=state if state is not None else {},
        page_size=2, max_pages=10, source="test",
    ):  # fmt: skip
        out.extend(items)
    return out


async def test_page_number_stops_at_the_total() -> None:
    async def serve(request: PageRequest) -> Any:
        start = (request["page"] - 1) * 2
        return {"total": 4, "data": list(range(start, start + 2))}

    assert await pages(PageNumber(total=("total",)), serve) == [0, 1, 2, 3]


async def test_limit_skip_stops_on_a_short_page() -> None:
    async def serve(request: PageRequest) -> Any:
        return {"data": list(range(5))[request["skip"] : request["skip"] + request["limit"]]}

    assert await pages(LimitSkip(), serve) == [0, 1, 2, 3, 4]


async def test_a_cursor_that_does_not_advance_is_a_loop() -> None:
    async def serve(request: PageRequest) -> Any:  # ignores since, but changes the records
        serve.calls += 1  # type: ignore[attr-defined]
        return {"data": [{"updated": "T1", "n": serve.calls}], "hasMore": True}  # type: ignore[attr-defined]

    serve.calls = 0  # type: ignore[attr-defined]
    with pytest.raises(FeedError, match="already requested"):
        await pages(SinceCursor(), serve)


async def test_since_cursor_saves_its_position() -> None:
    async def serve(request: PageRequest) -> Any:
        after = request.get("since", "")
        items = [{"updated": t} for t in ("T1", "T2", "T3") if t > after][:2]
        return {"data": items, "hasMore": len(items) == 2 and items[-1]["updated"] != "T3"}

    state: dict[str, Any] = {}
    assert len(await pages(SinceCursor(), serve, state)) == 3
    assert state == {"since": "T3"}


async def test_a_page_that_is_not_a_list_is_a_feed_error() -> None:
    async def serve(request: PageRequest) -> Any:
        return {"data": {"oops": 1}}

    with pytest.raises(FeedError, match="no list at 'data'"):
        await pages(LimitSkip(), serve)


async def test_max_pages_stops_an_endless_partner() -> None:
    async def serve(request: PageRequest) -> Any:  # new records forever
        return {"data": [request["skip"], request["skip"] + 1]}

    with pytest.raises(FeedError, match="more than 10 pages"):
        await pages(LimitSkip(), serve)
