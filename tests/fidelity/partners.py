"""The three partners of the fidelity set, served on loopback from the checked-in data files.

They speak the protocols of tests/partners/ (the same routes, credentials and shapes), but
serve the fidelity catalogues instead of the generated one:

- `reseau-solidaire`: an API Engagement XML feed at GET /feed.xml (a French network, whose
  slash dates are day-first: it is registered with `date_order: DAY_FIRST`);
- `idealist`: GET /api/v1/listings/volops?since=T, then GET /api/v1/listings/volops/{id};
- `volunteermatch`: POST /graphql, `searchOpportunities`, against VolunteerMatch's schema.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from graphql import build_schema, graphql
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.partners import FAST_RETRIES, LiveServer
from tests.partners.volunteermatch import SDL

__all__ = ["DATA", "Partner", "served"]

DATA = Path(__file__).parent / "data"
IDEALIST_KEY = "idealist-fidelity-key"
VM_KEY = "vm-fidelity-key"
PAGE = 50  # Idealist listings per page of the since-cursor list


@dataclass(frozen=True)
class Partner:
    """A served partner, as an operator registers it (`entraide-hub partners add`)."""

    name: str
    connector: str
    url: str
    config: dict[str, Any]


def _retry() -> dict[str, Any]:
    return dataclasses.asdict(FAST_RETRIES)


def _feed(path: Path) -> Starlette:
    body = path.read_bytes()

    async def feed(request: Request) -> Response:
        return Response(body, media_type="application/xml")

    return Starlette(routes=[Route("/feed.xml", feed)])


def _idealist(path: Path) -> Starlette:
    volops = json.loads(path.read_text(encoding="utf-8"))["volops"]
    volops.sort(key=lambda v: v["updated"])
    by_id = {v["id"]: v for v in volops}
    token = "Basic " + base64.b64encode(f"{IDEALIST_KEY}:".encode()).decode()

    def refused(request: Request) -> Response | None:
        if request.headers.get("authorization") != token:
            return JSONResponse({"detail": "Invalid API key"}, status_code=401)
        return None

    async def listing(request: Request) -> Response:
        answer = refused(request)
        if answer is not None:
            return answer
        since = request.query_params.get("since")
        after = [v for v in volops if not since or _instant(v["updated"]) > _instant(since)]
        summaries = [
            {k: v[k] for k in ("id", "firstPublished", "updated", "name", "url", "isPublished")
             if k in v}
            for v in after[:PAGE]
        ]  # fmt: skip
        return JSONResponse({"volops": summaries, "hasMore": len(after) > PAGE})

    async def detail(request: Request) -> Response:
        answer = refused(request)
        if answer is not None:
            return answer
        found = by_id.get(request.path_params["id"])
        if found is None:
            return JSONResponse({"detail": "Not found"}, status_code=404)
        return JSONResponse({"volop": found})

    return Starlette(
        routes=[
            Route("/api/v1/listings/volops", listing),
            Route("/api/v1/listings/volops/{id}", detail),
        ]
    )


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _volunteermatch(path: Path) -> Starlette:
    opportunities = json.loads(path.read_text(encoding="utf-8"))["opportunities"]
    schema = build_schema(SDL)

    def search(info: Any, input: dict[str, Any]) -> dict[str, Any]:
        del info
        items = opportunities
        if input.get("virtual") is True:
            items = [item for item in items if item["virtual"]]
        size = int(input.get("numberOfResults") or 20)
        page = int(input.get("pageNumber") or 1)
        return {
            "resultsSize": len(items),
            "currentPage": page,
            "opportunities": items[(page - 1) * size : page * size],
        }

    async def endpoint(request: Request) -> Response:
        if request.headers.get("x-api-key") != VM_KEY:
            return JSONResponse({"message": "Invalid API key"}, status_code=401)
        body = await request.json()
        result = await graphql(
            schema,
            body.get("query", ""),
            root_value={"searchOpportunities": search},
            variable_values=body.get("variables"),
        )
        return JSONResponse(result.formatted)

    return Starlette(routes=[Route("/graphql", endpoint, methods=["POST"])])


@contextmanager
def served(truth: dict[str, Any]) -> Iterator[list[Partner]]:
    """The three partners of `truth`, live on loopback for the duration of the block."""
    files = {name: DATA / spec["file"] for name, spec in truth["partners"].items()}
    apps = {
        "api-engagement-xml": _feed,
        "idealist-json": _idealist,
        "volunteermatch-graphql": _volunteermatch,
    }
    with ExitStack() as stack:
        partners = []
        for name, spec in truth["partners"].items():
            server = LiveServer(apps[spec["connector"]](files[name])).start()
            stack.callback(server.stop)
            partners.append(_registration(name, spec["connector"], server.url))
        yield partners


def _registration(name: str, connector: str, base: str) -> Partner:
    common = {"timeout": 10.0, "retry": _retry()}
    if connector == "api-engagement-xml":
        return Partner(name, connector, f"{base}/feed.xml", {**common, "date_order": "DAY_FIRST"})
    if connector == "idealist-json":
        return Partner(name, connector, f"{base}/api/v1", {**common, "api_key": IDEALIST_KEY})
    return Partner(name, connector, base, {**common, "api_key": VM_KEY})
