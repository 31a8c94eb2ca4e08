"""The hub's GraphQL API (strawberry), as an Apollo Federation v2 subgraph."""

from __future__ import annotations

import strawberry
from strawberry.extensions import ParserCache, ValidationCache

from schema.context import Context
from schema.errors import MaskUnexpectedErrors
from schema.query import Query
from schema.types import Mission, Organization, Partner

__all__ = ["Context", "build_schema"]


def build_schema() -> strawberry.federation.Schema:
    """The schema, with parse and validation caches (they are free speed, see PERFORMANCE.md)."""
    return strawberry.federation.Schema(
        query=Query,
        types=[Mission, Organization, Partner],
        extensions=[
            MaskUnexpectedErrors(),
            ParserCache(maxsize=512),
            ValidationCache(maxsize=512),
        ],
    )
