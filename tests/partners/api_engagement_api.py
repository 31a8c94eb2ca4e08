"""A partner speaking API Engagement's public API: GET /v0/mission with limit/skip and x-api-key.

Answers as openapi.yaml documents it: {ok, total, limit, skip, data: [MissionLegacy...]},
{ok: false, code: "UNAUTHORIZED"} with 401 for a bad key. The `renamed` fault writes addresses
the way the spec's own example does (`zip`, `department` for postalCode, departmentCode).
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connectors import ConnectorConfig, Coverage
from tests.partners.base import FAST_RETRIES, SimulatedPartner
from tests.partners.catalogue import Mission, mission

__all__ = ["ApiEngagementApiPartner"]

API_KEY = "api-engagement-test-key"


def object_id(index: int) -> str:
    return f"64a1b2c3{index:016x}"


class ApiEngagementApiPartner(SimulatedPartner):
    connector_name = "api-engagement-api"
    coverage = Coverage.FULL_PASS

    def __init__(self) -> None:
        super().__init__()
        self.deleted: set[int] = set()

    def reset(self) -> None:
        super().reset()
        self.deleted = set()

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/v0/mission", self._missions)])

    def config(self) -> ConnectorConfig:
        return ConnectorConfig(
            url=self.url, api_key=API_KEY, page_size=7, timeout=5.0, retry=FAST_RETRIES
        )

    def bad_credentials(self) -> ConnectorConfig:
        return ConnectorConfig(url=self.url, api_key="expired", page_size=7, retry=FAST_RETRIES)

    def external_id(self, mission: Mission) -> str:
        return object_id(mission.index)

    @property
    def malformed_count(self) -> int:
        return len(range(4, self.count, 10))

    async def _missions(self, request: Request) -> Response:
        if self.require_auth and request.headers.get("x-api-key") != API_KEY:
            body = {"ok": False, "code": "UNAUTHORIZED", "message": "Unauthorized"}
            return JSONResponse(body, status_code=401)
        limit = int(request.query_params.get("limit", "25"))
        skip = 0 if self.faults.loop else int(request.query_params.get("skip", "0"))
        items = self._all()
        return JSONResponse(
            {"ok": True, "total": len(items), "limit": limit, "skip": skip,
             "data": items[skip : skip + limit]}
        )  # fmt: skip

    def _all(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for index in range(self.count):
            out.append(self._mission(mission(index)))
            if self.faults.malformed and index % 10 == 4:
                bad = self._mission(mission(10_000 + index))
                kind = index // 10 % 3
                if kind == 0:
                    del bad["_id"], bad["id"]
                elif kind == 1:
                    bad["title"] = None
                else:
                    bad["startAt"] = "2026-13-45T00:00:00.000Z"
                out.append(bad)
        if self.faults.duplicates:
            out.append(self._mission(mission(3)))
        return out

    def _mission(self, m: Mission) -> dict[str, Any]:
        city = m.city
        address: dict[str, Any] = {
            "street": m.street,
            "postalCode": city.postal_code,
            "city": city.name,
            "departmentCode": city.department,
            "departmentName": city.name,
            "region": city.region,
            "country": "FR",
            "location": {"lat": city.latitude, "lon": city.longitude},
        }
        if self.faults.renamed:
            address["zip"] = address.pop("postalCode")
            address["department"] = address.pop("departmentCode")
        return {
            "_id": object_id(m.index),
            "id": object_id(m.index),
            "clientId": m.id,
            "publisherId": "5f5931496c7ea514150a818f",
            "publisherName": "JeVeuxAider.gouv.fr",
            "statusCode": "ACCEPTED",
            "title": m.title,
            "description": m.description_html,
            "applicationUrl": m.url,
            "domain": m.domain,
            "activity": m.activity,
            "activities": [m.activity],
            "tags": list(m.tags),
            "audience": list(m.audience),
            "softSkills": list(m.soft_skills),
            "remote": m.remote,
            "schedule": m.schedule,
            "startAt": f"{m.start.isoformat()}T00:00:00.000Z",
            "endAt": f"{m.end.isoformat()}T00:00:00.000Z",
            "postedAt": f"{m.posted.isoformat()}T00:00:00.000Z",
            "places": m.places,
            "type": m.kind,
            "addresses": [address],
            "location": {"lat": city.latitude, "lon": city.longitude},
            "organizationName": m.org_name,
            "organizationRNA": m.org_rna,
            "organizationSiren": m.org_siren,
            "openToMinors": "yes" if m.index % 2 else "no",
            "reducedMobilityAccessible": "no",
            "createdAt": f"{m.posted.isoformat()}T00:00:00.000Z",
            "updatedAt": f"{m.posted.isoformat()}T00:00:00.000Z",
            "deletedAt": "2026-02-01T00:00:00.000Z" if m.index in self.deleted else None,
        }
