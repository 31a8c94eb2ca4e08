"""The engagement loop's pure rules: moves, valuation and the tax estimate, the report's sums,
tracked URLs and contact sealing."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from cryptography.fernet import Fernet

from hub.engagement import (
    Contact,
    ContactCipher,
    ContactUnreadable,
    Costs,
    Dimension,
    EngagementStatus,
    Fact,
    Listing,
    Move,
    TaxRules,
    build_report,
    refusal,
    tax_estimate,
    tracked_url,
)
from hub.ingest.engagement_base import choose_listing

S = EngagementStatus


@pytest.mark.parametrize(
    ("current", "hours", "move", "allowed"),
    [
        (S.INTERESTED, None, Move(S.APPLIED), True),
        (S.INTERESTED, None, Move(S.ACCEPTED), True),  # a step skipped forwards
        (S.APPLIED, None, Move(S.INTERESTED), False),  # never back
        (S.INTERESTED, None, Move(S.NO_SHOW), False),  # no-show only once accepted
        (S.ACCEPTED, None, Move(S.NO_SHOW), True),
        (S.ACCEPTED, None, Move(S.COMPLETED), False),  # no hours
        (S.ACCEPTED, 2.0, Move(S.COMPLETED), True),  # hours given earlier
        (S.ACCEPTED, None, Move(S.COMPLETED, 0), False),
        (S.COMPLETED, 6.0, Move(S.ACCEPTED), False),
        (S.COMPLETED, 6.0, Move(hours_given=7), True),  # a correction
        (S.COMPLETED, 6.0, Move(hours_given=0), False),
        (S.WITHDRAWN, None, Move(S.WITHDRAWN), True),  # asked again: idempotent
        (S.DECLINED, None, Move(S.ACCEPTED), False),
        (S.APPLIED, None, Move(hours_given=3), False),
        (S.ACCEPTED, None, Move(hours_given=float("nan")), False),
        (S.ACCEPTED, None, Move(hours_given=5000), False),
    ],
)
def test_moves(current: S, hours: float | None, move: Move, allowed: bool) -> None:
    assert (refusal(current, hours, move) is None) is allowed


def test_tax_estimate_rates_threshold_and_caps() -> None:
    rules = TaxRules()
    assert tax_estimate(Decimal(1000), rules, None) == Decimal("600.00")
    assert tax_estimate(Decimal(100_000), rules, None) == Decimal("20000.00")  # capped
    # 0.5% of a 10 M EUR turnover (50,000) is above 20,000: that is the cap.
    assert tax_estimate(Decimal(100_000), rules, Decimal(10_000_000)) == Decimal("50000.00")
    big = Decimal(3_000_000)
    assert tax_estimate(big, rules, Decimal(10**10)) == Decimal("1600000.00")  # 60% + 40%
    assert rules.hourly_ceiling == Decimal("89.72")  # 3 x 48,060 / 1,607


def test_costs_prefer_site_then_department_then_default() -> None:
    costs = Costs(
        default=Decimal(50),
        by_site={"Lyon": Decimal(80)},
        by_department={"IT": Decimal(70)},
    )
    assert costs.hourly("Lyon", "IT") == 80
    assert costs.hourly("Paris", "IT") == 70
    assert costs.hourly(None, None) == 50


def _facts(count: int) -> list[Fact]:
    rng = random.Random(7)
    return [
        Fact(
            status=rng.choice(list(S)),
            hours_given=Decimal(str(rng.choice([0, 1.5, 3.25, 6, 7.1]))),
            employee=f"emp-{rng.randint(1, 9)}",
            organization=rng.choice(["Tremplin", "Code Solidaire", None]),
            partner=rng.choice(["alpha", "beta"]),
            cause=rng.choice(["education", "sante", None]),
            skill=None,
            site=rng.choice(["Lyon", "Lille", None]),
            department=rng.choice(["IT", "RH"]),
            on=datetime(2026, rng.randint(1, 12), 3, tzinfo=UTC),
            clicked=rng.random() < 0.5,
        )
        for _ in range(count)
    ]


@pytest.mark.parametrize(
    "group_by",
    [[], [Dimension.CAUSE], [Dimension.SITE, Dimension.MONTH], list(Dimension)],
)
def test_a_reports_groups_add_up_to_its_totals(group_by: list[Dimension]) -> None:
    costs = Costs(default=Decimal("41.37"), by_site={"Lyon": Decimal("95.5")})
    report = build_report(_facts(200), group_by, costs, TaxRules())
    groups = [g.figures for g in report.groups]
    assert sum(f.engagements for f in groups) == report.totals.engagements == 200
    assert sum(f.hours_given for f in groups) == report.totals.hours_given
    assert sum(f.value for f in groups) == report.totals.value
    assert sum(f.eligible_value for f in groups) == report.totals.eligible_value
    assert sum(f.clicks for f in groups) == report.totals.clicks
    for status in S:
        assert sum(f.by_status[status] for f in groups) == report.totals.by_status[status]
    # Lyon's hours are valued at 95.5, capped at the ceiling for the reduction.
    assert report.totals.eligible_value < report.totals.value


def test_tracked_url_keeps_the_listings_parameters_and_adds_the_partners() -> None:
    url = tracked_url(
        "https://p.example/apply?id=3&utm_source=feed",
        None,
        company="company-1",
        engagement="eng_1",
    )
    assert url == (
        "https://p.example/apply?id=3&utm_source=entraide-hub&utm_medium=company"
        "&utm_campaign=company-1&hub_engagement=eng_1"
    )
    own = tracked_url("https://p.example/a", {"from": "hub-{company}"}, company="c", engagement="e")
    assert own == "https://p.example/a?from=hub-c"


def test_contact_keys_rotate_first_encrypts_all_decrypt() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    sealed = ContactCipher([old]).seal(Contact(email="a@b.fr"))
    rotated = ContactCipher([new, old])
    assert rotated.open(sealed) == Contact(email="a@b.fr")
    resealed = rotated.rotate(sealed)
    assert ContactCipher([new]).open(resealed) == Contact(email="a@b.fr")
    with pytest.raises(ContactUnreadable):
        ContactCipher([new]).open(sealed)  # the old key is gone: unreadable, not a crash
    assert "a@b.fr" not in sealed


def test_the_preferred_partners_open_listing_is_chosen() -> None:
    listings = [
        Listing(1, 1, "alpha", "https://a", None, open=True),
        Listing(2, 2, "beta", "https://b", None, open=True),
        Listing(3, 3, "gamma", "https://c", None, open=False),
    ]
    assert choose_listing(listings, (), 1).partner == "alpha"  # the one shown
    assert choose_listing(listings, ("beta",), 1).partner == "beta"
    assert choose_listing(listings, ("gamma", "beta"), 1).partner == "beta"  # gamma's is closed
