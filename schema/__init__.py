"""The hub's GraphQL API (strawberry), as an Apollo Federation v2 subgraph."""

from __future__ import annotations

import logging
from typing import Any, Final

import strawberry
from graphql import GraphQLError
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.federation.schema import FederationAny
from strawberry.types import ExecutionContext, Info

from hub.observability.metrics import HubMetrics
from hub.settings import Settings
from schema.context import Context
from schema.errors import MaskUnexpectedErrors
from schema.hardening import hardening
from schema.mutation import Mutation
from schema.permissions import CanRead
from schema.query import Query
from schema.subscription import Subscription
from schema.types import Mission, Organization, Partner

__all__ = ["Context", "HubSchema", "build_schema"]

logger = logging.getLogger("hub.graphql")

# The Apollo Federation version of the `@link` in the SDL: the newest that both composers
# accept (@apollo/composition 2.14 knows up to v2.14, @theguild/federation-composition 0.27 up
# to v2.9; strawberry defaults to v2.11). The hub needs only `@key` (federation v2.0).
FEDERATION_VERSION: Final = "2.9"
# The entities of this subgraph, resolved from their key by `_entities`.
ENTITIES = frozenset({"Mission", "Organization"})


class HubSchema(strawberry.federation.Schema):
    """Logs a client's mistakes at debug level: they are answered, not the operator's concern.

    Unexpected errors are logged, with their id, by MaskUnexpectedErrors.
    """

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            logger.debug("request error: %s", error.message)

    def entities_resolver(
        self, info: Info, representations: list[FederationAny]
    ) -> list[FederationAny]:
        """`_entities` reads the catalogue: it needs missions:read, like `mission(id)`, and
        sees what the caller's policy lets it see (the loaders apply it)."""
        CanRead().has_permission(None, info)  # raises UNAUTHENTICATED or FORBIDDEN
        return super().entities_resolver(info, [_key(r, i) for i, r in enumerate(representations)])


def _key(representation: Any, index: int) -> FederationAny:
    """A representation as `{__typename, id}`, or a refusal that says what was expected."""
    if (
        isinstance(representation, dict)
        and representation.get("__typename") in ENTITIES
        and isinstance(representation.get("id"), str)
    ):
        return FederationAny(
            {"__typename": representation["__typename"], "id": representation["id"]}
        )
    raise GraphQLError(
        f"representations[{index}]: expected {{__typename, id}} with __typename one of "
        f"{', '.join(sorted(ENTITIES))} and a string id",
        extensions={"code": "BAD_USER_INPUT"},
    )


def build_schema(settings: Settings | None = None, metrics: HubMetrics | None = None) -> HubSchema:
    """The schema, with parse and validation caches (they are free speed, see PERFORMANCE.md).

    With settings, the limits of schema/hardening.py apply (the SDL export needs none); with
    metrics, each operation is counted and timed (first, to see the errors as answered).
    """
    return HubSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Mission, Organization, Partner],
        federation_version=FEDERATION_VERSION,
        extensions=[
            *([metrics.extension()] if metrics is not None else []),
            MaskUnexpectedErrors,
            *(
                [lambda: ParserCache(maxsize=512), lambda: ValidationCache(maxsize=512)]
                if settings is None
                else [hardening(settings)]  # parses and validates, with the limits, cached
            ),
        ],
    )
