"""API Engagement's partner XML feed: `<source>` with one `<mission>` each, streamed."""

from __future__ import annotations

from connectors._api_engagement import mission_outcome
from connectors._parse import DateOrder
from connectors.contract import Auth, Connector, Outcome, PartnerFormat, RawRecord

__all__ = ["ApiEngagementXml"]


class ApiEngagementXml(Connector):
    """The feed format most French partners already produce; read to the end it is a snapshot.

    Slash dates are month-first by default, as API Engagement's own importer reads them
    (formats/README.md); a partner that writes day-first is configured with
    `date_order=DAY_FIRST`, and a part above 12 settles it either way. HTTP Basic auth is used
    when a username is configured, as API Engagement does for protected feeds.
    """

    name = "api-engagement-xml"
    title = "API Engagement XML feed"
    format = PartnerFormat.XML_FEED
    auth = Auth.BASIC
    record_tag = "mission"
    root_tag = "source"
    html_fields = frozenset({"description"})
    default_date_order = DateOrder.MONTH_FIRST

    def normalise(self, raw: RawRecord) -> Outcome:
        return mission_outcome(raw, id_fields=("clientId",), order=self.date_order)
