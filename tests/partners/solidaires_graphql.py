"""A French GraphQL partner whose schema names everything differently from VolunteerMatch's.

"Réseau Solidaires" publishes `missions(page, perPage) { total items { ... } }` with
`schedule { from to }` for the dates, `place { geo { lat lng } }` for the point, `org { title }`
for the organization, "oui"/"non"/"en partie" for remote work and "31.12.2026" dates. The
built-in GraphQL connector's query fails validation against it; the mapping in
data/solidaires-graphql.yaml reads it with the generic `graphql` connector. The schema is real
(graphql-core), so an unknown field fails as a real server fails: HTTP 200 with `errors`. The
`renamed` fault renames `summaryHtml` to `summary`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from graphql import GraphQLSchema, build_schema, graphql
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connectors import ConnectorConfig, Coverage
from tests.partners.base import FAST_RETRIES, SimulatedPartner
from tests.partners.catalogue import Mission, mission

__all__ = ["MAPPING_FILE", "SolidairesGraphQL"]

MAPPING_FILE = Path(__file__).parent / "data" / "solidaires-graphql.yaml"
TOKEN = "solidaires-token"
SDL = """
type Query {
  missions(page: Int = 1, perPage: Int = 20): MissionPage!
}
type MissionPage { total: Int!, items: [Mission]! }
type Mission {
  ref: ID!
  name: String
  summaryHtml: String
  link: String
  remote: String
  seats: Int
  themes: [String]
  skills: String
  publishedOn: String
  schedule: Schedule
  place: Place
  org: Org
}
type Schedule { from: String, to: String }
type Place { address: String, zip: String, town: String, country: String, geo: Geo }
type Geo { lat: Float, lng: Float }
type Org { title: String, website: String, rna: String }
"""
_REMOTE = {"full": "oui", "possible": "en partie", "no": "non"}


class SolidairesGraphQL(SimulatedPartner):
    connector_name = "graphql"
    coverage = Coverage.FULL_PASS
    renamed_is_fatal = True
    renamed_field = "summaryHtml"

    def __init__(self) -> None:
        super().__init__()
        self._schema: GraphQLSchema = build_schema(SDL)
        self._renamed: GraphQLSchema = build_schema(SDL.replace("summaryHtml", "summary"))

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/api/graphql", self._graphql, methods=["POST"])])

    def mapping(self) -> dict[str, Any]:
        loaded: dict[str, Any] = yaml.safe_load(MAPPING_FILE.read_text("utf-8"))
        return loaded

    @property
    def api(self) -> str:
        """The URL an operator configures: the API's base, under which /graphql answers."""
        return self.url + "/api"

    def config(self) -> ConnectorConfig:
        return ConnectorConfig(
            url=self.api,
            api_key=TOKEN,
            page_size=8,
            timeout=5.0,
            retry=FAST_RETRIES,
            mapping=self.mapping(),
        )

    def bad_credentials(self) -> ConnectorConfig:
        return ConnectorConfig(
            url=self.api, api_key="nope", page_size=8, retry=FAST_RETRIES, mapping=self.mapping()
        )

    def external_id(self, mission: Mission) -> str:
        return f"RS-{mission.index:05d}"

    @property
    def malformed_count(self) -> int:
        return len(range(4, self.count, 10))

    async def _graphql(self, request: Request) -> Response:
        if self.require_auth and request.headers.get("x-partner-token") != TOKEN:
            return JSONResponse({"message": "bad token"}, status_code=401)
        body = await request.json()
        schema = self._renamed if self.faults.renamed else self._schema
        result = await graphql(
            schema,
            body.get("query", ""),
            root_value={"missions": self._missions},
            variable_values=body.get("variables"),
        )
        return JSONResponse(result.formatted)

    def _missions(self, info: Any, page: int = 1, perPage: int = 20) -> dict[str, Any]:
        del info
        items = self._items()
        number = 1 if self.faults.loop else page
        return {"total": len(items), "items": items[(number - 1) * perPage : number * perPage]}

    def _items(self) -> list[dict[str, Any] | None]:
        out: list[dict[str, Any] | None] = []
        for index in range(self.count):
            out.append(self._item(mission(index)))
            if self.faults.malformed and index % 10 == 4:
                bad = self._item(mission(10_000 + index))
                kind = index // 10 % 3
                if kind == 1:
                    bad["name"] = None
                elif kind == 2:
                    bad["publishedOn"] = "45.13.2026"
                out.append(None if kind == 0 else bad)
        if self.faults.duplicates:
            out.append(self._item(mission(3)))
        return out

    def _item(self, m: Mission) -> dict[str, Any]:
        city = m.city
        return {
            "ref": f"RS-{m.index:05d}",
            "name": m.title,
            "summaryHtml": m.description_html,
            "summary": m.description_html,
            "link": m.url,
            "remote": _REMOTE[m.remote],
            "seats": m.places,
            "themes": [m.domain_label],
            "skills": "; ".join(m.soft_skills),
            "publishedOn": m.posted.strftime("%d.%m.%Y"),
            "schedule": {"from": m.start.isoformat(), "to": m.end.isoformat()},
            "place": {
                "address": m.street,
                "zip": city.postal_code,
                "town": city.name,
                "country": "France",
                "geo": {"lat": city.latitude, "lng": city.longitude},
            },
            "org": {"title": m.org_name, "website": "https://asso.example", "rna": m.org_rna},
        }
