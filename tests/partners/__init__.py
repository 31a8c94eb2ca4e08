"""Simulated partner servers: real HTTP on loopback, speaking each partner's real protocol.

`PARTNERS` maps every registered connector name to the partner it is tested against; the
contract test fails for a connector that has none.
"""

from __future__ import annotations

from tests.partners._server import Faults, Hit, LiveServer
from tests.partners.api_engagement_api import ApiEngagementApiPartner
from tests.partners.api_engagement_feed import ApiEngagementFeed
from tests.partners.base import FAST_RETRIES, Expected, SimulatedPartner
from tests.partners.idealist import IdealistPartner
from tests.partners.mapped import MappedFeed, MappedRest
from tests.partners.solidaires_graphql import SolidairesGraphQL
from tests.partners.volunteermatch import VolunteerMatchPartner

__all__ = [
    "FAST_RETRIES",
    "PARTNERS",
    "ApiEngagementApiPartner",
    "ApiEngagementFeed",
    "Expected",
    "Faults",
    "Hit",
    "IdealistPartner",
    "LiveServer",
    "MappedFeed",
    "MappedRest",
    "SimulatedPartner",
    "SolidairesGraphQL",
    "VolunteerMatchPartner",
]

PARTNERS: dict[str, type[SimulatedPartner]] = {
    partner.connector_name: partner
    for partner in (
        ApiEngagementFeed,
        IdealistPartner,
        VolunteerMatchPartner,
        ApiEngagementApiPartner,
        SolidairesGraphQL,
        MappedRest,
        MappedFeed,
    )
}
