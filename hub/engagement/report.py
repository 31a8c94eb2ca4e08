"""The CSR report of engagements: groups, totals that add up, and a chart-ready shape.

Each engagement is counted in exactly one group. A mission has several causes and skills, so an
engagement is attributed to its mission's *primary* cause and skill (the first the partner
listed, as kept on the engagement when it began): grouping by CAUSE or SKILL then still adds up,
and the mission's other causes are not counted twice. Counts, hours and values of the groups
sum to the totals; distinct employees and associations are distinct within each group and
within the totals (one employee in two groups is one employee in the totals), so they are not
sums. The tax estimate applies to the whole period only (its caps are not additive).
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from hub.engagement.status import EngagementStatus
from hub.engagement.valuation import Costs, TaxRules, money, tax_estimate

__all__ = ["Dimension", "Fact", "Figures", "Group", "Report", "build_report"]


class Dimension(enum.StrEnum):
    CAUSE = "CAUSE"
    PARTNER = "PARTNER"
    ORGANIZATION = "ORGANIZATION"
    SKILL = "SKILL"
    MONTH = "MONTH"
    SITE = "SITE"
    DEPARTMENT = "DEPARTMENT"


@dataclass(frozen=True, slots=True)
class Fact:
    """One engagement, as the report sees it."""

    status: EngagementStatus
    hours_given: Decimal
    employee: str
    organization: str | None
    partner: str
    cause: str | None
    skill: str | None
    site: str | None
    department: str | None
    on: datetime  # when it counts: completed, or else expressed
    clicked: bool = False

    def value_of(self, dimension: Dimension) -> str | None:
        if dimension is Dimension.MONTH:
            return self.on.strftime("%Y-%m")
        return {
            Dimension.CAUSE: self.cause,
            Dimension.PARTNER: self.partner,
            Dimension.ORGANIZATION: self.organization,
            Dimension.SKILL: self.skill,
            Dimension.SITE: self.site,
            Dimension.DEPARTMENT: self.department,
        }[dimension]


@dataclass(slots=True)
class Figures:
    """What the report says of a set of engagements."""

    engagements: int = 0
    by_status: Counter[EngagementStatus] = field(default_factory=Counter)
    clicks: int = 0
    hours_given: Decimal = Decimal(0)
    value: Decimal = Decimal(0)  # at the company's hourly costs
    eligible_value: Decimal = Decimal(0)  # hourly costs capped by the tax rules
    unvalued_hours: Decimal = Decimal(0)  # hours of employees with no hourly cost set
    employees: set[str] = field(default_factory=set)
    organizations: set[str] = field(default_factory=set)

    def add(self, fact: Fact, costs: Costs, rules: TaxRules) -> None:
        self.engagements += 1
        self.by_status[fact.status] += 1
        self.clicks += fact.clicked
        self.hours_given += fact.hours_given
        self.employees.add(fact.employee)
        if fact.organization is not None:
            self.organizations.add(fact.organization)
        hourly = costs.hourly(fact.site, fact.department)
        if hourly is None:
            self.unvalued_hours += fact.hours_given
            return
        # Rounded per engagement, so that the groups' values sum to the total to the cent.
        self.value += money(fact.hours_given * hourly)
        self.eligible_value += money(fact.hours_given * min(hourly, rules.hourly_ceiling))


@dataclass(slots=True)
class Group:
    key: dict[Dimension, str | None]
    figures: Figures = field(default_factory=Figures)

    @property
    def label(self) -> str:
        return " · ".join(value or "(none)" for value in self.key.values()) or "all"


@dataclass(slots=True)
class Report:
    group_by: Sequence[Dimension]
    groups: list[Group]
    totals: Figures
    tax_reduction_estimate: Decimal
    hourly_ceiling: Decimal


def build_report(
    facts: Iterable[Fact], group_by: Sequence[Dimension], costs: Costs, rules: TaxRules
) -> Report:
    """Groups in the order of their keys (none last), and the totals of the same facts."""
    totals = Figures()
    groups: dict[tuple[str | None, ...], Group] = {}
    for fact in facts:
        key = tuple(fact.value_of(d) for d in group_by)
        group = groups.get(key)
        if group is None:
            group = groups[key] = Group(dict(zip(group_by, key, strict=True)))
        group.figures.add(fact, costs, rules)
        totals.add(fact, costs, rules)
    ordered = sorted(groups.items(), key=lambda item: [(v is None, v or "") for v in item[0]])
    return Report(
        group_by=list(group_by),
        groups=[group for _, group in ordered],
        totals=totals,
        tax_reduction_estimate=tax_estimate(totals.eligible_value, rules, costs.annual_turnover),
        hourly_ceiling=rules.hourly_ceiling,
    )
