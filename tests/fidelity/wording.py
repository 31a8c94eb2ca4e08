"""How people and platforms word the same mission differently: titles, names, hours, dates.

Each function returns the text a listing shows and the pattern it exhibits, so that the truth
and the per-pattern figures can say which variation a pair of listings carried.
"""

from __future__ import annotations

import random
import unicodedata
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

__all__ = [
    "PARIS",
    "abbreviate",
    "decorate_title",
    "en_hours",
    "fr_hours",
    "hours_sentence",
    "number",
    "paris_midnight_utc",
    "strip_accents",
]

PARIS = ZoneInfo("Europe/Paris")

# What volunteers' coordinators type in front of a title on a busy platform.
PREFIXES = (
    "Appel à bénévoles : ",
    "Mission : ",
    "Bénévolat - ",
    "Recherche bénévole : ",
    "Appel à bénévoles - ",
)
ENGLISH_PREFIXES = ("Volunteer opportunity: ", "Remote volunteering - ", "Volunteers needed: ")
TAGS = ("[Urgent] ", "URGENT - ", "[Nouveau] ", "[Urgent] ")
# Abbreviations seen in titles cut to fit a field, longest first.
ABBREVIATIONS = (
    ("Accompagnement", "Accomp."),
    ("accompagnement", "accomp."),
    ("Bénévole", "Bénév."),
    ("bénévole", "bénév."),
    ("association", "asso"),
    ("administratives", "admin."),
    ("personnes âgées", "pers. âgées"),
    ("personnes", "pers."),
    ("numériques", "num."),
    ("informatique", "info"),
    ("d'ordinateurs", "d'ordis"),
    ("mathématiques", "maths"),
    ("Animation", "Anim."),
    ("Organisation", "Orga."),
    ("professionnelle", "pro"),
    (" et ", " & "),
)


def strip_accents(text: str) -> str:
    """What an export without Unicode does: "Cœur" becomes "Coeur", "Épicerie" "Epicerie"."""
    text = text.replace("œ", "oe").replace("Œ", "OE").replace("æ", "ae")
    folded = unicodedata.normalize("NFKD", text)
    return "".join(c for c in folded if not unicodedata.combining(c))


def abbreviate(title: str) -> str:
    for long, short in ABBREVIATIONS:
        if long in title:
            return title.replace(long, short, 1)
    return title


def decorate_title(
    rng: random.Random,
    title: str,
    place: str | None,
    org_short: str,
    english: str | None,
    *,
    english_org: bool = False,
) -> tuple[str, list[str]]:
    """The title as a platform shows it: one or two of the variations, and their names."""
    if english:
        return english, ["title:english"]
    kinds = ["prefix", "tag", "suffix-place", "suffix-org", "case"]
    if not english_org:
        kinds += ["suffix-hf", "accents"]
        if abbreviate(title) != title:
            kinds += ["abbreviation", "abbreviation"]
    prefixes = ENGLISH_PREFIXES if english_org else PREFIXES
    chosen = rng.sample(kinds, 2 if rng.random() < 0.3 else 1)
    patterns = []
    # Word-level changes first, then what is put around the title.
    for kind in sorted(chosen, key=lambda k: k not in ("abbreviation", "accents", "case")):
        if kind == "abbreviation":
            title = abbreviate(title)
        elif kind == "accents":
            if strip_accents(title) == title:
                continue
            title = strip_accents(title)
        elif kind == "case":
            title = title.upper() if rng.random() < 0.5 else title.lower()
        elif kind == "prefix":
            title = rng.choice(prefixes) + title
        elif kind == "tag":
            title = rng.choice(TAGS) + title
        elif kind == "suffix-place":
            remote = (
                (" (remote)", " - Virtual")
                if english_org
                else (" (à distance)", " - 100% à distance")
            )
            title += f" - {place}" if place else rng.choice(remote)
        elif kind == "suffix-org":
            title += f" - {org_short}"
        elif kind == "suffix-hf":
            title += " (H/F)"
        patterns.append(f"title:{kind}")
    return title, patterns or ["title:clean"]


def number(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value).replace(".", ",")


def fr_hours(rng: random.Random, hours: tuple[float, float]) -> tuple[str, str]:
    """A French schedule label for hours a week."""
    low, high = (number(h) for h in hours)
    if low == high:
        forms: tuple[str, ...] = (
            f"{low}h par semaine",
            f"{low} heures par semaine",
            f"{low} h/semaine",
        )
        return rng.choice(forms), "hours:fr-single"
    forms = (
        f"{low} h à {high} h par semaine",
        f"entre {low} et {high} h par semaine",
        f"{low} à {high} heures par semaine",
        f"{low}-{high}h/semaine",
        f"entre {low} et {high} h",  # the week is implied by the schedule field of a weekly role
    )
    form = rng.choice(forms)
    return form, "hours:fr-range" if "semaine" in form else "hours:fr-range-no-period"


def en_hours(rng: random.Random, hours: tuple[float, float]) -> tuple[str, str]:
    """An English expected-time label for hours a week."""
    low, high = (number(h) for h in hours)
    if low == high:
        forms: tuple[str, ...] = (f"{low} hours a week", f"{low} hours per week", f"{low} hrs/week")
        return rng.choice(forms), "hours:en-single"
    forms = (
        f"{low}-{high} hours a week",
        f"{low} to {high} hours per week",
        f"Between {low} and {high} hours a week",
    )
    return rng.choice(forms), "hours:en-range"


def hours_sentence(hours: tuple[float, float], english: bool) -> str:
    """The time commitment as a sentence of a description, for platforms without a field."""
    low, high = (number(h) for h in hours)
    if english:
        span = low if low == high else f"{low}-{high}"
        return f"Time commitment: {span} hours a week."
    span = f"{low} heures" if low == high else f"{low} à {high} heures"
    return f"Disponibilité demandée : {span} par semaine."


def paris_midnight_utc(day: date) -> datetime:
    """Midnight of `day` in Paris, as the UTC instant a platform storing instants writes."""
    return datetime.combine(day, time(0, 0), PARIS).astimezone(UTC)
