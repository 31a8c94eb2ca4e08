"""VolunteerMatch's GraphQL API: searchOpportunities, paged by number, key in X-api-key."""

from __future__ import annotations

from connectors._parse import DateOrder
from connectors.contract import Auth, PartnerFormat
from connectors.mapped import MappedConnector, paginator
from connectors.mapping import builtin_mapping

__all__ = ["VolunteerMatch"]

MAPPING = builtin_mapping("volunteermatch-graphql")


class VolunteerMatch(MappedConnector):
    """Opportunities page by page (`pageNumber`, `numberOfResults`, stopping at `resultsSize`).

    Everything it asks and reads is its default mapping, connectors/mappings/
    volunteermatch-graphql.yaml; a partner whose API drifts from it gets a mapping of its own.
    Page-number paging can skip or repeat items when the catalogue changes mid-pull, so a pull
    read to the end is a FULL_PASS, not a snapshot. `ConnectorConfig.options` go into the search
    input as they are (e.g. {"virtual": True} for remote opportunities only). A schema change
    under our query (a renamed field) comes back as GraphQL errors: a fatal `GraphQLError`
    naming the field, never an empty result.
    """

    name = "volunteermatch-graphql"
    title = "VolunteerMatch GraphQL API"
    format = PartnerFormat.GRAPHQL
    auth = Auth.API_KEY_HEADER
    api_key_header = "X-api-key"
    path = MAPPING.request.path
    paginator = paginator(MAPPING.paging)
    page_size = MAPPING.paging.page_size or 50
    query = MAPPING.request.document or ""
    default_date_order = DateOrder.MONTH_FIRST
    default_mapping = MAPPING
