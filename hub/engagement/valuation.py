"""What the time given is worth, and the mécénat tax reduction it may bring: an estimate.

The company sets an hourly cost (a default, and others per site or department); an hour is
valued at the cost of the most precise label it matches (site, then department, then the
default). For the tax estimate the French rules in force are parameters (hub/settings.py):

- the salary counted is capped at `salary_ceiling_multiple` × the annual social-security ceiling;
  the hub, which knows hourly costs only, caps the hourly cost at that ceiling over
  `annual_work_hours`;
- the reduction is `rate` of the eligible value up to `reduced_rate_threshold` a year, and
  `reduced_rate` above it;
- it is capped at `cap` or `turnover_cap_ratio` × the annual turnover, whichever is greater.

These apply to a fiscal year; over another period the figure is only indicative, and it is always
labelled an estimate: the company's accountant has the last word.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

__all__ = ["CENT", "Costs", "TaxRules", "money", "tax_estimate"]

CENT = Decimal("0.01")


def money(value: Decimal | float) -> Decimal:
    """Euros, to the cent (half up, as invoices round)."""
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class TaxRules:
    rate: Decimal = Decimal("0.60")
    reduced_rate: Decimal = Decimal("0.40")
    reduced_rate_threshold: Decimal = Decimal("2000000")
    cap: Decimal = Decimal("20000")
    turnover_cap_ratio: Decimal = Decimal("0.005")
    social_security_ceiling: Decimal = Decimal("48060")
    salary_ceiling_multiple: Decimal = Decimal("3")
    annual_work_hours: Decimal = Decimal("1607")

    @property
    def hourly_ceiling(self) -> Decimal:
        """The most an hour may be valued at for the reduction."""
        return money(
            self.social_security_ceiling * self.salary_ceiling_multiple / self.annual_work_hours
        )


@dataclass(frozen=True, slots=True)
class Costs:
    """A company's hourly costs: a default and, optionally, per site and per department."""

    default: Decimal | None = None
    by_site: Mapping[str, Decimal] = field(default_factory=dict)
    by_department: Mapping[str, Decimal] = field(default_factory=dict)
    annual_turnover: Decimal | None = None

    def hourly(self, site: str | None, department: str | None) -> Decimal | None:
        """The cost of an hour given by an employee of this site and department."""
        if site is not None and site in self.by_site:
            return self.by_site[site]
        if department is not None and department in self.by_department:
            return self.by_department[department]
        return self.default


def tax_estimate(eligible: Decimal, rules: TaxRules, turnover: Decimal | None) -> Decimal:
    """The mécénat reduction for `eligible` euros of time given in a year (an estimate)."""
    below = min(eligible, rules.reduced_rate_threshold)
    above = max(Decimal(0), eligible - rules.reduced_rate_threshold)
    reduction = below * rules.rate + above * rules.reduced_rate
    cap = max(rules.cap, (turnover or Decimal(0)) * rules.turnover_cap_ratio)
    return money(min(reduction, cap))
