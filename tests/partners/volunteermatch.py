"""A partner speaking VolunteerMatch's GraphQL API: searchOpportunities, key in X-api-key.

POST /graphql runs the query against a real schema (graphql-core), so a query that asks for a
field the schema does not have fails the way a real GraphQL server fails: HTTP 200 with
`errors`. The `renamed` fault serves a schema where `plaintextDescription` became
`plainTextDescription`. A missing or wrong key is HTTP 401.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLSchema, build_schema, graphql
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connectors import ConnectorConfig, Coverage
from tests.partners.base import FAST_RETRIES, Expected, SimulatedPartner
from tests.partners.catalogue import Mission, mission

__all__ = ["VolunteerMatchPartner"]

API_KEY = "vm-test-key"
SDL = """
type Query {
  searchOpportunities(input: SearchOpportunitiesInput!): OpportunitySearchResult!
}
input SearchOpportunitiesInput {
  pageNumber: Int = 1
  numberOfResults: Int = 20
  location: String
  virtual: Boolean
}
type OpportunitySearchResult {
  resultsSize: Int!
  currentPage: Int!
  opportunities: [Opportunity]!
}
type Opportunity {
  id: ID!
  title: String
  description: String
  plaintextDescription: String
  url: String
  virtual: Boolean
  volunteersNeeded: Int
  categories: [String]
  skillsNeeded: String
  greatFor: [String]
  datePosted: String
  availability: Availability
  location: Location
  parentOrg: Organization
}
type Availability {
  startDate: String
  endDate: String
  ongoing: Boolean
  singleDayOpportunity: Boolean
}
type Location {
  street1: String
  street2: String
  city: String
  region: String
  postalCode: String
  country: String
  geoLocation: GeoLocation
}
type GeoLocation { lat: Float, lon: Float }
type Organization { id: ID!, name: String, url: String }
"""


class VolunteerMatchPartner(SimulatedPartner):
    connector_name = "volunteermatch-graphql"
    coverage = Coverage.FULL_PASS
    renamed_is_fatal = True
    renamed_field = "plaintextDescription"
    us = True

    def __init__(self) -> None:
        super().__init__()
        self.error_codes: list[str] = []  # the next responses: 200 with an error of this code
        self._schema: GraphQLSchema = build_schema(SDL)
        self._renamed: GraphQLSchema = build_schema(
            SDL.replace("plaintextDescription", "plainTextDescription")
        )

    def reset(self) -> None:
        super().reset()
        self.error_codes = []

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/graphql", self._graphql, methods=["POST"])])

    def config(self) -> ConnectorConfig:
        return ConnectorConfig(
            url=self.url, api_key=API_KEY, page_size=8, timeout=5.0, retry=FAST_RETRIES
        )

    def bad_credentials(self) -> ConnectorConfig:
        return ConnectorConfig(url=self.url, api_key="nope", page_size=8, retry=FAST_RETRIES)

    def external_id(self, mission: Mission) -> str:
        return str(100_000 + mission.index)

    @property
    def malformed_count(self) -> int:
        return len(range(4, self.count, 10))

    def expected(self, m: Mission) -> Expected:
        found = super().expected(m)
        if m.remote != "full":
            return found
        # A virtual opportunity has no place.
        return Expected(
            found.external_id, found.title, found.start, found.places, found.organization,
            None, None, None, None,
        )  # fmt: skip

    async def _graphql(self, request: Request) -> Response:
        if self.require_auth and request.headers.get("x-api-key") != API_KEY:
            return JSONResponse({"message": "Invalid API key"}, status_code=401)
        if self.error_codes:  # GraphQL servers report most failures inside a 200
            code = self.error_codes.pop(0)
            error = {"message": f"{code.lower()} (simulated)", "extensions": {"code": code}}
            return JSONResponse({"data": None, "errors": [error]})
        body = await request.json()
        schema = self._renamed if self.faults.renamed else self._schema
        result = await graphql(
            schema,
            body.get("query", ""),
            root_value={"searchOpportunities": self._search},
            variable_values=body.get("variables"),
        )
        return JSONResponse(result.formatted)

    def _search(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        del info
        items = self._opportunities()
        if input.get("virtual") is True:
            items = [item for item in items if item is None or item["virtual"]]
        size = int(input.get("numberOfResults") or 20)
        page = 1 if self.faults.loop else int(input.get("pageNumber") or 1)
        return {
            "resultsSize": len(items),
            "currentPage": page,
            "opportunities": items[(page - 1) * size : page * size],
        }

    def _opportunities(self) -> list[dict[str, Any] | None]:
        out: list[dict[str, Any] | None] = []
        for index in range(self.count):
            out.append(self._opportunity(mission(index, us=True)))
            if self.faults.malformed and index % 10 == 4:
                bad = self._opportunity(mission(10_000 + index, us=True))
                kind = index // 10 % 3
                if kind == 1:
                    bad["title"] = None
                elif kind == 2:
                    bad["datePosted"] = "13/45/2026"
                out.append(None if kind == 0 else bad)
        if self.faults.duplicates:
            out.append(self._opportunity(mission(3, us=True)))
        return out

    def _opportunity(self, m: Mission) -> dict[str, Any]:
        city = m.city
        virtual = m.remote == "full"
        return {
            "id": str(100_000 + m.index),
            "title": m.title,
            "description": m.description_html,
            "plaintextDescription": m.title,
            "plainTextDescription": m.title,
            "url": m.url,
            "virtual": virtual,
            "volunteersNeeded": m.places,
            "categories": [m.domain_english],
            "skillsNeeded": ", ".join(m.soft_skills),
            "greatFor": ["Teens", "Seniors"],
            "datePosted": m.posted.strftime("%m/%d/%Y"),
            "availability": {
                "startDate": m.start.isoformat(),
                "endDate": m.end.isoformat(),
                "ongoing": True,
                "singleDayOpportunity": False,
            },
            "location": None
            if virtual
            else {
                "street1": m.street,
                "street2": None,
                "city": city.name,
                "region": city.region,
                "postalCode": city.postal_code,
                "country": city.country,
                "geoLocation": {"lat": city.latitude, "lon": city.longitude},
            },
            "parentOrg": {"id": m.org_rna, "name": m.org_name, "url": "https://org.example"},
        }
