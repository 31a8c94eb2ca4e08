"""Hours per week read from partners' free text, in French and English."""

from __future__ import annotations

import pytest

from hub.catalogue.hours import hours_per_week, schedule_hours


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


# Ranges: both ends kept, whatever the separator, and the unit may be written twice.
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3 h à 5 h par semaine", (3.0, 5.0)),
        ("entre 2 et 4 h par semaine", (2.0, 4.0)),
        ("Entre 2 et 4 heures / semaine", (2.0, 4.0)),
        ("2 à 4 heures par semaine", (2.0, 4.0)),
        ("de 2 à 4 h par semaine", (2.0, 4.0)),
        ("2-4 hours a week", (2.0, 4.0)),
        ("2 - 4 hours a week", (2.0, 4.0)),
        ("2\u20134 hours a week", (2.0, 4.0)),  # an en dash
        ("from 2 to 4 hours per week", (2.0, 4.0)),
        ("between 2 and 4 hours per week", (2.0, 4.0)),
        ("1h30 à 2h par semaine", (1.5, 2.0)),
        ("une demi-journée à une journée par semaine", (3.5, 7.0)),
        ("4 à 8 heures par mois", (0.92, 1.85)),
        # A single amount sets both ends.
        ("3 h par semaine", (3.0, 3.0)),
        ("5 hours a week", (5.0, 5.0)),
    ],
)
def test_ranges(text: str, expected: tuple[float, float]) -> None:
    assert hours_per_week(text) == expected


# No period, no amount per week: "2 à 4 heures" may be the whole mission's length, and the
# module guesses nothing (as for "2 heures").
@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "Flexible",
        "quelques heures",
        "2 heures",
        "3 jours",
        "entre 2 et 4 h",
        "2 à 4 heures",
    ],
)
def test_no_amount_per_period_is_none(text: str | None) -> None:
    assert hours_per_week(text) is None


# A description that states the hours in a sentence is read like a schedule field (VolunteerMatch
# has no such field); one that says only how often ("une fois par semaine") gives no amount.
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Vous lisez des histoires aux enfants. Disponibilité demandée : 2 à 3 heures par "
            "semaine. Mission proposée par Lire et faire lire, à Limoges.",
            (2.0, 3.0),
        ),
        ("You tutor adults online. Time commitment: 1-2 hours a week.", (1.0, 2.0)),
        ("Vous lisez des histoires aux enfants, une fois par semaine.", None),
    ],
)
def test_hours_stated_in_a_description(text: str, expected: tuple[float, float] | None) -> None:
    assert hours_per_week(text) == expected


# A schedule field is the mission's rhythm: an amount of hours alone in it is per week.
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("entre 2 et 4 h", (2.0, 4.0)),
        ("2 à 4 heures", (2.0, 4.0)),
        ("3h", (3.0, 3.0)),
        ("2–4 hours", (2.0, 4.0)),
        ("environ 2 heures", (2.0, 2.0)),
        ("3 h à 5 h par semaine", (3.0, 5.0)),  # an amount per period reads as everywhere
        ("une demi-journée par semaine", (3.5, 3.5)),
    ],
)
def test_a_schedule_of_hours_alone_is_per_week(text: str, expected: tuple[float, float]) -> None:
    assert schedule_hours(text) == expected


# Only an amount of hours alone: days state a mission's length, a time of day is no amount, and
# a schedule that says more than the amount is read as any text is (a period is needed).
@pytest.mark.parametrize(
    "text",
    [None, "", "Flexible", "3 jours", "10h30", "2 à 4 heures, selon vos disponibilités"],
)
def test_a_schedule_that_is_not_hours_alone_needs_a_period(text: str | None) -> None:
    assert schedule_hours(text) is None
