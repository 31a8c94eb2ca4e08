"""Canonical causes and skills, so missions from every partner share one vocabulary.

Causes are the 20 API Engagement domains; skills are the hub's own taxonomy for
skills-based volunteering. Partners send free labels ("Solidarité et insertion",
"health", "Développeur Web"); `map_cause` / `map_skill` turn them into slugs, or return
None so the pipeline keeps the raw label instead of guessing. Published partner vocabularies
(API Engagement's domains and activities, VolunteerMatch's and Idealist's enums) are data too,
in data/partner_labels.json, read after the hub's own names.

An operator extends all this per partner and globally (`LabelMap`, stored by hub.storage.labels):
a label is looked up in the partner's own map, then in the global synonyms, then here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files

from hub.catalogue.text import fold, stem

__all__ = [
    "CAUSES",
    "CAUSE_SLUGS",
    "KINDS",
    "PARTNER_LISTS",
    "SKILLS",
    "SKILL_SLUGS",
    "Cause",
    "LabelMap",
    "PartnerList",
    "Skill",
    "cause_label",
    "kinds_of",
    "label_key",
    "map_cause",
    "map_labels",
    "map_skill",
    "skill_family",
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


@dataclass(frozen=True, slots=True)
class PartnerList:
    """One published partner vocabulary (data/partner_labels.json), mapped onto cause or skill
    slugs; `left_unmapped` are its values deliberately not mapped, with why."""

    name: str
    kind: str  # "cause" or "skill"
    source: str
    labels: Mapping[str, str]
    left_unmapped: Mapping[str, str] = field(default_factory=dict)


def _load_partner_lists() -> tuple[PartnerList, ...]:
    text = (files("hub.catalogue") / "data" / "partner_labels.json").read_text(encoding="utf-8")
    return tuple(
        PartnerList(
            entry["name"],
            entry["kind"],
            entry["source"],
            dict(entry["labels"]),
            dict(entry.get("left_unmapped", {})),
        )
        for entry in json.loads(text)["lists"]
    )


CAUSES, SKILLS = _load()
PARTNER_LISTS = _load_partner_lists()
KINDS = ("cause", "skill")

_SEPARATORS = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=65536)
def _key(label: str) -> str:
    """Folded label with punctuation collapsed, so spelling variants share one key (cached: a
    feed repeats the same few labels in every record)."""
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
_PARTNER_INDEX = {
    kind: _build_index(
        (slug, [label])
        for partner_list in PARTNER_LISTS
        if partner_list.kind == kind
        for label, slug in partner_list.labels.items()
    )
    for kind in KINDS
}
for _kind, _slugs in (("cause", CAUSE_SLUGS), ("skill", SKILL_SLUGS)):
    if not set(_PARTNER_INDEX[_kind].values()) <= _slugs:
        raise ValueError(f"partner_labels.json maps onto unknown {_kind} slugs")
_CAUSE_LABELS = {cause.slug: cause.label for cause in CAUSES}
_SKILL_LABELS = {skill.slug: skill.label for skill in SKILLS}
_SKILL_FAMILIES = {skill.slug: skill.family for skill in SKILLS}


def label_key(label: str) -> str:
    """The key labels are compared by: case, accents and punctuation folded ("POVERTY_HUNGER"
    and "Poverty & Hunger" share "poverty hunger")."""
    return _key(label)


_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


@lru_cache(maxsize=65536)
def map_cause(label: str) -> str | None:
    """The cause slug for a partner's slug, label or alias; None keeps unknown labels raw.

    An enum spelt in camelCase is the same label as its spaced or underscored form
    ("educationLiteracy" is "Education & Literacy", "EDUCATION_LITERACY").
    """
    for key in (_key(label), _key(_CAMEL_BOUNDARY.sub(" ", label))):
        found = _CAUSE_INDEX.get(key) or _PARTNER_INDEX["cause"].get(key)
        if found is not None:
            return found
    return None


@lru_cache(maxsize=65536)
def map_skill(label: str) -> str | None:
    """The skill slug for a slug, label or synonym, tolerating French plurals; else None."""
    key = _key(label)
    if not key:
        return None
    found = _SKILL_INDEX.get(key)
    if found is None:
        found = _SKILL_STEM_INDEX.get(_stem_key(label))
    if found is None:
        found = _PARTNER_INDEX["skill"].get(key)
    return found


def kinds_of(slug: str) -> tuple[str, ...]:
    """Whether `slug` is a cause, a skill, or both ("communication", "recherche"); () if neither."""
    return tuple(
        kind for kind, slugs in (("cause", CAUSE_SLUGS), ("skill", SKILL_SLUGS)) if slug in slugs
    )


_BUILT_IN: dict[str, Callable[[str], str | None]] = {"cause": map_cause, "skill": map_skill}


@dataclass(frozen=True, slots=True)
class LabelMap:
    """The operator's mappings seen by one partner: {(kind, label_key): slug} of its own map and
    of the global synonyms. Looked up in that order, then the built-in taxonomy."""

    own: Mapping[tuple[str, str], str] = field(default_factory=dict)
    shared: Mapping[tuple[str, str], str] = field(default_factory=dict)

    def map(self, kind: str, label: str) -> str | None:
        key = (kind, _key(label))
        return self.own.get(key) or self.shared.get(key) or _BUILT_IN[kind](label)

    def cause(self, label: str) -> str | None:
        return self.map("cause", label)

    def skill(self, label: str) -> str | None:
        return self.map("skill", label)


def cause_label(slug: str) -> str:
    """The French display label of a cause slug (KeyError if the slug is not canonical)."""
    return _CAUSE_LABELS[slug]


def skill_label(slug: str) -> str:
    """The French display label of a skill slug (KeyError if the slug is not canonical)."""
    return _SKILL_LABELS[slug]


def skill_family(slug: str) -> str:
    """The family a skill slug is listed under (KeyError if the slug is not canonical)."""
    return _SKILL_FAMILIES[slug]


def map_labels(
    labels: Iterable[str], mapper: Callable[[str], str | None]
) -> tuple[list[str], list[str]]:
    """Slugs in first-seen order, and the labels left unmapped: how the pipeline maps a draft's
    labels and how a label-mapping change re-maps stored ones."""
    slugs: list[str] = []
    left: list[str] = []
    for label in labels:
        slug = mapper(label)
        if slug is None:
            left.append(label)
        elif slug not in slugs:
            slugs.append(slug)
    return slugs, left
