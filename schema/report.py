"""The CSR report of a company's engagements: GraphQL, and the rows its CSV is made of.

Each engagement counts once, under its mission's primary cause and skill, so the groups add up
to the totals (hub.engagement.report says how); values are in euros, at the company's hourly
costs; the tax reduction is an estimate, with its parameters from the hub's settings.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from hub.engagement import (
    Costs,
    Dimension,
    EngagementStatus,
    Figures,
    Report,
    TaxRules,
    build_report,
)
from hub.errors import UserInputError
from hub.settings import Settings
from hub.storage.engagement_reads import EngagementReads
from schema.context import Context
from schema.permissions import CanFollowEngagements, CanSendEngagements
from schema.types import describe_values

__all__ = [
    "EngagementStatusEnum",
    "ReportMutation",
    "ReportQuery",
    "chart_data",
    "engagement_report",
    "parse_report_query",
    "report_rows",
]

ReportDimension = describe_values(
    strawberry.enum(
        Dimension,
        name="EngagementReportDimension",
        description="What to group a report by. CAUSE and SKILL use each mission's primary one, "
        "so that every engagement counts in one group only.",
    ),
    {
        "CAUSE": "The mission's primary cause (the first by name) when the engagement began.",
        "PARTNER": "The partner whose listing the employee was sent to.",
        "ORGANIZATION": "The association, by name.",
        "SKILL": "The mission's primary skill (the first by name) when the engagement began.",
        "MONTH": "The month (YYYY-MM, UTC) it counts in: completed, or else expressed.",
        "SITE": "The employee's site, as you labelled it.",
        "DEPARTMENT": "The employee's department, as you labelled it.",
    },
)


def _d(value: float) -> Decimal:
    return Decimal(str(value))


def rules_of(settings: Settings) -> TaxRules:
    d = _d
    return TaxRules(
        rate=d(settings.mecenat_rate),
        reduced_rate=d(settings.mecenat_reduced_rate),
        reduced_rate_threshold=d(settings.mecenat_reduced_rate_threshold),
        cap=d(settings.mecenat_cap),
        turnover_cap_ratio=d(settings.mecenat_turnover_cap_ratio),
        social_security_ceiling=d(settings.social_security_ceiling),
        salary_ceiling_multiple=d(settings.salary_ceiling_multiple),
        annual_work_hours=d(settings.annual_work_hours),
    )


def costs_of(entries: Sequence[tuple[str, str, float]]) -> Costs:
    found = {(kind, label): _d(amount) for kind, label, amount in entries}
    return Costs(
        default=found.get(("DEFAULT", "")),
        by_site={label: v for (kind, label), v in found.items() if kind == "SITE"},
        by_department={label: v for (kind, label), v in found.items() if kind == "DEPARTMENT"},
        annual_turnover=found.get(("TURNOVER", "")),
    )


def period(start: date, end: date, settings: Settings) -> tuple[datetime, datetime]:
    """[start, end] as whole UTC days; refused when reversed or longer than allowed."""
    if end < start:
        raise UserInputError(f"to ({end}) is before from ({start})")
    days = (end - start).days + 1
    if days > settings.report_max_days:
        raise UserInputError(
            f"a report covers at most {settings.report_max_days} days; this one asks for {days}"
        )
    first = datetime.combine(start, time(), UTC)
    return first, datetime.combine(end, time(), UTC) + timedelta(days=1)


def parse_report_query(
    start: str | None, end: str | None, group_by: str | None, settings: Settings
) -> tuple[datetime, datetime, list[Dimension]]:
    """The CSV endpoint's query string: from=YYYY-MM-DD&to=YYYY-MM-DD&groupBy=CAUSE,SITE."""
    try:
        first, last = date.fromisoformat(start or ""), date.fromisoformat(end or "")
    except ValueError as exc:
        raise UserInputError("from and to are dates: YYYY-MM-DD") from exc
    try:
        dims = [Dimension(d.strip().upper()) for d in (group_by or "").split(",") if d.strip()]
    except ValueError as exc:
        raise UserInputError(
            f"groupBy: one or more of {', '.join(d.value for d in Dimension)}"
        ) from exc
    return (*period(first, last, settings), _dimensions(dims))


def _dimensions(group_by: Sequence[Dimension]) -> list[Dimension]:
    if len(set(group_by)) != len(group_by):
        raise UserInputError("groupBy: each dimension once")
    return list(group_by)


async def engagement_report(
    reads: EngagementReads,
    settings: Settings,
    company_pk: int,
    start: datetime,
    end: datetime,
    group_by: Sequence[Dimension],
) -> Report:
    """A company's report (the caller's client pk), over its own engagements only."""
    facts = await reads.report_facts(company_pk, start, end)
    costs = costs_of(await reads.costs(company_pk))
    return build_report(facts, group_by, costs, rules_of(settings))


_STATUSES = list(EngagementStatus)
_COLUMNS = [
    "engagements",
    *(s.value.lower() for s in _STATUSES),
    "clicks",
    "hours_given",
    "distinct_employees",
    "distinct_organizations",
    "value_eur",
    "eligible_value_eur",
    "unvalued_hours",
]


def _numbers(f: Figures) -> list[str]:
    return [
        str(f.engagements),
        *(str(f.by_status[s]) for s in _STATUSES),
        str(f.clicks),
        str(f.hours_given),
        str(len(f.employees)),
        str(len(f.organizations)),
        str(f.value),
        str(f.eligible_value),
        str(f.unvalued_hours),
    ]


def report_rows(report: Report) -> list[list[str]]:
    """Header, one row per group, the totals row, then the estimate (labelled as such)."""
    dims = [d.value.lower() for d in report.group_by]
    rows = [[*dims, *_COLUMNS]]
    for group in report.groups:
        rows.append([v or "" for v in group.key.values()] + _numbers(group.figures))
    label = ["TOTAL", *[""] * (len(dims) - 1)] if dims else []
    rows.append(label + _numbers(report.totals))
    rows.append([])
    rows.append(["tax_reduction_estimate_eur", str(report.tax_reduction_estimate), "ESTIMATE"])
    return rows


# --- GraphQL --------------------------------------------------------------------------------


EngagementStatusEnum = describe_values(
    strawberry.enum(
        EngagementStatus,
        name="EngagementStatus",
        description="INTERESTED → APPLIED → ACCEPTED → COMPLETED, or DECLINED, WITHDRAWN, "
        "NO_SHOW (final, like COMPLETED). Steps may be skipped forwards, never taken back.",
    ),
    {
        "INTERESTED": "The employee expressed interest; the partner has heard of it.",
        "APPLIED": "The employee applied on the partner's platform.",
        "ACCEPTED": "The association accepted the employee; hours may be reported from now on.",
        "COMPLETED": "Done, with the hours given (final; hours may still be corrected).",
        "DECLINED": "The association declined (final).",
        "WITHDRAWN": "The employee no longer takes part (final).",
        "NO_SHOW": "Accepted, but the employee did not come (final).",
    },
)


@strawberry.type(description="How many engagements have this status.")
class StatusCount:
    status: EngagementStatusEnum = strawberry.field(description="The status.")  # type: ignore[valid-type]
    count: int = strawberry.field(description="Engagements in it.")


@strawberry.type(description="A report's figures for a group, or for the whole period.")
class ReportFigures:
    engagements: int = strawberry.field(description="Engagements, each counted once.")
    by_status: list[StatusCount] = strawberry.field(description="Engagements by status.")
    clicks: int = strawberry.field(description="Engagements whose tracked link was followed.")
    hours_given: float = strawberry.field(description="Hours given.")
    distinct_employees: int = strawberry.field(
        description="Distinct employees (within this group: not additive across groups)."
    )
    distinct_organizations: int = strawberry.field(
        description="Distinct associations (within this group: not additive across groups)."
    )
    value: float = strawberry.field(description="Value of the hours given at your costs (EUR).")
    eligible_value: float = strawberry.field(
        description="The same, each hour capped at the tax rules' hourly ceiling (EUR)."
    )
    unvalued_hours: float = strawberry.field(
        description="Hours of employees for whom no hourly cost is set (not valued)."
    )


def _figures(f: Figures) -> ReportFigures:
    return ReportFigures(
        engagements=f.engagements,
        by_status=[StatusCount(status=s, count=f.by_status[s]) for s in _STATUSES],
        clicks=f.clicks,
        hours_given=float(f.hours_given),
        distinct_employees=len(f.employees),
        distinct_organizations=len(f.organizations),
        value=float(f.value),
        eligible_value=float(f.eligible_value),
        unvalued_hours=float(f.unvalued_hours),
    )


@strawberry.type(description="One dimension's value of a group.")
class GroupKey:
    dimension: ReportDimension = strawberry.field(description="The dimension.")  # type: ignore[valid-type]
    value: str | None = strawberry.field(description="Null: engagements without this label.")


@strawberry.type(description="A group of the report.")
class ReportGroup:
    key: list[GroupKey] = strawberry.field(description="The group's value of each dimension.")
    label: str = strawberry.field(description="The values joined, for a chart's axis.")
    figures: ReportFigures = strawberry.field(description="The group's figures.")


@strawberry.type(description="The mécénat tax reduction the time given may bring: an ESTIMATE.")
class TaxEstimate:
    is_estimate: bool = strawberry.field(description="Always true: an accountant decides.")
    amount: float = strawberry.field(description="EUR, over the period as if it were a year.")
    rate: float = strawberry.field(description="Share of the eligible value (France: 0.60).")
    reduced_rate: float = strawberry.field(description="Share above the threshold (0.40).")
    reduced_rate_threshold: float = strawberry.field(
        description="Yearly eligible value (EUR) above which the reduced rate applies."
    )
    cap: float = strawberry.field(description="Cap (EUR), unless the turnover's is higher.")
    turnover_cap_ratio: float = strawberry.field(description="Cap as a share of turnover.")
    hourly_ceiling: float = strawberry.field(
        description="Most an hour counts for (salary cap: multiple × social-security ceiling "
        "over a full-time year's hours)."
    )


@strawberry.type(description="A chart's series: one value per label, in order.")
class ChartSeries:
    name: str = strawberry.field(description="What the series measures.")
    data: list[float] = strawberry.field(description="One value per label, in order.")


@strawberry.type(description="The groups as a chart library takes them.")
class ReportChart:
    labels: list[str] = strawberry.field(description="One label per group, in order.")
    series: list[ChartSeries] = strawberry.field(description="The measures.")


@strawberry.type(description="Your engagements over a period, grouped, with their value.")
class EngagementReport:
    start: date = strawberry.field(description="First day (UTC).")
    end: date = strawberry.field(description="Last day (UTC), included.")
    group_by: list[ReportDimension] = strawberry.field(description="The dimensions.")  # type: ignore[valid-type]
    groups: list[ReportGroup] = strawberry.field(description="Groups; they add up to totals.")
    totals: ReportFigures = strawberry.field(description="Every engagement of the period.")
    tax_reduction: TaxEstimate = strawberry.field(description="An estimate, labelled as such.")
    chart: ReportChart = strawberry.field(description="The groups, chart-ready.")
    currency: str = strawberry.field(default="EUR", description="Of every amount: EUR.")


def chart_data(report: Report) -> dict[str, Any]:
    """The groups as a chart library takes them: one label per group, one series per measure."""
    groups = report.groups
    measures: list[tuple[str, Callable[[Figures], Decimal | int]]] = [
        ("hoursGiven", lambda f: f.hours_given),
        ("value", lambda f: f.value),
        ("engagements", lambda f: f.engagements),
        *((s.value, lambda f, s=s: f.by_status[s]) for s in _STATUSES),
    ]
    return {
        "labels": [g.label for g in groups],
        "series": [
            {"name": name, "data": [float(measure(g.figures)) for g in groups]}
            for name, measure in measures
        ],
    }


def _chart(report: Report) -> ReportChart:
    data = chart_data(report)
    return ReportChart(
        labels=data["labels"],
        series=[ChartSeries(name=s["name"], data=s["data"]) for s in data["series"]],
    )


def _tax(report: Report, rules: TaxRules) -> TaxEstimate:
    return TaxEstimate(
        is_estimate=True,
        amount=float(report.tax_reduction_estimate),
        rate=float(rules.rate),
        reduced_rate=float(rules.reduced_rate),
        reduced_rate_threshold=float(rules.reduced_rate_threshold),
        cap=float(rules.cap),
        turnover_cap_ratio=float(rules.turnover_cap_ratio),
        hourly_ceiling=float(report.hourly_ceiling),
    )


@strawberry.input(description="An hourly cost for one site or department.")
class LabelCost:
    label: str = strawberry.field(description="The site or department, as you label it.")
    hourly_cost: float = strawberry.field(description="EUR an hour, charges included.")


@strawberry.type(description="An hourly cost for one site or department.")
class LabelCostValue:
    label: str = strawberry.field(description="The site or department.")
    hourly_cost: float = strawberry.field(description="EUR an hour.")


@strawberry.type(description="Your hourly costs, as the report values hours with them.")
class EngagementCosts:
    hourly_cost: float | None = strawberry.field(description="The default cost of an hour.")
    by_site: list[LabelCostValue] = strawberry.field(description="Costs per site.")
    by_department: list[LabelCostValue] = strawberry.field(description="Costs per department.")
    annual_turnover: float | None = strawberry.field(description="For the tax estimate's cap.")


def _costs_view(costs: Costs) -> EngagementCosts:
    return EngagementCosts(
        hourly_cost=float(costs.default) if costs.default is not None else None,
        by_site=[LabelCostValue(label=k, hourly_cost=float(v)) for k, v in costs.by_site.items()],
        by_department=[
            LabelCostValue(label=k, hourly_cost=float(v)) for k, v in costs.by_department.items()
        ],
        annual_turnover=float(costs.annual_turnover) if costs.annual_turnover is not None else None,
    )


@strawberry.type
class ReportQuery:
    @strawberry.field(
        permission_classes=[CanFollowEngagements],
        description="Your CSR report over [from, to] (whole UTC days, at most two years): counts "
        "by status, hours given, distinct employees and associations, their value and the tax "
        "reduction estimate. Also as CSV at GET /reports/engagements.csv.",
    )
    async def engagement_report(
        self,
        info: Info[Context, None],
        from_: Annotated[date, strawberry.argument(name="from", description="First day.")],
        to: Annotated[date, strawberry.argument(description="Last day, included.")],
        group_by: Annotated[
            list[ReportDimension] | None,  # type: ignore[valid-type]
            strawberry.argument(description="Dimensions, in order; none: totals only."),
        ] = None,
    ) -> EngagementReport:
        ctx = info.context
        assert ctx.caller is not None and ctx.engagement_reads is not None
        start, end = period(from_, to, ctx.settings)
        dims = _dimensions([Dimension(d) for d in group_by or ()])
        report = await engagement_report(
            ctx.engagement_reads, ctx.settings, ctx.caller.client_pk, start, end, dims
        )
        return EngagementReport(
            start=from_,
            end=to,
            group_by=dims,
            groups=[
                ReportGroup(
                    key=[GroupKey(dimension=d, value=v) for d, v in g.key.items()],
                    label=g.label,
                    figures=_figures(g.figures),
                )
                for g in report.groups
            ],
            totals=_figures(report.totals),
            tax_reduction=_tax(report, rules_of(ctx.settings)),
            chart=_chart(report),
        )

    @strawberry.field(
        permission_classes=[CanFollowEngagements], description="Your hourly costs for reports."
    )
    async def engagement_costs(self, info: Info[Context, None]) -> EngagementCosts:
        ctx = info.context
        assert ctx.caller is not None and ctx.engagement_reads is not None
        return _costs_view(costs_of(await ctx.engagement_reads.costs(ctx.caller.client_pk)))


@strawberry.type
class ReportMutation:
    @strawberry.mutation(
        permission_classes=[CanSendEngagements],
        description="Set your hourly costs (replacing the previous ones): a default, and others "
        "per site or department (a site's wins over a department's); and your annual turnover, "
        "for the tax estimate's cap.",
    )
    async def set_engagement_costs(
        self,
        info: Info[Context, None],
        hourly_cost: Annotated[
            float | None, strawberry.argument(description="The default cost of an hour (EUR).")
        ] = None,
        by_site: Annotated[
            list[LabelCost] | None, strawberry.argument(description="Costs per site.")
        ] = None,
        by_department: Annotated[
            list[LabelCost] | None, strawberry.argument(description="Costs per department.")
        ] = None,
        annual_turnover: Annotated[
            float | None, strawberry.argument(description="EUR a year, for the tax cap.")
        ] = None,
    ) -> EngagementCosts:
        ctx = info.context
        assert ctx.caller is not None and ctx.engagement_writer is not None
        assert ctx.engagement_reads is not None
        await ctx.engagement_writer.set_costs(
            ctx.caller.client_pk,
            hourly_cost,
            {c.label: c.hourly_cost for c in by_site or ()},
            {c.label: c.hourly_cost for c in by_department or ()},
            annual_turnover,
        )
        return _costs_view(costs_of(await ctx.engagement_reads.costs(ctx.caller.client_pk)))
