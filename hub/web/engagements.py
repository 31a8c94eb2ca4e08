"""The engagement loop's HTTP edge: tracked links (/go/TOKEN, no token needed: employees click
them) and the CSR report as CSV or chart-ready JSON (a company's bearer token with
engagements:read)."""

from __future__ import annotations

import asyncio
import csv
import html
import io
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from hub.auth import Caller, InvalidToken
from hub.auth.caller import ENGAGEMENTS_READ
from hub.background import Steps
from hub.engagement import Report
from hub.errors import HubError
from hub.ingest.engagements import EngagementWriter
from schema.report import chart_data, engagement_report, parse_report_query, report_rows

__all__ = ["engagement_routes", "sweep_contacts"]

logger = logging.getLogger("hub.engagements")

Authenticate = Callable[[str | None], Awaitable[Caller | None]]

_PAGE = """<!doctype html><html lang="fr"><head><meta charset="utf-8">
<title>Entraide Hub</title></head><body><main><h1>{title}</h1><p>{text}</p></main></body></html>"""


def _page(status: int, title: str, text: str) -> HTMLResponse:
    return HTMLResponse(
        _PAGE.format(title=html.escape(title), text=html.escape(text)),
        status_code=status,
        headers={"cache-control": "no-store", "referrer-policy": "no-referrer"},
    )


def engagement_routes(authenticate: Authenticate) -> list[Route]:
    async def go(request: Request) -> Response:
        writer: EngagementWriter = request.app.state.services.engagement_writer
        token = request.path_params["token"]
        click = await writer.click(token) if 20 <= len(token) <= 64 else None
        if click is None or click.url is None:
            reason = click.reason if click is not None else "This link is unknown."
            return _page(
                click.status if click else 404, "Lien indisponible · Link unavailable", reason or ""
            )
        # 302: the same link may lead elsewhere tomorrow (another listing, an expired link).
        return RedirectResponse(click.url, status_code=302, headers={"cache-control": "no-store"})

    async def report(request: Request) -> tuple[Report, datetime, datetime] | Response:
        """The caller's report as the query string asks, or the response that refuses it."""
        try:
            caller = await authenticate(request.headers.get("authorization"))
        except InvalidToken as exc:
            return _refusal(401, "UNAUTHENTICATED", str(exc))
        if caller is None:
            return _refusal(401, "UNAUTHENTICATED", "send a bearer token with engagements:read")
        if not caller.has(ENGAGEMENTS_READ):
            return _refusal(403, "FORBIDDEN", "this token does not carry engagements:read")
        services: Any = request.app.state.services
        try:
            start, end, group_by = parse_report_query(
                request.query_params.get("from"),
                request.query_params.get("to"),
                request.query_params.get("groupBy"),
                services.settings,
            )
            found = await engagement_report(
                services.engagement_reads, services.settings, caller.client_pk, start, end, group_by
            )
        except HubError as exc:
            return _refusal(400, getattr(exc, "code", "BAD_USER_INPUT"), str(exc))
        return found, start, end - timedelta(days=1)

    async def report_csv(request: Request) -> Response:
        answer = await report(request)
        if isinstance(answer, Response):
            return answer
        found, first, last = answer
        out = io.StringIO()
        csv.writer(out, lineterminator="\r\n").writerows(report_rows(found))
        name = f"engagements-{first:%Y%m%d}-{last:%Y%m%d}.csv"
        return Response(
            out.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{name}"'},
        )

    async def report_chart(request: Request) -> Response:
        """The report's groups, chart-ready, with the totals and the estimate beside them."""
        answer = await report(request)
        if isinstance(answer, Response):
            return answer
        found, first, last = answer
        totals = found.totals
        return JSONResponse(
            {
                "from": first.date().isoformat(),
                "to": last.date().isoformat(),
                "groupBy": [d.value for d in found.group_by],
                **chart_data(found),
                "totals": {
                    "engagements": totals.engagements,
                    "hoursGiven": float(totals.hours_given),
                    "value": float(totals.value),
                    "currency": "EUR",
                },
                "taxReductionEstimate": {
                    "amount": float(found.tax_reduction_estimate),
                    "isEstimate": True,
                },
            }
        )

    return [
        Route("/go/{token}", go, methods=["GET"]),
        Route("/reports/engagements.csv", report_csv, methods=["GET"]),
        Route("/reports/engagements.json", report_chart, methods=["GET"]),
    ]


def _refusal(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status)


async def sweep_contacts(
    writer: EngagementWriter, steps: Steps, every_seconds: float = 3600.0
) -> None:
    """Erase contact details past their retention, once an hour (reads hide them already);
    each sweep is a step that stopping lets finish (hub/background.py)."""
    while not steps.stopping:
        try:
            with steps.step():
                erased = await writer.erase_expired_contacts()
            if erased:
                logger.info("engagements: erased the contact details of %d past retention", erased)
        except Exception:
            logger.exception("engagements: the contact retention sweep failed")
        await asyncio.sleep(every_seconds)
