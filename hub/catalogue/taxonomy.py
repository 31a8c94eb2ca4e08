"""Canonical causes and skills, so missions from every partner share one vocabulary.

Causes are the 20 API Engagement domains; skills are the hub's own taxonomy for
skills-based volunteering. Partners send free labels ("Solidarité et insertion",
"health", "Développeur Web"); `map_cause` / `map_skill` turn them into slugs, or return
None so the pipeline keeps the raw label instead of guessing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.resources import files

from hub.catalogue.text import fold, stem

__all__ = [
    "CAUSES",
    "CAUSE_SLUGS",
    "SKILLS",
    "SKILL_SLUGS",
    "Cause",
    "Skill",
    "cause_label",
    "map_cause",
    "map_skill",
    "skill_label",
]


@dataclass(frozen=True, slots=True)
class Cause:
    """One API Engagement domain, with the labels partners write for it."""

    slug: str
    label: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Skill:
    """One canonical skill, with the job titles and tool words partners write for it."""

    slug: str
    label: str
    synonyms: tuple[str, ...] = ()
    family: str = ""  # the group the skill is listed under ("Numérique", ...)


def _load() -> tuple[tuple[Cause, ...], tuple[Skill, ...]]:
    """The taxonomies are data (hub/catalogue/data/causes.json and skills.json), read once."""
    data = files("hub.catalogue") / "data"
    causes = json.loads((data / "causes.json").read_text(encoding="utf-8"))
    skills = json.loads((data / "skills.json").read_text(encoding="utf-8"))
    return (
        tuple(Cause(c["slug"], c["label"], tuple(c["aliases"])) for c in causes),
        tuple(Skill(s["slug"], s["label"], tuple(s["synonyms"]), s["family"]) for s in skills),
    )


CAUSES, SKILLS = _load()

_SEPARATORS = re.compile(r"[^a-z0-9]+")


def _key(label: str) -> str:
    """Folded label with punctuation collapsed, so spelling variants share one key."""
    return " ".join(part for part in _SEPARATORS.split(fold(label)) if part)


def _stem_key(label: str) -> str:
    """`_key` with each word stemmed, so "comptables" finds "comptable"."""
    return " ".join(stem(part) for part in _key(label).split())


def _build_index(
    entries: Iterable[tuple[str, Iterable[str]]], key: Callable[[str], str] = _key
) -> dict[str, str]:
    """Map each name's key to its slug; raise on a key claimed by two slugs, never pick one."""
    index: dict[str, str] = {}
    for slug, names in entries:
        for name in names:
            k = key(name)
            if not k:
                raise ValueError(f"taxonomy name {name!r} of {slug!r} has an empty key")
            other = index.setdefault(k, slug)
            if other != slug:
                raise ValueError(f"taxonomy name {name!r} ({k!r}) maps to {other!r} and {slug!r}")
    return index


def _cause_names(cause: Cause) -> tuple[str, ...]:
    """Every name that should find this cause."""
    return (cause.slug, cause.label, *cause.aliases)


def _skill_names(skill: Skill) -> tuple[str, ...]:
    """Every name that should find this skill."""
    return (skill.slug, skill.label, *skill.synonyms)


CAUSE_SLUGS: frozenset[str] = frozenset(cause.slug for cause in CAUSES)
SKILL_SLUGS: frozenset[str] = frozenset(skill.slug for skill in SKILLS)
if len(CAUSE_SLUGS) != len(CAUSES) or len(SKILL_SLUGS) != len(SKILLS):
    raise ValueError("taxonomy slugs must be unique")

_CAUSE_INDEX = _build_index((c.slug, _cause_names(c)) for c in CAUSES)
_SKILL_INDEX = _build_index((s.slug, _skill_names(s)) for s in SKILLS)
_SKILL_STEM_INDEX = _build_index(((s.slug, _skill_names(s)) for s in SKILLS), _stem_key)
_CAUSE_LABELS = {cause.slug: cause.label for cause in CAUSES}
_SKILL_LABELS = {skill.slug: skill.label for skill in SKILLS}


def map_cause(label: str) -> str | None:
    """The cause slug for a partner's slug, label or alias; None keeps unknown labels raw."""
    return _CAUSE_INDEX.get(_key(label))


def map_skill(label: str) -> str | None:
    """The skill slug for a slug, label or synonym, tolerating French plurals; else None."""
    key = _key(label)
    if not key:
        return None
    found = _SKILL_INDEX.get(key)
    if found is None:
        found = _SKILL_STEM_INDEX.get(_stem_key(label))
    return found


def cause_label(slug: str) -> str:
    """The French display label of a cause slug (KeyError if the slug is not canonical)."""
    return _CAUSE_LABELS[slug]


def skill_label(slug: str) -> str:
    """The French display label of a skill slug (KeyError if the slug is not canonical)."""
    return _SKILL_LABELS[slug]
