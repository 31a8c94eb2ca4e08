"""Hours per week from the free text partners write ("2h/semaine", "une demi-journée par mois").

No library reads French and English schedule phrases, so this is the hub's own small grammar:
an amount (a number, a range, or words such as "une demi-journée"), a unit (hours, half-days,
days, evenings) and a period (week, month, day, year). Anything else gives None rather than a
guess.

A schedule field is a mission's rhythm (API Engagement's `schedule`: "Rythme de la mission",
Idealist's `expectedTime`): when it holds nothing but an amount of hours ("entre 2 et 4 h",
"3h"), the week is implied and `schedule_hours` reads it per week. Anywhere else (a
description, or a schedule that says more than the amount) an amount without a period stays
unread, since "2 à 4 heures" in a sentence may be the whole mission's length; days without a
period ("3 jours") are read nowhere, being the usual way to state a mission's length.
"""

from __future__ import annotations

import re

from hub.catalogue.text import fold

__all__ = ["DAY_HOURS", "HALF_DAY_HOURS", "hours_per_week", "schedule_hours"]

HALF_DAY_HOURS = 3.5  # a French working half-day
DAY_HOURS = 7.0  # a French working day (35-hour week)
EVENING_HOURS = 2.0
WEEKS_PER_MONTH = 52 / 12

_WORD_NUMBERS = {
    "un": 1.0, "une": 1.0, "one": 1.0, "a": 1.0, "an": 1.0,
    "deux": 2.0, "two": 2.0, "trois": 3.0, "three": 3.0, "quatre": 4.0, "four": 4.0,
    "cinq": 5.0, "five": 5.0, "six": 6.0, "dix": 10.0, "ten": 10.0,
}  # fmt: skip
_NUMBER = r"(?:\d+(?:[.,]\d+)?|" + "|".join(_WORD_NUMBERS) + r")"
_UNITS = {
    "h": 1.0, "heure": 1.0, "heures": 1.0, "hr": 1.0, "hrs": 1.0, "hour": 1.0, "hours": 1.0,
    "demi journee": HALF_DAY_HOURS, "demi journees": HALF_DAY_HOURS,
    "half day": HALF_DAY_HOURS, "half days": HALF_DAY_HOURS,
    "journee": DAY_HOURS, "journees": DAY_HOURS, "jour": DAY_HOURS, "jours": DAY_HOURS,
    "day": DAY_HOURS, "days": DAY_HOURS,
    "soiree": EVENING_HOURS, "soirees": EVENING_HOURS, "evening": EVENING_HOURS,
    "evenings": EVENING_HOURS,
}  # fmt: skip
_PERIODS = {
    "semaine": 1.0, "sem": 1.0, "week": 1.0, "wk": 1.0, "hebdo": 1.0, "hebdomadaire": 1.0,
    "mois": 1 / WEEKS_PER_MONTH, "month": 1 / WEEKS_PER_MONTH, "mensuel": 1 / WEEKS_PER_MONTH,
    "jour": 5.0, "day": 5.0, "quinzaine": 0.5, "fortnight": 0.5,
    "an": 1 / 52, "annee": 1 / 52, "year": 1 / 52,
}  # fmt: skip
_UNIT = "|".join(sorted((re.escape(u) for u in _UNITS), key=len, reverse=True))
_PERIOD = "|".join(sorted((re.escape(p) for p in _PERIODS), key=len, reverse=True))
# A range may repeat its unit ("3 h à 5 h") and may read "entre 2 et 4 h" or "2–4 hours".
_PATTERN = re.compile(
    rf"(?P<low>{_NUMBER})\s*(?:(?P<low_unit>{_UNIT})\s*)?"
    rf"(?:(?:a|-|to|ou|or|et|and)\s*(?P<high>{_NUMBER}))?\s*(?P<unit>{_UNIT})\b"
    rf"(?:\s*(?:par|per|/|a|every|chaque|each|une|la|le|by)\s*)*\s*(?P<period>{_PERIOD})\b"
)
# A schedule that is only an amount of hours: "entre 2 et 4 h", "2 à 4 heures", "3h", "environ 2h".
_BARE_HOURS = re.compile(
    rf"^(?:entre |environ |about |around )?(?P<low>{_NUMBER})\s*(?:h|heures?|hrs?|hours?)?\s*"
    rf"(?:(?:a|-|to|et|and)\s*(?P<high>{_NUMBER}))?\s*(?:h|heures?|hrs?|hours?)\.?$"
)
_SPACES = re.compile(r"[\s'’_]+")
_HOURS_MINUTES = re.compile(r"\b(\d+)\s*h\s*(\d{2})\b")


def _number(text: str) -> float:
    return _WORD_NUMBERS.get(text) or float(text.replace(",", "."))


def hours_per_week(text: str | None) -> tuple[float, float] | None:
    """(min, max) hours per week, or None when the text says no amount per period.

    >>> hours_per_week("2 à 4 heures par semaine")
    (2.0, 4.0)
    """
    if not text:
        return None
    normal = _SPACES.sub(" ", fold(text)).replace("semaines", "semaine").replace("weeks", "week")
    normal = normal.replace("demi-", "demi ").replace("half-", "half ").replace("/", " par ")
    normal = normal.replace("\u2013", "-").replace("\u2014", "-")  # en and em dashes
    normal = _HOURS_MINUTES.sub(lambda m: f"{int(m[1]) + int(m[2]) / 60:.2f} h", normal)
    match = _PATTERN.search(normal)
    if match is None:
        return None
    period = _PERIODS[match["period"]]
    factor = _UNITS[match["unit"]] * period
    if match["low_unit"] and not match["high"]:
        return None  # "2 h 5 h par semaine" is no amount
    low_factor = _UNITS[match["low_unit"]] * period if match["low_unit"] else factor
    low = _number(match["low"]) * low_factor
    high = _number(match["high"]) * factor if match["high"] else low
    if high < low:
        low, high = high, low
    return round(low, 2), round(high, 2)


def schedule_hours(text: str | None) -> tuple[float, float] | None:
    """(min, max) hours per week from a schedule field: an amount per period, or an amount of
    hours alone, the week being implied by the field (see the module's docstring).

    >>> schedule_hours("entre 2 et 4 h")
    (2.0, 4.0)
    >>> schedule_hours("2 à 4 heures, selon vos disponibilités") is None
    True
    """
    stated = hours_per_week(text)
    if stated is not None or not text:
        return stated
    normal = _SPACES.sub(" ", fold(text)).strip().replace("\u2013", "-").replace("\u2014", "-")
    match = _BARE_HOURS.match(normal)
    if match is None:
        return None
    low = _number(match["low"])
    high = _number(match["high"]) if match["high"] else low
    return (round(min(low, high), 2), round(max(low, high), 2))
