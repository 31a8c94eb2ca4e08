"""Hours per week read from partners' free text, in French and English."""

from __future__ import annotations

import pytest

from hub.catalogue.hours import hours_per_week


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4 heures par semaine", (4.0, 4.0)),
        ("2h/semaine", (2.0, 2.0)),
        ("2 heures / semaine", (2.0, 2.0)),
        ("une demi-journée par mois", (0.81, 0.81)),  # 3.5 h over 52/12 weeks
        ("1 demi-journée par semaine", (3.5, 3.5)),
        ("une journée par semaine", (7.0, 7.0)),
        ("2 à 4 heures par semaine", (2.0, 4.0)),
        ("10 heures par mois", (2.31, 2.31)),
        ("2 soirées par mois", (0.92, 0.92)),
        ("1h30 par semaine", (1.5, 1.5)),
        ("2h hebdo", (2.0, 2.0)),
        ("3h/week", (3.0, 3.0)),
        ("1-2 hours per week", (1.0, 2.0)),
        ("3 hours a week", (3.0, 3.0)),
        ("Two half-days per month", (1.62, 1.62)),
        ("4 à 2 heures par semaine", (2.0, 4.0)),
    ],
)
def test_phrases(text: str, expected: tuple[float, float]) -> None:
    assert hours_per_week(text) == expected


@pytest.mark.parametrize("text", [None, "", "Flexible", "quelques heures", "2 heures", "3 jours"])
def test_no_amount_per_period_is_none(text: str | None) -> None:
    assert hours_per_week(text) is None
