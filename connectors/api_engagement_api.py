"""API Engagement's own REST API (GET /v0/mission), so the public aggregator is one partner."""

from __future__ import annotations

from connectors._api_engagement import mission_outcome
from connectors._paging import LimitSkip
from connectors.contract import Auth, Connector, Outcome, PartnerFormat, RawRecord

__all__ = ["ApiEngagementApi"]


class ApiEngagementApi(Connector):
    """Missions of every publisher the key may read, paged with limit/skip.

    The external id is API Engagement's own `_id`, not `clientId`: a clientId is unique only
    within its publisher, and this partner relays many. limit/skip paging is a FULL_PASS, not a
    snapshot (DESIGN.md, Absence). A mission with `deletedAt` set is closed.
    """

    name = "api-engagement-api"
    title = "API Engagement REST API"
    format = PartnerFormat.JSON_REST
    auth = Auth.API_KEY_HEADER
    api_key_header = "x-api-key"
    path = "/v0/mission"
    paginator = LimitSkip(limit="limit", skip="skip", total=("total",))
    records = ("data",)
    page_size = 200

    def normalise(self, raw: RawRecord) -> Outcome:
        return mission_outcome(
            raw, id_fields=("_id", "id"), order=self.date_order, deleted_field="deletedAt"
        )
