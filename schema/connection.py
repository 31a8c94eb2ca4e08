"""The Relay connection for mission search, with its count, facets and event cursor."""

from __future__ import annotations

from typing import Annotated

import strawberry

from hub.catalogue.ranking import RecommendationPage
from hub.catalogue.records import Page
from hub.storage.repository import SearchQuery
from schema.types import Mission

__all__ = [
    "After",
    "FacetCount",
    "MissionConnection",
    "MissionEdge",
    "MissionFacets",
    "PageInfo",
    "PageSize",
]


# The paging arguments of a connection field, described once.
PageSize = Annotated[
    int | None, strawberry.argument(description="Page size: 20 when omitted, at most 100.")
]
After = Annotated[
    str | None, strawberry.argument(description="The `endCursor` of the previous page.")
]


@strawberry.type(description="Relay page information.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="More results after this page.")
    has_previous_page: bool = strawberry.field(description="This page came after a cursor.")
    start_cursor: str | None = strawberry.field(description="Cursor of the first result.")
    end_cursor: str | None = strawberry.field(
        description="Cursor of the last result: pass it as `after` for the next page."
    )

    @staticmethod
    def of(page: Page | RecommendationPage) -> PageInfo:
        """The page information of a keyset page of missions or of recommendations."""
        cursors = page.cursors
        return PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        )


@strawberry.type(description="One result and its cursor.")
class MissionEdge:
    cursor: str = strawberry.field(description="Opaque position of this result.")
    node: Mission = strawberry.field(description="The mission.")


@strawberry.type(description="How many missions match with each value of a dimension.")
class FacetCount:
    value: str = strawberry.field(description="The value (cause, skill slug, department...).")
    count: int = strawberry.field(description="Matching missions with that value.")


@strawberry.type(
    description="Counts for the current filter; each dimension ignores its own criterion, so "
    "that a search page can show how many results every other choice would give."
)
class MissionFacets:
    causes: list[FacetCount] = strawberry.field(description="By cause.")
    skills: list[FacetCount] = strawberry.field(description="By skill.")
    remote: list[FacetCount] = strawberry.field(description="By remote mode.")
    departments: list[FacetCount] = strawberry.field(description="By department code.")
    partners: list[FacetCount] = strawberry.field(description="By partner name.")


@strawberry.type(description="A page of missions.")
class MissionConnection:
    page: strawberry.Private[Page]
    query: strawberry.Private[SearchQuery]
    event_cursor: str = strawberry.field(
        description="Position of the change-event log when this page was read: subscribe "
        "from it to miss nothing that happens afterwards."
    )

    @strawberry.field(description="Results with their cursors.")
    def edges(self) -> list[MissionEdge]:
        return [
            MissionEdge(cursor=c, node=m)  # type: ignore[arg-type]
            for c, m in zip(self.page.cursors, self.page.items, strict=True)
        ]

    @strawberry.field(description="Results, without cursors.")
    def nodes(self) -> list[Mission]:
        return self.page.items  # type: ignore[return-value]

    @strawberry.field(description="Relay page information.")
    def page_info(self) -> PageInfo:
        return PageInfo.of(self.page)

    @strawberry.field(description="Missions matching the filter, over all pages.")
    async def total_count(self) -> int:
        return await self.query.total_count()

    @strawberry.field(description="Counts by dimension for the current filter.")
    async def facets(self) -> MissionFacets:
        facets = await self.query.facets()
        return MissionFacets(
            causes=facets.causes,  # type: ignore[arg-type]
            skills=facets.skills,  # type: ignore[arg-type]
            remote=facets.remote,  # type: ignore[arg-type]
            departments=facets.departments,  # type: ignore[arg-type]
            partners=facets.partners,  # type: ignore[arg-type]
        )
