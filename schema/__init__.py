"""The hub's GraphQL API (strawberry), as an Apollo Federation v2 subgraph."""

from __future__ import annotations

import logging

import strawberry
from graphql import GraphQLError
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.types import ExecutionContext

from hub.settings import Settings
from schema.context import Context
from schema.errors import MaskUnexpectedErrors
from schema.mutation import Mutation
from schema.query import Query
from schema.security import hardening
from schema.types import Mission, Organization, Partner

__all__ = ["Context", "HubSchema", "build_schema"]

logger = logging.getLogger("hub.graphql")


class HubSchema(strawberry.federation.Schema):
    """Logs a client's mistakes at debug level: they are answered, not the operator's concern.

    Unexpected errors are logged, with their id, by MaskUnexpectedErrors.
    """

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            logger.debug("request error: %s", error.message)


def build_schema(settings: Settings | None = None) -> HubSchema:
    """The schema, with parse and validation caches (they are free speed, see PERFORMANCE.md).

    With settings, the limits of schema/security.py apply (the SDL export needs none).
    """
    return HubSchema(
        query=Query,
        mutation=Mutation,
        types=[Mission, Organization, Partner],
        extensions=[
            MaskUnexpectedErrors,
            *(
                [lambda: ParserCache(maxsize=512), lambda: ValidationCache(maxsize=512)]
                if settings is None
                else [hardening(settings)]  # parses and validates, with the limits, cached
            ),
        ],
    )
